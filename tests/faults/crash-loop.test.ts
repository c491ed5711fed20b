import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/domain/log.js';
import type { Message } from '../../src/domain/types.js';
import { startNode, type RunningNode } from '../../src/node.js';
import { createSimulator, type Simulator } from '../../src/simulator/server.js';
import { api, connectSocket, phone, type RecordedSocket } from '../helpers/client.js';
import { TEST_DATABASE_URL, uniqueSchemaName } from '../helpers/db.js';
import { testNodeEnv } from '../helpers/stack.js';
import { actorsIn } from '../security/support/actors.js';
import { contacts, linkTenant, type LinkedTenant } from '../security/support/link.js';
import { registerAdmin } from '../security/support/world.js';

/**
 * One tenant's actor crashes at every start (a behaviour fixture around the real session actor). The
 * supervisor restarts it with backoff, then parks it as `failed` with the reason, visible in REST and
 * on the socket, instead of looping; the node and its other tenants carry on untouched.
 */

const fixture = new URL('./fixtures/crashing-session-actor.ts', import.meta.url).href;

let sim: Simulator;
let node: RunningNode;
const schema = uniqueSchemaName('faults');
let healthy: LinkedTenant;
let customer: string;
const sockets: RecordedSocket[] = [];

beforeAll(async () => {
  const log = createLogger({ level: 'silent' });
  sim = createSimulator({ port: 0, log });
  const simUrl = await sim.listen();
  const config = loadConfig(testNodeEnv({ WA_ENGINE: 'sandbox', SIM_URL: simUrl }));
  node = await startNode({ config, log, schema, actors: { behaviorModule: fixture } });
  healthy = await linkTenant(node.url, simUrl, 'Healthy');
  sockets.push(healthy.socket);
  [customer] = (await contacts(simUrl, 1, 'Customer')) as [string];
});

afterAll(async () => {
  delete process.env.WA_TEST_CRASH_TENANTS;
  for (const s of sockets) s.close();
  try {
    await node?.close();
    await sim?.close();
  } finally {
    const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });
    await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
    await sql.end();
  }
});

async function restartsTotal(): Promise<number> {
  const metric = await node.metrics.registry.getSingleMetric('wa_actor_restarts_total')?.get();
  return (metric?.values ?? []).reduce((n, v) => n + v.value, 0);
}

describe('an actor in a crash loop', () => {
  it('is parked as failed with its reason while the node and the other tenants carry on', async () => {
    const admin = await registerAdmin(node.url, 'Doomed');
    const socket = await connectSocket(node.url, admin.accessToken);
    sockets.push(socket);
    process.env.WA_TEST_CRASH_TENANTS = admin.user.tenantId;

    const init = await api(node.url, 'POST', '/api/whatsapp/init', { token: admin.accessToken });
    expect(init.status).toBe(200);
    // Meanwhile the healthy tenant's traffic flows.
    const during = await phone(sim.url, 'POST', `/phones/${customer}/messages`, { to: healthy.number, body: 'during the crash loop' });
    const failed = await socket.next<{ status: string; reason: string | null }>('session_status', (s) => s.status === 'failed', { timeoutMs: 30_000 });
    // Why, in words an admin can act on: the cause's message, never a stack or a file path.
    expect(failed.reason).toMatch(/failed to start .*engine exploded/);
    expect(failed.reason).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
    await healthy.socket.next<Message>('message', (m) => m.id === (during.body as { id: string }).id);

    const status = await api<{ status: string; reason: string; desiredState: string }>(node.url, 'GET', '/api/whatsapp/status', { token: admin.accessToken });
    expect(status.body).toMatchObject({ status: 'failed', desiredState: 'stopped' });
    expect(status.body.reason).toBe(failed.reason);
    expect(await actorsIn(node, 'failed')).toBe(1);

    // Parked means no more restarts: the counter stands still while the node keeps working.
    const restarts = await restartsTotal();
    expect(restarts).toBeGreaterThanOrEqual(1);
    const reply = await api<Message>(node.url, 'POST', `/api/chats/${customer}@c.us/messages`, { token: healthy.admin.accessToken, body: { body: 'all good here' } });
    expect(reply.status).toBe(201);
    await healthy.socket.next<{ id: string; ack: number }>('message_ack', (a) => a.id === reply.body.id && a.ack >= 2);
    expect(await restartsTotal()).toBe(restarts);
    expect((await api(node.url, 'GET', '/healthz')).status).toBe(200);
    expect((await api(node.url, 'GET', '/readyz')).status).toBe(200);

    // Once the cause is gone, init starts it again from a clean history.
    delete process.env.WA_TEST_CRASH_TENANTS;
    const from = socket.events.length;
    expect((await api(node.url, 'POST', '/api/whatsapp/init', { token: admin.accessToken })).status).toBe(200);
    await socket.next('qr', () => true, { from });
    console.info(`faults: crash loop parked after ${restarts} restarts; the other tenant sent and received throughout`);
  }, 60_000);
});
