import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, seedTenant, type TestDatabase } from '../../helpers/db.js';

describe('message acks and idempotency keys', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  it('moves acks forward only and reports the rows that changed', async () => {
    const t = await seedTenant(db.store, { chats: 1, messagesPerChat: 2 });
    const [first, second] = [...t.messages.values()][0]!;
    const changed = await db.store.messages.updateAcks(t.tenantId, [
      { id: first!.id, ack: 3 },
      { id: second!.id, ack: 2 },
    ]);
    expect(changed.map((c) => [c.id, c.ack]).sort()).toEqual([
      [first!.id, 3],
      [second!.id, 2],
    ].sort());
    // A late "delivered" after "read" changes nothing.
    expect(await db.store.messages.updateAcks(t.tenantId, [{ id: first!.id, ack: 2 }])).toEqual([]);
    expect((await db.store.messages.find(t.tenantId, first!.id))?.ack).toBe(3);
  });

  it('does not update another tenants messages', async () => {
    const a = await seedTenant(db.store, { chats: 1, messagesPerChat: 1 });
    const b = await seedTenant(db.store);
    const message = [...a.messages.values()][0]![0]!;
    expect(await db.store.messages.updateAcks(b.tenantId, [{ id: message.id, ack: 3 }])).toEqual([]);
    expect((await db.store.messages.find(a.tenantId, message.id))?.ack).toBe(1);
  });

  it('gives one request a key, replays its response and refuses a different request', async () => {
    const t = await seedTenant(db.store);
    expect(await db.store.idempotency.begin(t.tenantId, 'k1', 'hash-a')).toEqual({ state: 'new' });
    expect(await db.store.idempotency.begin(t.tenantId, 'k1', 'hash-a')).toEqual({ state: 'pending' });
    await db.store.idempotency.complete(t.tenantId, 'k1', { id: 'm1', body: 'hi' });
    expect(await db.store.idempotency.begin(t.tenantId, 'k1', 'hash-a')).toEqual({ state: 'done', response: { id: 'm1', body: 'hi' } });
    expect(await db.store.idempotency.begin(t.tenantId, 'k1', 'hash-b')).toEqual({ state: 'mismatch' });
  });

  it('lets a retry run again after a failed request released its key, and keys are per tenant', async () => {
    const a = await seedTenant(db.store);
    const b = await seedTenant(db.store);
    expect(await db.store.idempotency.begin(a.tenantId, 'k2', 'h')).toEqual({ state: 'new' });
    expect(await db.store.idempotency.begin(b.tenantId, 'k2', 'h')).toEqual({ state: 'new' });
    await db.store.idempotency.release(a.tenantId, 'k2');
    expect(await db.store.idempotency.begin(a.tenantId, 'k2', 'h')).toEqual({ state: 'new' });
  });
});
