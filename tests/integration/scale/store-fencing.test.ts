import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/domain/errors.js';
import { createTestDatabase, seedTenant, type TestDatabase, inboundMessage as message } from '../../helpers/db.js';

describe('fenced session writes of messages, acks and media', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  it('stores messages under the current epoch and refuses them under an older one', async () => {
    const t = await seedTenant(db.store);
    await db.store.sessions.claim(t.tenantId, 4, 'node-a');
    expect(await db.store.messages.insertMany(t.tenantId, [message('m-current')], { epoch: 4 })).toHaveLength(1);
    await db.store.sessions.claim(t.tenantId, 5, 'node-b');
    await expect(db.store.messages.insertMany(t.tenantId, [message('m-stale')], { epoch: 4 })).rejects.toMatchObject({
      code: ErrorCodes.STALE_EPOCH,
    });
    expect(await db.store.messages.find(t.tenantId, 'm-stale')).toBeNull();
    expect(await db.store.messages.insertMany(t.tenantId, [message('m-new-owner')], { epoch: 5 })).toHaveLength(1);
  });

  it('refuses ack updates and media from an older epoch and changes nothing', async () => {
    const t = await seedTenant(db.store);
    await db.store.sessions.claim(t.tenantId, 1, 'node-a');
    await db.store.messages.insertMany(t.tenantId, [message('m-ack')], { epoch: 1 });
    await db.store.sessions.claim(t.tenantId, 2, 'node-b');
    await expect(db.store.messages.updateAcks(t.tenantId, [{ id: 'm-ack', ack: 3 }], { epoch: 1 })).rejects.toMatchObject({
      code: ErrorCodes.STALE_EPOCH,
    });
    await expect(
      db.store.media.put(t.tenantId, { messageId: 'm-ack', mimetype: 'image/png', filename: 'a.png', data: new Uint8Array([1, 2, 3]) }, { epoch: 1 }),
    ).rejects.toMatchObject({ code: ErrorCodes.STALE_EPOCH });
    expect((await db.store.messages.find(t.tenantId, 'm-ack'))?.ack).toBe(1);
    expect(await db.store.media.get(t.tenantId, 'm-ack')).toBeNull();
    expect(await db.store.messages.updateAcks(t.tenantId, [{ id: 'm-ack', ack: 3 }], { epoch: 2 })).toHaveLength(1);
  });

  it('accepts fenced writes for a tenant whose session row does not exist yet', async () => {
    const t = await seedTenant(db.store);
    expect(await db.store.messages.insertMany(t.tenantId, [message('m-first')], { epoch: 1 })).toHaveLength(1);
  });

  it('makes a newer claim wait for a fenced write in flight, so the older write cannot commit after it', async () => {
    const t = await seedTenant(db.store);
    await db.store.sessions.claim(t.tenantId, 1, 'node-a');
    // A transaction holding the share lock a fenced write takes (store/fence.ts): the claim must wait.
    const order: string[] = [];
    let releaseLock!: () => void;
    const locked = new Promise<void>((resolve) => (releaseLock = resolve));
    let lockTaken!: () => void;
    const taken = new Promise<void>((resolve) => (lockTaken = resolve));
    const holder = db.sql.begin(async (tx) => {
      await tx`SELECT lease_epoch FROM sessions WHERE tenant_id = ${t.tenantId} FOR SHARE`;
      lockTaken();
      await locked;
      order.push('write committed');
    });
    await taken;
    const claim = db.store.sessions.claim(t.tenantId, 2, 'node-b').then(() => order.push('claim committed'));
    // Wait until PostgreSQL shows the claim blocked on the row lock, then let the write commit.
    for (;;) {
      const waiting = await db.sql`
        SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO sessions (tenant_id, owner_node, lease_epoch)%'`;
      if (waiting[0]?.n === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(order).toEqual([]);
    releaseLock();
    await Promise.all([holder, claim]);
    expect(order).toEqual(['write committed', 'claim committed']);
  });
});
