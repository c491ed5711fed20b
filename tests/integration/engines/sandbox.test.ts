import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SandboxEngine, type SandboxEngineOptions } from '../../../src/actors/engines/sandbox.js';
import { createLogger } from '../../../src/domain/log.js';
import type { Simulator } from '../../../src/simulator/server.js';
import { createPhone, phoneApi, recordEngine, startSimulator, type PhoneApi } from '../simulator/harness.js';

let sim: Simulator;
let api: PhoneApi;
const engines: SandboxEngine[] = [];

function engine(credentials: string | null, opts: Partial<SandboxEngineOptions> = {}): SandboxEngine {
  const e = new SandboxEngine({
    tenantId: 'tenant-1',
    credentials,
    log: createLogger({ level: 'silent' }),
    url: sim.url,
    reconnect: { initialMs: 20, maxMs: 200 },
    ...opts,
  });
  engines.push(e);
  return e;
}

/** Start a fresh engine, scan its first QR with `number`'s phone, wait for ready. */
async function linked(number: string) {
  const e = engine(null);
  const rec = recordEngine(e);
  await e.start();
  const { qr } = await rec.next('qr');
  expect((await api.post(`/phones/${number}/link`, { qr })).status).toBe(200);
  const { credentials } = await rec.next('authenticated');
  await rec.next('ready');
  return { engine: e, rec, credentials };
}

beforeAll(async () => {
  sim = await startSimulator({ qrTimings: { firstMs: 5_000, nextMs: 5_000, maxQrs: 2 } });
  api = phoneApi(sim.url);
});
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
});
afterAll(async () => {
  await sim.close();
});

describe('SandboxEngine', () => {
  it('links through a QR scanned by the phone and syncs the chats and messages sent before linking', async () => {
    const ann = await createPhone(api, 'Ann');
    const bob = await createPhone(api, 'Bob');
    const earlier = (await api.post(`/phones/${bob}/messages`, { to: ann, body: 'sent before linking' })).body as { id: string };

    const { engine: e, rec, credentials } = await linked(ann);
    expect(credentials).toMatch(/^sim1\./);
    expect(e.credentials).toBe(credentials);
    expect(e.state).toBe('connected');
    const chats = await rec.next('chats');
    expect(chats.chats).toEqual([
      expect.objectContaining({ id: `${bob}@c.us`, name: 'Bob', isGroup: false, unreadCount: 1, lastMessagePreview: 'sent before linking' }),
    ]);
    expect(chats.messages).toEqual([
      expect.objectContaining({ id: earlier.id, chatId: `${bob}@c.us`, from: `${bob}@c.us`, fromMe: false, body: 'sent before linking', ack: 2 }),
    ]);
    expect(rec.events.find((ev) => ev.type === 'ready')).toEqual({ type: 'ready', me: { number: ann, name: 'Ann' } });
    const order = rec.types().filter((t) => t !== 'state');
    expect(order).toEqual(['qr', 'authenticated', 'chats', 'ready']);
  });

  it('ends linking with disconnected qr_timeout when no phone scans any QR', async () => {
    const quick = await startSimulator({ qrTimings: { firstMs: 100, nextMs: 50, maxQrs: 2 } });
    try {
      const e = engine(null, { url: quick.url });
      const rec = recordEngine(e);
      await e.start();
      expect(await rec.next('disconnected')).toEqual({ type: 'disconnected', reason: 'qr_timeout', willReconnect: false });
      await rec.next('state', (s) => s.state === 'disconnected');
      expect(rec.events.filter((ev) => ev.type === 'qr')).toHaveLength(2);
    } finally {
      await quick.close();
    }
  });

  it('reconnects with stored credentials without a QR and receives what arrived while offline', async () => {
    const ann = await createPhone(api, 'Ann');
    const bob = await createPhone(api, 'Bob');
    const first = await linked(ann);
    await first.engine.stop();
    expect(first.engine.state).toBe('stopped');
    await sim.until(() => sim.phone(ann)?.online === false);

    const queuedBefore = sim.stats().queued;
    const offline = (await api.post(`/phones/${bob}/messages`, { to: ann, body: 'while you were away' })).body as { id: string };
    const typedOnPhone = (await api.post(`/phones/${ann}/messages`, { to: bob, body: 'typed on my phone' })).body as { id: string };
    expect(sim.stats().queued).toBe(queuedBefore + 2);

    const e = engine(first.credentials);
    const rec = recordEngine(e);
    await e.start();
    await rec.next('ready');
    const inbound = await rec.next('message', (m) => m.message.id === offline.id);
    expect(inbound.message).toMatchObject({ chatId: `${bob}@c.us`, fromMe: false, body: 'while you were away' });
    const own = await rec.next('message', (m) => m.message.id === typedOnPhone.id);
    expect(own.message).toMatchObject({ chatId: `${bob}@c.us`, from: `${ann}@c.us`, fromMe: true });
    expect(rec.types()).not.toContain('qr');
  });

  it('acks a message only after the listener resolved, so a failed listener gets it again with the same id', async () => {
    const ann = await createPhone(api, 'Ann');
    const bob = await createPhone(api, 'Bob');
    const first = await linked(ann);
    let persisted = 0;
    first.engine.on('message', async () => {
      throw new Error('database down');
    });
    const { id } = (await api.post(`/phones/${bob}/messages`, { to: ann, body: 'persist me' })).body as { id: string };
    await first.rec.next('message', (m) => m.message.id === id);
    await first.engine.stop();
    await sim.until(() => sim.phone(ann)?.online === false);
    expect(sim.phone(ann)?.pendingDeliveries).toBe(1);

    const e = engine(first.credentials);
    const rec = recordEngine(e);
    e.on('message', async () => {
      persisted += 1;
    });
    await e.start();
    const again = await rec.next('message', (m) => m.message.id === id);
    expect(again.redelivery).toBe(true);
    expect(persisted).toBe(1);
    await sim.until(() => sim.phone(ann)?.pendingDeliveries === 0);
    await e.stop();
    await sim.until(() => sim.phone(ann)?.online === false);

    // Acked now: the next connection gets only what is new, not the old message again.
    const third = engine(first.credentials);
    const rec3 = recordEngine(third);
    await third.start();
    await rec3.next('ready');
    const fresh = (await api.post(`/phones/${bob}/messages`, { to: ann, body: 'new' })).body as { id: string };
    await rec3.next('message', (m) => m.message.id === fresh.id);
    expect(rec3.events.filter((ev) => ev.type === 'message').map((ev) => ev.type === 'message' && ev.message.id)).toEqual([fresh.id]);
  });

  it('reconnects by itself after a network drop and keeps working', async () => {
    const ann = await createPhone(api, 'Ann');
    const bob = await createPhone(api, 'Bob');
    const { engine: e, rec } = await linked(ann);
    expect((await api.post(`/testing/phones/${ann}/drop`)).status).toBe(204);
    expect(await rec.next('disconnected')).toEqual({ type: 'disconnected', reason: 'network', willReconnect: true });
    await rec.next('state', (s) => s.state === 'reconnecting');
    await rec.next('ready');
    const { id } = (await api.post(`/phones/${bob}/messages`, { to: ann, body: 'after the drop' })).body as { id: string };
    expect((await rec.next('message', (m) => m.message.id === id)).message.body).toBe('after the drop');
    expect(e.state).toBe('connected');
  });

  it('reports conflict to the replaced engine, which stops instead of reconnecting, and the simulator counts it', async () => {
    const ann = await createPhone(api, 'Ann');
    const first = await linked(ann);
    const conflicts = sim.stats().conflicts;
    const second = engine(first.credentials);
    const rec2 = recordEngine(second);
    await second.start();
    expect(await first.rec.next('disconnected')).toEqual({ type: 'disconnected', reason: 'conflict', willReconnect: false });
    await first.rec.next('state', (s) => s.state === 'disconnected');
    await rec2.next('ready');
    expect(first.engine.credentials).toBe(first.credentials);
    expect(sim.stats().conflicts).toBe(conflicts + 1);
    await expect(first.engine.sendMessage(`${ann}@c.us`, { body: 'x' })).rejects.toMatchObject({ code: 'WA_SESSION_NOT_RUNNING' });
    // The second connection still holds the account: the first did not come back and take it.
    const log = (await api.get('/stats/connections')).body as { connections: Array<{ number: string; endReason: string | null }> };
    expect(log.connections.filter((c) => c.number === ann).map((c) => c.endReason)).toEqual(['conflict', null]);
  });

  it('sends to a phone and reports delivered and read acks', async () => {
    const ann = await createPhone(api, 'Ann');
    const bob = await createPhone(api, 'Bob');
    const { engine: e, rec } = await linked(ann);
    const sent = await e.sendMessage(`${bob}@c.us`, { body: 'hi Bob' });
    expect(sent.message).toMatchObject({ id: sent.id, chatId: `${bob}@c.us`, from: `${ann}@c.us`, fromMe: true, ack: 1, type: 'chat' });
    expect(new Date(sent.timestamp).toISOString()).toBe(sent.timestamp);

    const inbox = (await api.get(`/phones/${bob}/messages`)).body as { messages: Array<{ id: string; body: string }> };
    expect(inbox.messages).toEqual([expect.objectContaining({ id: sent.id, body: 'hi Bob' })]);
    expect(await rec.next('message_ack', (a) => a.id === sent.id)).toEqual({ type: 'message_ack', id: sent.id, chatId: `${bob}@c.us`, ack: 2 });
    // Its own send comes as a message event too, before any ack of it, so a persisting listener has the row first.
    const own = rec.events.findIndex((ev) => ev.type === 'message' && ev.message.id === sent.id);
    const firstAck = rec.events.findIndex((ev) => ev.type === 'message_ack' && ev.id === sent.id);
    expect(own).toBeGreaterThanOrEqual(0);
    expect(own).toBeLessThan(firstAck);
    expect(rec.events[own]).toMatchObject({ message: { fromMe: true, ack: 1, body: 'hi Bob' }, redelivery: false });
    await api.post(`/phones/${bob}/read`, { chatId: `${ann}@c.us` });
    expect((await rec.next('message_ack', (a) => a.id === sent.id)).ack).toBe(3);
  });

  it('turns a phone-side unlink into disconnected logged_out and drops the credentials for good', async () => {
    const ann = await createPhone(api, 'Ann');
    const { engine: e, rec, credentials } = await linked(ann);
    expect((await api.post(`/phones/${ann}/unlink`)).status).toBe(204);
    expect(await rec.next('disconnected')).toEqual({ type: 'disconnected', reason: 'logged_out', willReconnect: false });
    expect(e.credentials).toBeNull();

    const stale = engine(credentials);
    const rec2 = recordEngine(stale);
    await stale.start();
    expect(await rec2.next('disconnected')).toMatchObject({ reason: 'logged_out', willReconnect: false });
  });

  it('logs out from the engine, which unlinks the phone', async () => {
    const ann = await createPhone(api, 'Ann');
    const { engine: e, rec } = await linked(ann);
    await e.logout();
    expect(e.credentials).toBeNull();
    expect((await rec.next('disconnected')).reason).toBe('logged_out');
    expect((await api.get(`/phones/${ann}`)).body).toMatchObject({ linked: false });
  });

  it('downloads media and profile photos, and sends media a phone can see', async () => {
    const ann = await createPhone(api, 'Ann');
    const bob = await createPhone(api, 'Bob');
    const photo = Buffer.from('png-bytes-of-bob');
    await api.put(`/phones/${bob}/photo`, { mimetype: 'image/png', dataBase64: photo.toString('base64') });
    const { engine: e, rec } = await linked(ann);

    const got = await e.getProfilePhoto(`${bob}@c.us`);
    expect(got?.mimetype).toBe('image/png');
    expect(Buffer.from(got?.data ?? []).equals(photo)).toBe(true);
    expect(await e.getProfilePhoto(`${ann}@c.us`)).toBeNull();

    const pdf = Buffer.from('%PDF-1.4 tiny');
    const media = { mimetype: 'application/pdf', filename: 'invoice.pdf', dataBase64: pdf.toString('base64') };
    const { id } = (await api.post(`/phones/${bob}/messages`, { to: ann, body: 'the invoice', media })).body as { id: string };
    const msg = await rec.next('message', (m) => m.message.id === id);
    expect(msg.message).toMatchObject({ type: 'document', hasMedia: true, body: 'the invoice' });
    expect(msg.media).toEqual({ mimetype: 'application/pdf', filename: 'invoice.pdf', size: pdf.length });
    const file = await e.downloadMedia(id);
    expect(file?.filename).toBe('invoice.pdf');
    expect(Buffer.from(file?.data ?? []).equals(pdf)).toBe(true);
    expect(await e.downloadMedia('3EB0NOSUCHMESSAGE')).toBeNull();

    const image = new Uint8Array([137, 80, 78, 71, 1, 2, 3]);
    const sent = await e.sendMessage(`${bob}@c.us`, { body: '', media: { mimetype: 'image/png', filename: 'a.png', data: image } });
    expect(sent.message).toMatchObject({ type: 'image', hasMedia: true });
    const inbox = (await api.get(`/phones/${bob}/messages`)).body as { messages: Array<{ id: string; media: unknown }> };
    expect(inbox.messages.find((m) => m.id === sent.id)?.media).toEqual({ mimetype: 'image/png', filename: 'a.png', size: image.length });
  });

  it('rejects commands it cannot serve with coded errors instead of hanging', async () => {
    const ann = await createPhone(api, 'Ann');
    const idle = engine(null);
    await expect(idle.sendMessage(`${ann}@c.us`, { body: 'x' })).rejects.toMatchObject({ code: 'WA_SESSION_NOT_RUNNING' });
    const { engine: e } = await linked(ann);
    await expect(e.sendMessage('12345678901@c.us', { body: 'x' })).rejects.toMatchObject({ code: 'WA_NOT_FOUND' });
    await expect(e.sendMessage('not-a-chat', { body: 'x' })).rejects.toMatchObject({ code: 'WA_VALIDATION' });
    await expect(e.sendMessage(`${ann}@c.us`, { body: 'to myself' })).rejects.toMatchObject({ code: 'WA_VALIDATION' });
  });

  it('stops idempotently and emits stopped once', async () => {
    const ann = await createPhone(api, 'Ann');
    const { engine: e, rec } = await linked(ann);
    await Promise.all([e.stop(), e.stop()]);
    await e.stop();
    expect(rec.events.filter((ev) => ev.type === 'state' && ev.state === 'stopped')).toHaveLength(1);
    await sim.until(() => sim.phone(ann)?.online === false);
    expect(sim.phone(ann)?.linked).toBe(true);
  });
});
