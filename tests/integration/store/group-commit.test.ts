import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/domain/errors.js';
import type { Message } from '../../../src/domain/types.js';
import { createGroupWriter } from '../../../src/store/group-commit.js';
import { createStore } from '../../../src/store/store.js';
import type { StoredEvent, Store } from '../../../src/store/types.js';
import { createTestDatabase, onBegin, seedTenant, type TestDatabase, inboundMessage as message } from '../../helpers/db.js';

// Ingest batches of several tenants share one transaction (src/store/group-commit.ts); each batch still
// succeeds or fails on its own, under its own tenant's row-level security.

describe('group commit of message batches across tenants', () => {
  let db: TestDatabase;
  let store: Store;
  const heard: { tenantId: string; events: StoredEvent[] }[] = [];
  beforeAll(async () => {
    db = await createTestDatabase({ poolSize: 4 });
    // A store of its own to hear the published events; the pool is closed by db.close().
    store = createStore(db.sql, { onEvents: (tenantId, events) => heard.push({ tenantId, events }), close: async () => undefined });
  });
  afterAll(async () => {
    await store.close();
    await db.close();
  });

  /** The transaction ids that wrote these messages (xmin): one id means one transaction. */
  async function writers(ids: string[]): Promise<string[]> {
    const rows = await db.sql<{ x: string }[]>`SELECT DISTINCT xmin::text AS x FROM messages WHERE wa_message_id = ANY(${ids})`;
    return rows.map((r) => r.x);
  }

  it('writes the batches of tenants queued in one turn in one transaction, each under its own tenant', async () => {
    const tenants = await Promise.all([0, 1, 2].map(() => seedTenant(db.store)));
    heard.length = 0;
    const results = await Promise.all(
      tenants.map((t, i) => store.messages.insertMany(t.tenantId, [message(`g1-${i}-a`), message(`g1-${i}-b`, '4915550002@c.us')], { epoch: 0 })),
    );
    expect(results.map((stored) => stored.map((m) => m.id))).toEqual([0, 1, 2].map((i) => [`g1-${i}-a`, `g1-${i}-b`]));
    const ids = results.flat().map((m) => m.id);
    expect(await writers(ids)).toHaveLength(1);
    // Every row belongs to the tenant it was written for, and reads back through that tenant only.
    const owners = await db.sql<{ id: string; tenant_id: string }[]>`SELECT wa_message_id AS id, tenant_id FROM messages WHERE wa_message_id = ANY(${ids})`;
    for (const [i, t] of tenants.entries()) {
      expect(owners.filter((r) => r.tenant_id === t.tenantId).map((r) => r.id).sort()).toEqual([`g1-${i}-a`, `g1-${i}-b`]);
      expect((await store.chats.listAll(t.tenantId)).map((c) => c.id).sort()).toEqual(['4915550001@c.us', '4915550002@c.us']);
    }
    // Each tenant heard its own events, numbered from its own counter: two messages, then two chats.
    for (const t of tenants) {
      const mine = heard.filter((h) => h.tenantId === t.tenantId).flatMap((h) => h.events);
      expect(mine.map((e) => [e.seq, e.name])).toEqual([
        [1, 'message'],
        [2, 'message'],
        [3, 'chat_updated'],
        [4, 'chat_updated'],
      ]);
      expect(mine.every((e) => e.tenantId === t.tenantId)).toBe(true);
    }
  });

  it('refuses only the batch of a stale epoch; the others in its group commit', async () => {
    const [fenced, fine, other] = await Promise.all([seedTenant(db.store), seedTenant(db.store), seedTenant(db.store)]);
    if (fenced === undefined || fine === undefined || other === undefined) throw new Error('seed failed');
    await store.sessions.claim(fenced.tenantId, 3, 'node-b');
    const [refused, stored, alsoStored] = await Promise.allSettled([
      store.messages.insertMany(fenced.tenantId, [message('g2-stale')], { epoch: 2 }),
      store.messages.insertMany(fine.tenantId, [message('g2-fine')], { epoch: 0 }),
      store.messages.insertMany(other.tenantId, [message('g2-other')], { epoch: 0 }),
    ]);
    expect(refused).toMatchObject({ status: 'rejected', reason: { code: ErrorCodes.STALE_EPOCH } });
    expect(stored).toMatchObject({ status: 'fulfilled', value: [{ id: 'g2-fine' }] });
    expect(alsoStored).toMatchObject({ status: 'fulfilled', value: [{ id: 'g2-other' }] });
    expect(await store.messages.find(fenced.tenantId, 'g2-stale')).toBeNull();
    expect(await store.messages.find(fine.tenantId, 'g2-fine')).not.toBeNull();
    // Committed by the group itself: a refusal that aborted the group would have them written one by one.
    expect(await writers(['g2-fine', 'g2-other'])).toHaveLength(1);
  });

  it('fails only the batch the database rejects; the rest of its group is written', async () => {
    const tenants = await Promise.all([0, 1, 2].map(() => seedTenant(db.store)));
    // A type outside the CHECK constraint: the whole group aborts, then each batch is written alone.
    const bad = { ...message('g3-bad'), type: 'hologram' } as unknown as Message;
    const outcomes = await Promise.allSettled(
      tenants.map((t, i) => store.messages.insertMany(t.tenantId, i === 1 ? [message('g3-with-bad'), bad] : [message(`g3-${i}`)], { epoch: 0 })),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const [t0, t1, t2] = tenants;
    if (t0 === undefined || t1 === undefined || t2 === undefined) throw new Error('seed failed');
    expect(await store.messages.find(t0.tenantId, 'g3-0')).not.toBeNull();
    expect(await store.messages.find(t2.tenantId, 'g3-2')).not.toBeNull();
    // Nothing of the failed batch, not even its valid message.
    expect(await store.messages.find(t1.tenantId, 'g3-with-bad')).toBeNull();
    expect(await store.chats.listAll(t1.tenantId)).toEqual([]);
  });

  it('commits a second group while the first waits, and never puts a tenant in two groups at once', async () => {
    const [slow, quick, later] = await Promise.all([0, 1, 2].map(() => seedTenant(db.store)));
    if (slow === undefined || quick === undefined || later === undefined) throw new Error('seed failed');
    await store.messages.insertMany(slow.tenantId, [message('g5-first')], { epoch: 0 }); // its counter row exists
    // Another connection holds the slow tenant's counter row: its group waits on the lock.
    const blocker = await db.sql.reserve();
    try {
      await blocker`BEGIN`;
      const [me] = await blocker<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
      await blocker`SELECT 1 FROM event_counters WHERE tenant_id = ${slow.tenantId} FOR UPDATE`;
      const blocked = store.messages.insertMany(slow.tenantId, [message('g5-a')], { epoch: 0 });
      let settled = false;
      void blocked.then(() => (settled = true), () => (settled = true));
      await waitForWaiterOn(me?.pid ?? 0);
      // The second slot: another tenant's batch commits while the first group waits.
      const quickly = await meanwhile(store.messages.insertMany(quick.tenantId, [message('g5-quick')], { epoch: 0 }), 'the second group');
      expect(quickly.map((m) => m.id)).toEqual(['g5-quick']);
      // The slow tenant's next batch waits for its first; grouped with it, the other tenant's would wait too.
      const next = store.messages.insertMany(slow.tenantId, [message('g5-b')], { epoch: 0 });
      const third = await meanwhile(store.messages.insertMany(later.tenantId, [message('g5-later')], { epoch: 0 }), 'the third group');
      expect(third.map((m) => m.id)).toEqual(['g5-later']);
      expect(settled).toBe(false);
      await blocker`COMMIT`;
      expect((await blocked).map((m) => m.id)).toEqual(['g5-a']);
      expect((await next).map((m) => m.id)).toEqual(['g5-b']);
    } finally {
      await blocker`ROLLBACK`; // a no-op once committed; frees the row if an expectation failed first
      blocker.release();
    }
    // In the order they were written: message seqs and event seqs.
    const rows = await db.sql<{ id: string }[]>`SELECT wa_message_id AS id FROM messages WHERE tenant_id = ${slow.tenantId} ORDER BY seq`;
    expect(rows.map((r) => r.id)).toEqual(['g5-first', 'g5-a', 'g5-b']);
    const events = await db.sql<{ id: string }[]>`
      SELECT payload->>'id' AS id FROM events WHERE tenant_id = ${slow.tenantId} AND name = 'message' ORDER BY seq`;
    expect(events.map((e) => e.id)).toEqual(['g5-first', 'g5-a', 'g5-b']);
  });

  it('puts the batches queued while a group waits for its BEGIN into that group, and opens no other meanwhile', async () => {
    const tenants = await Promise.all([0, 1, 2].map(() => seedTenant(db.store)));
    // The pool itself, with every BEGIN held until the test opens the gate: "BEGIN on its way".
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let begins = 0;
    const gated = onBegin(db.sql, async () => {
      begins++;
      await gate;
    });
    const writer = createGroupWriter(gated, {});
    const [first, second, third] = tenants.map((t) => t.tenantId);
    if (first === undefined || second === undefined || third === undefined) throw new Error('seed failed');
    const a = writer.write(first, [message('g6-a')], { epoch: 0 });
    for (let i = 0; i < 1_000 && begins === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(begins).toBe(1);
    const later = [writer.write(second, [message('g6-b')], { epoch: 0 }), writer.write(third, [message('g6-c')], { epoch: 0 })];
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(begins).toBe(1); // two free slots, yet no second transaction: it would only split the group
    open();
    const written = await Promise.all([a, ...later]);
    expect(written.map((w) => w.stored.map((m) => m.id))).toEqual([['g6-a'], ['g6-b'], ['g6-c']]);
    expect(await writers(['g6-a', 'g6-b', 'g6-c'])).toHaveLength(1);
    expect(begins).toBe(1);
  });

  it('fails the batches of a group whose BEGIN fails as the store being unavailable, and the next ones too', async () => {
    // Port 1 on loopback: nothing listens there, so every connection is refused at once.
    const down = postgres('postgres://postgres@127.0.0.1:1/test', { max: 2, onnotice: () => undefined });
    try {
      const writer = createGroupWriter(down, {});
      const first = await Promise.allSettled([randomUUID(), randomUUID()].map((t) => writer.write(t, [message('g7-a')], { epoch: 0 })));
      expect(first).toMatchObject([
        { status: 'rejected', reason: { code: ErrorCodes.STORE_UNAVAILABLE } },
        { status: 'rejected', reason: { code: ErrorCodes.STORE_UNAVAILABLE } },
      ]);
      // Nothing left stuck in a group that never began: a later batch gets its own answer.
      await expect(writer.write(randomUUID(), [message('g7-b')], { epoch: 0 })).rejects.toMatchObject({ code: ErrorCodes.STORE_UNAVAILABLE });
    } finally {
      await down.end({ timeout: 0 });
    }
  });

  /** `write`, or a failure (not a hang) when it does not settle while the first group still waits. */
  function meanwhile<T>(write: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not commit while the first one waited`)), 5_000);
    });
    return Promise.race([write, stuck]).finally(() => clearTimeout(timer));
  }

  /** Resolves once another backend waits for a lock `pid` holds. */
  async function waitForWaiterOn(pid: number): Promise<void> {
    for (let i = 0; i < 500; i++) {
      if ((await db.sql`SELECT 1 FROM pg_stat_activity WHERE ${pid}::integer = ANY(pg_blocking_pids(pid))`).length > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`nothing waited for backend ${pid} within 5 s`);
  }

  it('refuses a tenant id that is not a UUID before anything is sent, alone', async () => {
    const t = await seedTenant(db.store);
    const [invalid, fine] = await Promise.allSettled([
      store.messages.insertMany('not-a-uuid', [message('g4-invalid')], { epoch: 0 }),
      store.messages.insertMany(t.tenantId, [message('g4-fine')], { epoch: 0 }),
    ]);
    expect(invalid).toMatchObject({ status: 'rejected', reason: { code: ErrorCodes.VALIDATION } });
    expect(fine).toMatchObject({ status: 'fulfilled', value: [{ id: 'g4-fine' }] });
  });
});
