import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/domain/types.js';
import { api, phone } from '../helpers/client.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { contacts, linkTenant, type LinkedTenant } from '../security/support/link.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

/**
 * The connection between the gateway and WhatsApp (the simulator) is cut: once by the network's own
 * drop hook, then for longer by a proxy that refuses every reconnection for a while. The session
 * reconnects on its own, with growing delays, and nothing sent meanwhile is lost.
 */

let proxy: TcpProxy;
let stack: TestStack;
let tenant: LinkedTenant;
let contact: string;

beforeAll(async () => {
  proxy = await startTcpProxy();
  // The node reaches the simulator through the proxy; the test's phones talk to it directly.
  stack = await startTestStack({ env: { SIM_URL: proxy.url } });
  const sim = new URL(stack.simUrl);
  proxy.target = { host: sim.hostname, port: Number(sim.port) };
  tenant = await linkTenant(stack.url, stack.simUrl, 'Cut');
  [contact] = (await contacts(stack.simUrl, 1, 'Patient')) as [string];
});

afterAll(async () => {
  tenant?.socket.close();
  await stack?.close();
  await proxy?.close();
});

async function write(body: string): Promise<string> {
  const res = await phone(stack.simUrl, 'POST', `/phones/${contact}/messages`, { to: tenant.number, body });
  return (res.body as { id: string }).id;
}

/** Reconnect delays the engine logged (`simulator connection lost, reconnecting`), from `from` on. */
function reconnects(from: number): { attempt: number; delayMs: number }[] {
  return stack.logs.slice(from).flatMap((line) => {
    const entry = JSON.parse(line) as { msg?: string; attempt?: number; delayMs?: number };
    return entry.msg === 'simulator connection lost, reconnecting' && entry.attempt !== undefined && entry.delayMs !== undefined
      ? [{ attempt: entry.attempt, delayMs: entry.delayMs }]
      : [];
  });
}

describe('the connection to WhatsApp is cut', () => {
  it('reconnects after a dropped socket and delivers what was sent meanwhile', async () => {
    const from = tenant.socket.events.length;
    const drop = await phone(stack.simUrl, 'POST', `/testing/phones/${tenant.number}/drop`);
    expect(drop.status).toBe(204);
    const during = await write('while dropped');
    await tenant.socket.next<{ status: string }>('session_status', (s) => s.status === 'disconnected', { from });
    await tenant.socket.next<{ status: string }>('session_status', (s) => s.status === 'connected', { from });
    await tenant.socket.next<Message>('message', (m) => m.id === during, { from });
  });

  it('keeps retrying with growing delays while the network refuses it, then catches up', async () => {
    const logFrom = stack.logs.length;
    const from = tenant.socket.events.length;
    proxy.cut();
    await tenant.socket.next<{ status: string }>('session_status', (s) => s.status === 'disconnected', { from });
    // Messages queue up on the network while the session is away.
    const queued = [await write('queued 1'), await write('queued 2'), await write('queued 3')];
    // Four refused reconnections, 125-250, 250-500, 500-1000 and 1000-2000 ms apart (exponential
    // backoff with equal jitter); the fifth, 2-4 s later, goes through.
    await new Promise<void>((resolve) => {
      const check = (n: number) => {
        if (n < 4) return;
        proxy.off('attempt', check);
        resolve();
      };
      proxy.on('attempt', check);
    });
    proxy.resume();
    await tenant.socket.next<{ status: string }>('session_status', (s) => s.status === 'connected', { from, timeoutMs: 40_000 });
    for (const id of queued) await tenant.socket.next<Message>('message', (m) => m.id === id, { from });

    const delays = reconnects(logFrom);
    expect(delays.length).toBeGreaterThanOrEqual(5);
    for (const { attempt, delayMs } of delays) {
      const ceiling = Math.min(30_000, 250 * 2 ** (attempt - 1));
      expect(delayMs, `attempt ${attempt}`).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delayMs, `attempt ${attempt}`).toBeLessThanOrEqual(ceiling);
    }
    expect(delays.map((d) => d.attempt)).toEqual(delays.map((_, i) => i + 1));
    // Sends work again through the restored connection.
    const reply = await api(stack.url, 'POST', `/api/chats/${contact}@c.us/messages`, { token: tenant.admin.accessToken, body: { body: 'back' } });
    expect(reply.status).toBe(201);
    console.info(`faults: simulator connection dropped once and refused ${proxy.refused} reconnections; ${queued.length + 1} queued messages delivered, 0 lost`);
  }, 60_000);
});
