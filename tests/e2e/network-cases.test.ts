import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/domain/log.js';
import type { Message } from '../../src/domain/types.js';
import { SandboxEngine } from '../../src/actors/engines/sandbox.js';
import { api, connectSocket, decodeQrDataUrl, phone, register } from '../helpers/client.js';
import { linkWithContact, type LinkedTenant } from '../helpers/link.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';

/** Network hard cases through the whole stack: REST, the node, worker actors, the simulator. */

const linkContact = (stack: TestStack): Promise<LinkedTenant> => linkWithContact(stack, '4930');

async function allMessages(stack: TestStack, token: string, chatId: string): Promise<Message[]> {
  const out: Message[] = [];
  let before: string | null = null;
  do {
    const q: string = before === null ? '?limit=200' : `?limit=200&before=${encodeURIComponent(before)}`;
    const page = await api<{ messages: Message[]; nextCursor: string | null }>(stack.url, 'GET', `/api/chats/${chatId}/messages${q}`, { token });
    out.push(...page.body.messages);
    before = page.body.nextCursor;
  } while (before !== null);
  return out;
}

function countBodies(messages: Message[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of messages) counts.set(m.body, (counts.get(m.body) ?? 0) + 1);
  return counts;
}

describe('network hard cases', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('stores a redelivered message once and emits it once', async () => {
    const t = await linkContact(stack);
    const sent = await phone(stack.simUrl, 'POST', `/phones/${t.contact}/messages`, { to: t.number, body: 'once only' });
    const id = (sent.body as { id: string }).id;
    await t.socket.next<Message>('message', (m) => m.id === id);
    expect((await phone(stack.simUrl, 'POST', `/testing/phones/${t.number}/redeliver`, { messageId: id })).status).toBe(204);
    // Sentinel: a later message arrives after the redelivery has been handled (one ordered queue per tenant).
    await phone(stack.simUrl, 'POST', `/phones/${t.contact}/messages`, { to: t.number, body: 'sentinel' });
    await t.socket.next<Message>('message', (m) => m.body === 'sentinel');
    await stack.node.sessions.drain();
    expect(t.socket.events.filter((e) => e.name === 'message' && (e.payload as Message).id === id)).toHaveLength(1);
    const stored = await allMessages(stack, t.admin.accessToken, `${t.contact}@c.us`);
    expect(stored.filter((m) => m.id === id)).toHaveLength(1);
    t.socket.close();
  });

  it('stores messages sent while the connection was down once each after it comes back', async () => {
    const t = await linkContact(stack);
    const from = t.socket.events.length;
    expect((await phone(stack.simUrl, 'POST', `/testing/phones/${t.number}/drop`)).status).toBe(204);
    const bodies = Array.from({ length: 20 }, (_, i) => `while down ${i}`);
    for (const body of bodies) await phone(stack.simUrl, 'POST', `/phones/${t.contact}/messages`, { to: t.number, body });
    await t.socket.next<Message>('message', (m) => m.body === 'while down 19', { from });
    await stack.node.sessions.drain();
    const counts = countBodies(await allMessages(stack, t.admin.accessToken, `${t.contact}@c.us`));
    for (const body of bodies) expect(counts.get(body)).toBe(1);
    const status = await api<{ status: string }>(stack.url, 'GET', '/api/whatsapp/status', { token: t.admin.accessToken });
    expect(status.body.status).toBe('connected');
    t.socket.close();
  });

  it('ends a conflict with one connected session, not a ping-pong', async () => {
    const t = await linkContact(stack);
    // An intruder connects with the same credentials (a stale node, a copied session).
    const [row] = await stack.node.store.sessions.loadCredentials(t.admin.user.tenantId).then((c) => [c]);
    expect(row).not.toBeNull();
    const intruder = new SandboxEngine({
      tenantId: 'intruder',
      credentials: new TextDecoder().decode(row as Uint8Array),
      log: createLogger({ level: 'silent' }),
      url: stack.simUrl,
    });
    const conflictsBefore = stack.sim.stats().conflicts;
    await intruder.start();
    await t.socket.next<{ status: string; reason: string | null }>('session_status', (s) => s.status === 'disconnected' && s.reason === 'conflict');
    expect(stack.sim.stats().conflicts).toBe(conflictsBefore + 1);

    // The admin takes the account back; the intruder is replaced and does not fight back.
    const from = t.socket.events.length;
    await api(stack.url, 'POST', '/api/whatsapp/init', { token: t.admin.accessToken });
    await t.socket.next<{ status: string }>('session_status', (s) => s.status === 'connected', { from });
    await phone(stack.simUrl, 'POST', `/phones/${t.contact}/messages`, { to: t.number, body: 'after the conflict' });
    await t.socket.next<Message>('message', (m) => m.body === 'after the conflict', { from });
    expect(stack.sim.stats().conflicts).toBe(conflictsBefore + 2);
    expect(intruder.state).toBe('disconnected');
    await intruder.stop();
    t.socket.close();
  });
});

describe('QR expiry', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ sim: { qrTimings: { firstMs: 400, nextMs: 200, maxQrs: 3 } } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('rotates an unscanned QR and reports failed after the last one', async () => {
    const admin = await register(stack.url, 'Slow');
    const socket = await connectSocket(stack.url, admin.accessToken);
    await api(stack.url, 'POST', '/api/whatsapp/init', { token: admin.accessToken });
    const failed = await socket.next<{ status: string; reason: string }>('session_status', (s) => s.status === 'failed', { timeoutMs: 10_000 });
    expect(failed.reason).toMatch(/qr_timeout/);
    const qrs = socket.events.filter((e) => e.name === 'qr').map((e) => decodeQrDataUrl(e.payload as string));
    expect(qrs).toHaveLength(3);
    expect(new Set(qrs).size).toBe(3);
    await stack.node.sessions.drain();
    const status = await api<{ status: string; desiredState: string }>(stack.url, 'GET', '/api/whatsapp/status', { token: admin.accessToken });
    expect(status.body).toMatchObject({ status: 'failed', desiredState: 'stopped' });
    socket.close();
  });
});

describe('a restart of the whole server', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('brings every linked session back without a QR and loses nothing received around it', async () => {
    const tenants = [await linkContact(stack), await linkContact(stack)];
    for (const t of tenants) {
      await phone(stack.simUrl, 'POST', `/phones/${t.contact}/messages`, { to: t.number, body: 'before restart' });
      await t.socket.next<Message>('message', (m) => m.body === 'before restart');
      t.socket.close();
    }
    await stack.node.close();
    // While the server is down, the contacts keep writing: the network queues it.
    for (const t of tenants) {
      for (let i = 0; i < 5; i++) await phone(stack.simUrl, 'POST', `/phones/${t.contact}/messages`, { to: t.number, body: `while restarting ${i}` });
    }
    await stack.restartNode();
    for (const t of tenants) {
      const socket = await connectSocket(stack.url, t.admin.accessToken);
      await waitForStatus(stack, t.admin.accessToken, 'connected');
      await phone(stack.simUrl, 'POST', `/phones/${t.contact}/messages`, { to: t.number, body: 'after restart' });
      await socket.next<Message>('message', (m) => m.body === 'after restart');
      expect(socket.events.some((e) => e.name === 'qr')).toBe(false);
      await stack.node.sessions.drain();
      const counts = countBodies(await allMessages(stack, t.admin.accessToken, `${t.contact}@c.us`));
      expect(counts.get('before restart')).toBe(1);
      for (let i = 0; i < 5; i++) expect(counts.get(`while restarting ${i}`)).toBe(1);
      expect(counts.get('after restart')).toBe(1);
      socket.close();
    }
  });
});

/** Waits for a session status through the status route, re-asked after each status event of a socket. */
async function waitForStatus(stack: TestStack, token: string, status: string): Promise<void> {
  const socket = await connectSocket(stack.url, token);
  try {
    const now = await api<{ status: string }>(stack.url, 'GET', '/api/whatsapp/status', { token });
    if (now.body.status === status) return;
    await socket.next<{ status: string }>('session_status', (s) => s.status === status);
  } finally {
    socket.close();
  }
}
