import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../../src/simulator/server.js';
import { createPhone, linkRaw, openRaw, phoneApi, startSimulator, type PhoneApi, type RawSession } from './harness.js';

let sim: Simulator;
let api: PhoneApi;
const sessions: RawSession[] = [];

async function open(): Promise<RawSession> {
  const s = await openRaw(sim);
  sessions.push(s);
  return s;
}
async function link(number: string): Promise<{ session: RawSession; credentials: string }> {
  const linked = await linkRaw(sim, api, number);
  sessions.push(linked.session);
  return linked;
}

beforeAll(async () => {
  sim = await startSimulator({ qrTimings: { firstMs: 300, nextMs: 100, maxQrs: 3 } });
  api = phoneApi(sim.url);
});
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await sim.close();
});

describe('simulator session protocol', () => {
  it('rotates the QR code maxQrs times, then fails linking with qr_timeout, and expired codes no longer link', async () => {
    const ann = await createPhone(api, 'Ann');
    const s = await open();
    s.send({ type: 'hello', credentials: null });
    const qrs = [await s.frames.take('qr'), await s.frames.take('qr'), await s.frames.take('qr')];
    expect(qrs.map((q) => q.index)).toEqual([0, 1, 2]);
    expect(qrs.map((q) => q.expiresInMs)).toEqual([300, 100, 100]);
    expect(new Set(qrs.map((q) => q.qr)).size).toBe(3);
    expect(await s.frames.take('link_failed')).toEqual({ type: 'link_failed', reason: 'qr_timeout' });
    expect(await s.closed).toBe(4001);
    expect(s.frames.types().filter((t) => t === 'qr')).toHaveLength(3);
    const late = await api.post(`/phones/${ann}/link`, { qr: qrs[2]?.qr });
    expect(late.status).toBe(404);
  });

  it('links when a phone scans the current QR and sends credentials, history and ready', async () => {
    const ann = await createPhone(api, 'Ann');
    const bob = await createPhone(api, 'Bob');
    await api.post(`/phones/${bob}/messages`, { to: ann, body: 'before linking' });
    const s = await open();
    s.send({ type: 'hello', credentials: null });
    const qr = await s.frames.take('qr');
    expect((await api.post(`/phones/${ann}/link`, { qr: qr.qr })).status).toBe(200);
    const auth = await s.frames.take('authenticated');
    expect(auth.me).toEqual({ number: ann, name: 'Ann' });
    const history = await s.frames.take('history');
    expect(history.chats).toEqual([expect.objectContaining({ id: `${bob}@c.us`, name: 'Bob', unreadCount: 1, lastPreview: 'before linking' })]);
    expect(history.messages.map((m) => m.body)).toEqual(['before linking']);
    await s.frames.take('ready');
    expect(s.frames.types().slice(-3)).toEqual(['authenticated', 'history', 'ready']);
  });

  it('redelivers an unacked message with the same id on the next connection, and not after an ack', async () => {
    const ann = await createPhone(api, 'Ann');
    const bob = await createPhone(api, 'Bob');
    const { session, credentials } = await link(ann);
    const sent = (await api.post(`/phones/${bob}/messages`, { to: ann, body: 'ack me' })).body as { id: string };
    const first = await session.frames.take('message');
    expect(first).toMatchObject({ message: { id: sent.id, body: 'ack me' }, redelivery: false });
    await session.close();

    const again = await open();
    again.send({ type: 'hello', credentials });
    const second = await again.frames.take('message');
    expect(second).toMatchObject({ message: { id: sent.id }, redelivery: true });
    again.send({ type: 'delivery.ack', id: sent.id });
    // A round trip through the same socket orders the ack before the stats read.
    again.send({ type: 'req.media', reqId: 1, messageId: sent.id });
    await again.frames.take('res.media');
    expect(sim.stats().pending).toBe(0);
    await again.close();

    const third = await open();
    third.send({ type: 'hello', credentials });
    await third.frames.take('ready');
    third.send({ type: 'req.media', reqId: 2, messageId: sent.id });
    await third.frames.take('res.media');
    expect(third.frames.types()).not.toContain('message');
  });

  it('takes several acks in one delivery.acks frame', async () => {
    const ann = await createPhone(api, 'Ann');
    const bob = await createPhone(api, 'Bob');
    const { session, credentials } = await link(ann);
    const ids: string[] = [];
    for (const body of ['one', 'two', 'three']) ids.push(((await api.post(`/phones/${bob}/messages`, { to: ann, body })).body as { id: string }).id);
    for (let i = 0; i < 3; i++) await session.frames.take('message');
    session.send({ type: 'delivery.acks', ids: ids.slice(0, 2) });
    session.send({ type: 'req.media', reqId: 1, messageId: ids[0] as string });
    await session.frames.take('res.media');
    expect(sim.stats().pending).toBe(1);
    await session.close();
    const again = await open();
    again.send({ type: 'hello', credentials });
    expect(await again.frames.take('message')).toMatchObject({ message: { id: ids[2] }, redelivery: true });
    await again.close();
  });

  it('resends a delivered message with the same id through the redelivery test hook', async () => {
    const ann = await createPhone(api, 'Ann');
    const bob = await createPhone(api, 'Bob');
    const { session } = await link(ann);
    const { id } = (await api.post(`/phones/${bob}/messages`, { to: ann, body: 'twice' })).body as { id: string };
    await session.frames.take('message');
    session.send({ type: 'delivery.ack', id });
    expect((await api.post(`/testing/phones/${ann}/redeliver`, { messageId: id })).status).toBe(204);
    expect(await session.frames.take('message')).toMatchObject({ message: { id }, redelivery: true });
  });

  it('delivers every message twice with the same id when started with duplicateDeliveries', async () => {
    const dup = await startSimulator({ duplicateDeliveries: true });
    try {
      const dupApi = phoneApi(dup.url);
      const ann = await createPhone(dupApi, 'Ann');
      const bob = await createPhone(dupApi, 'Bob');
      const { session } = await linkRaw(dup, dupApi, ann);
      sessions.push(session);
      const { id } = (await dupApi.post(`/phones/${bob}/messages`, { to: ann, body: 'echo' })).body as { id: string };
      const copies = [await session.frames.take('message'), await session.frames.take('message')];
      expect(copies.map((c) => [c.message.id, c.redelivery])).toEqual([
        [id, false],
        [id, true],
      ]);
      await session.close();
    } finally {
      await dup.close();
    }
  });

  it('tells the first connection conflict/replaced when a second one uses the same credentials, and counts it', async () => {
    const ann = await createPhone(api, 'Ann');
    const { session: first, credentials } = await link(ann);
    const conflictsBefore = sim.stats().conflicts;
    const second = await open();
    second.send({ type: 'hello', credentials });
    expect(await first.frames.take('conflict')).toEqual({ type: 'conflict', reason: 'replaced' });
    expect(await first.closed).toBe(4002);
    await second.frames.take('ready');
    expect(sim.stats().conflicts).toBe(conflictsBefore + 1);

    const stats = await api.get('/stats');
    expect(stats.body).toMatchObject({ conflicts: conflictsBefore + 1 });
    const log = (await api.get('/stats/connections')).body as { connections: Array<{ number: string; to: string | null; endReason: string | null }> };
    const mine = log.connections.filter((c) => c.number === ann);
    expect(mine).toHaveLength(2);
    expect(mine[0]).toMatchObject({ endReason: 'conflict', to: expect.any(String) });
    expect(mine[1]).toMatchObject({ endReason: null, to: null });
  });

  it('logs out a connection that presents unknown credentials', async () => {
    const s = await open();
    s.send({ type: 'hello', credentials: 'sim1.forged' });
    expect(await s.frames.take('logged_out')).toEqual({ type: 'logged_out', reason: 'invalid_credentials' });
    expect(await s.closed).toBe(4003);
  });

  it('closes a connection that sends a frame outside the protocol', async () => {
    const s = await open();
    s.sendText('{"type":"hello","credentials":42}');
    expect(await s.closed).toBe(4004);
  });

  it('answers requests of a session that is not linked with not_ready', async () => {
    const s = await open();
    s.send({ type: 'hello', credentials: null });
    await s.frames.take('qr');
    s.send({ type: 'req.profile_photo', reqId: 7, chatId: '4917000000@c.us' });
    expect(await s.frames.take('res.error')).toMatchObject({ reqId: 7, code: 'not_ready' });
  });
});
