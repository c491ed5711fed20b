import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookEventName } from '../../../src/domain/types.js';
import { createWebhookQueue } from '../../../src/store/webhooks.js';
import { verifySignature } from '../../../src/webhooks/signature.js';
import type { WebhookWorker } from '../../../src/webhooks/worker.js';
import { createTestDatabase, seedTenant, type TestDatabase } from '../../helpers/db.js';
import { startReceiver, type Receiver } from './receiver.js';
import { startWorker, storeMessages } from './helpers.js';

/**
 * Webhook delivery against real local HTTP receivers and the real PostgreSQL: signatures, retries,
 * give-ups, disabling, order and the per-endpoint concurrency window. Workers run in this process (each
 * one is what a node runs); the crash case with a real node process is in crash.test.ts.
 */
let db: TestDatabase;
const open: { workers: WebhookWorker[]; receivers: Receiver[] } = { workers: [], receivers: [] };

beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 8 });
});
afterEach(async () => {
  for (const w of open.workers.splice(0)) await w.close();
  for (const r of open.receivers.splice(0)) await r.close();
});
afterAll(async () => {
  await db?.close();
});

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  open.receivers.push(r);
  return r;
}
function worker(nodeId: string, options: Parameters<typeof startWorker>[2] = {}): WebhookWorker {
  const w = startWorker(db, nodeId, options);
  open.workers.push(w);
  return w;
}
async function tenantWithWebhook(url: string, opts: { events?: WebhookEventName[]; secret?: string; maxConcurrency?: number } = {}) {
  const { tenantId } = await seedTenant(db.store);
  const webhook = await db.store.webhooks.create(tenantId, {
    url,
    events: opts.events ?? ['message'],
    secret: opts.secret ?? 'test-secret-0123456789',
    enabled: true,
    maxConcurrency: opts.maxConcurrency ?? 1,
  });
  return { tenantId, webhook };
}

describe('webhook delivery', () => {
  it('signs each delivery with HMAC-SHA256 over timestamp and body, verifiable with the endpoint secret', async () => {
    const r = await receiver();
    const secret = 'whsec_correct-horse-battery-staple';
    const { tenantId } = await tenantWithWebhook(r.url, { secret });
    worker('node-a');
    const [sent] = await storeMessages(db.store, tenantId, 1, 'signed');
    await r.until((got) => got.length === 1);
    const got = r.received[0]!;

    const header = String(got.headers['x-wa-signature']);
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
    expect(match).not.toBeNull();
    // An independent check, as a receiver would write it: HMAC-SHA256(secret, `${t}.${raw body}`).
    const expected = createHmac('sha256', secret).update(`${match![1]}.${got.body}`).digest('hex');
    expect(match![2]).toBe(expected);
    expect(verifySignature(secret, header, got.body)).toBe(true);
    expect(verifySignature('another-secret-0123456', header, got.body)).toBe(false);
    expect(verifySignature(secret, header, got.body.replace('signed', 'forged'))).toBe(false);
    expect(verifySignature(secret, header, got.body, { nowS: Number(match![1]) + 3600 })).toBe(false);

    expect(got.json).toMatchObject({ event: 'message', tenantId, payload: { id: sent!.id, body: 'signed 1' } });
    expect(got.json.id).toBe(`${tenantId}:${got.json.seq}`);
    expect(got.headers['x-wa-event-id']).toBe(got.json.id);
    expect(got.headers['content-type']).toBe('application/json');
  });

  it('delivers an event after retries to a receiver that fails the first three times, with the same id and body', async () => {
    const r = await receiver();
    r.answer = (_req, index) => (index < 3 ? 503 : 200);
    const { tenantId, webhook } = await tenantWithWebhook(r.url);
    worker('node-a');
    await storeMessages(db.store, tenantId, 1, 'retried');
    await r.until((got) => got.some((g) => g.status === 200));

    expect(r.received.map((g) => g.status)).toEqual([503, 503, 503, 200]);
    expect(new Set(r.received.map((g) => g.json.id)).size).toBe(1);
    expect(new Set(r.received.map((g) => g.body)).size).toBe(1);
    expect(r.received.map((g) => g.headers['x-wa-delivery-attempt'])).toEqual(['1', '2', '3', '4']);
    await expect
      .poll(async () => (await db.store.webhooks.deliveries(tenantId, webhook.id, { limit: 10 }))[0]?.state)
      .toBe('succeeded');
    const [delivery] = await db.store.webhooks.deliveries(tenantId, webhook.id, { limit: 10 });
    expect(delivery?.attempts.map((a) => a.statusCode)).toEqual([503, 503, 503, 200]);
    expect(delivery?.eventId).toBe(r.received[0]!.json.id);
  });

  it('keeps the tenant order with two nodes delivering while the receiver fails every third request', async () => {
    const r = await receiver();
    r.answer = (_req, index) => (index % 3 === 2 ? 500 : 200);
    const { tenantId } = await tenantWithWebhook(r.url);
    worker('node-a');
    worker('node-b');
    await storeMessages(db.store, tenantId, 30, 'ordered');
    await r.until((got) => got.filter((g) => g.status === 200).length === 30);

    const delivered = r.received.filter((g) => g.status === 200).map((g) => g.json.seq);
    expect(delivered).toEqual([...delivered].sort((a, b) => a - b));
    expect(new Set(delivered).size).toBe(30);
    // Every request, retries included, went out in seq order: a failed event held back the later ones.
    const all = r.received.map((g) => g.json.seq);
    for (let i = 1; i < all.length; i++) expect(all[i]).toBeGreaterThanOrEqual(all[i - 1]!);
    expect(r.received.some((g) => g.status === 500)).toBe(true);
  });

  it('disables an endpoint that answers 410, says why, and stops delivering to it', async () => {
    const gone = await receiver();
    gone.answer = () => 410;
    const healthy = await receiver();
    const { tenantId, webhook } = await tenantWithWebhook(gone.url);
    await db.store.webhooks.create(tenantId, { url: healthy.url, events: ['message'], secret: 'other-secret-0123456', enabled: true, maxConcurrency: 1 });
    worker('node-a');
    await storeMessages(db.store, tenantId, 1, 'first');
    await expect.poll(async () => (await db.store.webhooks.get(tenantId, webhook.id))?.enabled).toBe(false);
    expect((await db.store.webhooks.get(tenantId, webhook.id))?.disabledReason).toMatch(/410/);

    await storeMessages(db.store, tenantId, 2, 'later');
    // Sentinel: the healthy endpoint got the later events, so the worker has run past them.
    await healthy.until((got) => got.length === 3);
    expect(gone.received).toHaveLength(1);
    const deliveries = await db.store.webhooks.deliveries(tenantId, webhook.id, { limit: 10 });
    expect(deliveries.map((d) => [d.state, d.attempts.length, d.lastStatus])).toEqual([['failed', 1, 410]]);
  });

  it('gives up an event the receiver refuses with 400 after one attempt and goes on with the next', async () => {
    const r = await receiver();
    r.answer = (_req, index) => (index === 0 ? 400 : 200);
    const { tenantId, webhook } = await tenantWithWebhook(r.url);
    worker('node-a');
    await storeMessages(db.store, tenantId, 2, 'refused');
    await r.until((got) => got.length === 2);
    expect(r.received.map((g) => [g.json.payload && (g.json.payload as { body: string }).body, g.status])).toEqual([
      ['refused 1', 400],
      ['refused 2', 200],
    ]);
    await expect.poll(async () => (await db.store.webhooks.deliveries(tenantId, webhook.id, { limit: 10 })).map((d) => d.state)).toEqual(['succeeded', 'failed']);
    expect((await db.store.webhooks.get(tenantId, webhook.id))?.enabled).toBe(true);
  });

  it('disables an endpoint whose every attempt failed for longer than allowed, with the reason', async () => {
    const r = await receiver();
    r.answer = () => 503;
    const { tenantId, webhook } = await tenantWithWebhook(r.url);
    worker('node-a', { disableAfterMs: 300 });
    await storeMessages(db.store, tenantId, 1, 'doomed');
    await expect.poll(async () => (await db.store.webhooks.get(tenantId, webhook.id))?.enabled, { timeout: 10_000 }).toBe(false);
    const disabled = await db.store.webhooks.get(tenantId, webhook.id);
    expect(disabled?.disabledReason).toMatch(/^every attempt failed since .+; last: HTTP 503$/);
    expect(r.received.length).toBeGreaterThan(1);

    // Enabling it again clears the reason and the failure streak.
    const enabled = await db.store.webhooks.update(tenantId, webhook.id, { enabled: true });
    expect(enabled).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
  });

  it('gives a delivery up once its retry window has passed', async () => {
    const r = await receiver();
    r.answer = () => 500;
    const { tenantId, webhook } = await tenantWithWebhook(r.url);
    worker('node-a', { retryWindowMs: 300 });
    await storeMessages(db.store, tenantId, 1, 'expiring');
    await expect.poll(async () => (await db.store.webhooks.deliveries(tenantId, webhook.id, { limit: 10 }))[0]?.state, { timeout: 10_000 }).toBe('failed');
    const [delivery] = await db.store.webhooks.deliveries(tenantId, webhook.id, { limit: 10 });
    expect(delivery?.attempts.length).toBeGreaterThan(1);
    expect(delivery?.attempts.every((a) => a.statusCode === 500)).toBe(true);
    expect(delivery?.nextAttemptAt).toBeNull();
  });

  it('never has more requests in flight to an endpoint than its limit, with two nodes claiming', async () => {
    const r = await receiver();
    r.answer = () => 'hang';
    const { tenantId } = await tenantWithWebhook(r.url, { maxConcurrency: 3 });
    worker('node-a');
    worker('node-b');
    await storeMessages(db.store, tenantId, 12, 'window');
    const probe = createWebhookQueue(db.sql);
    while (r.received.length < 12) {
      await expect.poll(() => r.held(), { timeout: 10_000 }).toBe(Math.min(3, 12 - r.received.length));
      // With the window full, nothing of this endpoint can be claimed, by any node.
      expect((await probe.claim('probe', 10, 60_000)).filter((c) => c.tenantId === tenantId)).toEqual([]);
      r.release(200);
    }
    expect(r.maxHeld()).toBe(3);
    expect(new Set(r.received.map((g) => g.json.seq)).size).toBe(12);
  });

  it('delivers only events committed after the endpoint was created, and message.any includes own messages', async () => {
    const r = await receiver();
    const { tenantId } = await seedTenant(db.store);
    await storeMessages(db.store, tenantId, 1, 'before');
    await db.store.webhooks.create(tenantId, { url: r.url, events: ['message.any'], secret: 'any-secret-0123456789', enabled: true, maxConcurrency: 1 });
    worker('node-a');
    const own = { ...(await storeMessages(db.store, tenantId, 1, 'after'))[0]! };
    await db.store.messages.insertMany(tenantId, [{ ...own, id: `${own.id}-own`, fromMe: true, from: 'me@c.us', body: 'mine' }]);
    await r.until((got) => got.length === 2);
    expect(r.received.map((g) => [g.json.event, (g.json.payload as { body: string }).body])).toEqual([
      ['message.any', 'after 1'],
      ['message.any', 'mine'],
    ]);
  });

  it('refuses to deliver to a private address unless allowed, and records why', async () => {
    const r = await receiver();
    const { tenantId, webhook } = await tenantWithWebhook(r.url);
    worker('node-a', { allowPrivateUrls: false });
    await storeMessages(db.store, tenantId, 1, 'ssrf');
    await expect.poll(async () => (await db.store.webhooks.deliveries(tenantId, webhook.id, { limit: 10 }))[0]?.state).toBe('failed');
    const [delivery] = await db.store.webhooks.deliveries(tenantId, webhook.id, { limit: 10 });
    expect(delivery?.lastError).toMatch(/not allowed/);
    expect(r.received).toHaveLength(0);
  });
});
