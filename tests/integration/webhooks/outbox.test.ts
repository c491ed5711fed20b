import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/domain/errors.js';
import { appendEvents, parseEventCursor } from '../../../src/store/outbox.js';
import { createStore } from '../../../src/store/store.js';
import type { StoredEvent } from '../../../src/store/types.js';
import { createRetentionJob } from '../../../src/webhooks/retention.js';
import { createLogger } from '../../../src/domain/log.js';
import { createTestDatabase, seedTenant, type TestDatabase } from '../../helpers/db.js';
import { CHAT, inbound } from './helpers.js';

/** The outbox: events written with their data, numbered so a cursor never skips one, kept for the retention. */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ poolSize: 12 });
});
afterAll(async () => {
  await db?.close();
});

async function readAll(tenantId: string, after = 0, chatIds?: string[]): Promise<{ events: StoredEvent[]; cursor: number; truncated: boolean }> {
  const events: StoredEvent[] = [];
  let cursor = after;
  let truncated = false;
  for (;;) {
    const page = await db.store.outbox.read(tenantId, { after: cursor, limit: 50, ...(chatIds === undefined ? {} : { chatIds }) });
    events.push(...page.events);
    truncated ||= page.truncated;
    if (page.cursor === cursor) return { events, cursor, truncated };
    cursor = page.cursor;
  }
}

describe('the outbox', () => {
  it('writes a message, its chat update and their events in one transaction, and tells the listener after the commit', async () => {
    const heard: StoredEvent[] = [];
    const store = createStore(db.sql, { onEvents: (_t, events) => heard.push(...events) });
    const { tenantId } = await seedTenant(db.store);
    const m = inbound('hello');
    await store.messages.insertMany(tenantId, [m]);
    await store.messages.updateAcks(tenantId, [{ id: m.id, ack: 3 }]);
    await store.sessions.setStatus(tenantId, 1, 'connected', null);
    const { events } = await readAll(tenantId);
    expect(events.map((e) => [e.seq, e.name, e.chatId])).toEqual([
      [1, 'message', CHAT],
      [2, 'chat_updated', CHAT],
      [3, 'message_ack', CHAT],
      [4, 'session_status', null],
    ]);
    expect(events[0]?.payload).toEqual(m);
    expect(events[1]?.payload).toMatchObject({ id: CHAT, unreadCount: 1, lastMessagePreview: 'hello' });
    expect(events[2]?.payload).toEqual({ id: m.id, chatId: CHAT, ack: 3 });
    expect(events[3]?.payload).toEqual({ status: 'connected', reason: null });
    expect(heard.map((e) => e.id)).toEqual(events.map((e) => e.id));
    // What the node publishes is what a webhook reads back, and the chat is as a chat list shows it.
    expect(heard.map((e) => e.payload)).toEqual(events.map((e) => e.payload));
    expect(heard.map((e) => e.createdAt)).toEqual(events.map((e) => e.createdAt));
    expect(events[1]?.payload).toEqual((await db.store.chats.listAll(tenantId)).find((c) => c.id === CHAT));
    // A redelivered message changes nothing, so it writes no event either.
    await store.messages.insertMany(tenantId, [m]);
    expect((await db.store.outbox.head(tenantId))).toBe(4);
  });

  it('numbers a batch: its new messages in batch order, then one chat_updated per touched chat', async () => {
    const heard: StoredEvent[] = [];
    const store = createStore(db.sql, { onEvents: (_t, events) => heard.push(...events) });
    const { tenantId } = await seedTenant(db.store);
    const other = '4910000000002@c.us';
    const first = inbound('first');
    await store.messages.insertMany(tenantId, [first]);
    heard.length = 0;
    const batch = [inbound('a', other), first, inbound('b'), inbound('c', other)];
    const stored = await store.messages.insertMany(tenantId, batch);
    expect(stored.map((m) => m.id)).toEqual([batch[0]?.id, batch[2]?.id, batch[3]?.id]); // the redelivery is skipped
    expect(heard.map((e) => [e.seq, e.name, e.chatId])).toEqual([
      [3, 'message', other],
      [4, 'message', CHAT],
      [5, 'message', other],
      [6, 'chat_updated', CHAT],
      [7, 'chat_updated', other],
    ]);
    const chats = await db.store.chats.listAll(tenantId);
    expect(heard[3]?.payload).toEqual(chats.find((c) => c.id === CHAT));
    expect(heard[4]?.payload).toEqual(chats.find((c) => c.id === other));
    expect(heard[4]?.payload).toMatchObject({ unreadCount: 2, lastMessagePreview: 'c' });
    const { events } = await readAll(tenantId, 2);
    expect(events.map((e) => e.payload)).toEqual(heard.map((e) => e.payload));
  });

  it('writes no event when the write itself is refused (a stale lease epoch)', async () => {
    const { tenantId } = await seedTenant(db.store);
    await db.store.sessions.claim(tenantId, 5, 'node-new');
    await expect(db.store.messages.insertMany(tenantId, [inbound('fenced')], { epoch: 4 })).rejects.toMatchObject({ code: ErrorCodes.STALE_EPOCH });
    await expect(db.store.sessions.setStatus(tenantId, 4, 'connected', null)).rejects.toMatchObject({ code: ErrorCodes.STALE_EPOCH });
    expect(await db.store.outbox.head(tenantId)).toBe(0);
    expect((await readAll(tenantId)).events).toEqual([]);
  });

  it('makes a later writer wait for an earlier one, so no event can commit below a cursor already read', async () => {
    const { tenantId } = await seedTenant(db.store);
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstAppended!: () => void;
    const appended = new Promise<void>((resolve) => (firstAppended = resolve));
    const order: string[] = [];
    // Transaction 1 takes seq 1 and does not commit yet.
    const first = db.sql.begin(async (tx) => {
      await appendEvents(tx, tenantId, [{ name: 'qr', chatId: null, payload: 'first' }]);
      firstAppended();
      await firstHolds;
    }).then(() => order.push('first committed'));
    await appended;
    // Transaction 2 must wait for it instead of taking seq 2 and committing first.
    const second = db.store.outbox.append(tenantId, [{ name: 'qr', chatId: null, payload: 'second' }]).then((e) => {
      order.push('second committed');
      return e;
    });
    const whileHeld = await db.store.outbox.read(tenantId, { after: 0, limit: 10 });
    expect(whileHeld).toMatchObject({ events: [], cursor: 0 });
    releaseFirst();
    await first;
    const [stored] = await second;
    expect(order).toEqual(['first committed', 'second committed']);
    expect(stored?.seq).toBe(2);
    expect((await readAll(tenantId)).events.map((e) => e.payload)).toEqual(['first', 'second']);
  });

  it('numbers events without gaps in commit order under concurrent writers, and a tailing reader misses none', async () => {
    const { tenantId } = await seedTenant(db.store);
    const writers = 6;
    const perWriter = 15;
    let done = false;
    const seen: number[] = [];
    const tail = (async () => {
      let cursor = 0;
      while (!done || cursor < writers * perWriter * 2) {
        const page = await db.store.outbox.read(tenantId, { after: cursor, limit: 7 });
        seen.push(...page.events.map((e) => e.seq));
        cursor = page.cursor;
      }
    })();
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) await db.store.messages.insertMany(tenantId, [inbound(`w${w} #${i}`, `49200000000${w}@c.us`)]);
      }),
    );
    done = true;
    await tail;
    const total = writers * perWriter * 2; // each message and its chat_updated
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it("gives an employee's cursor only its chats' events and moves it past the others'", async () => {
    const { tenantId } = await seedTenant(db.store);
    const other = '4910000000099@c.us';
    await db.store.messages.insertMany(tenantId, [inbound('mine 1')]);
    await db.store.messages.insertMany(tenantId, [inbound('not mine', other)]);
    await db.store.sessions.setStatus(tenantId, 1, 'connected', null);
    await db.store.messages.insertMany(tenantId, [inbound('mine 2')]);
    const page = await db.store.outbox.read(tenantId, { after: 0, limit: 100, chatIds: [CHAT] });
    expect(page.events.map((e) => [e.name, e.chatId])).toEqual([
      ['message', CHAT],
      ['chat_updated', CHAT],
      ['message', CHAT],
      ['chat_updated', CHAT],
    ]);
    expect(page.cursor).toBe(7);
  });

  it('keeps tenants apart and refuses an event id of another tenant', async () => {
    const a = await seedTenant(db.store);
    const b = await seedTenant(db.store);
    await db.store.messages.insertMany(a.tenantId, [inbound('for a')]);
    expect((await readAll(b.tenantId)).events).toEqual([]);
    const [eventOfA] = (await readAll(a.tenantId)).events;
    expect(parseEventCursor(a.tenantId, eventOfA!.id)).toBe(1);
    expect(() => parseEventCursor(b.tenantId, eventOfA!.id)).toThrow(expect.objectContaining({ code: ErrorCodes.VALIDATION }));
    expect(() => parseEventCursor(a.tenantId, 'nonsense')).toThrow(expect.objectContaining({ code: ErrorCodes.VALIDATION }));
    expect(parseEventCursor(a.tenantId, '0')).toBe(0);
  });

  it('deletes events past the retention with the retention job, and tells a reader behind it', async () => {
    const { tenantId } = await seedTenant(db.store);
    await db.store.messages.insertMany(tenantId, [inbound('old')]);
    const job = createRetentionJob({ outbox: db.store.outbox, retentionMs: 0, intervalMs: 60_000, log: createLogger({ level: 'silent' }) });
    expect(await job.runOnce()).toBeGreaterThanOrEqual(2);
    await job.close();
    await db.store.messages.insertMany(tenantId, [inbound('new')]);
    const behind = await readAll(tenantId, 0);
    expect(behind.truncated).toBe(true);
    expect(behind.events.map((e) => e.seq)).toEqual([3, 4]);
    const current = await db.store.outbox.read(tenantId, { after: 2, limit: 10 });
    expect(current.truncated).toBe(false);
    // Numbering goes on where it was: ids stay unique after a cleanup.
    expect(await db.store.outbox.head(tenantId)).toBe(4);
  });
});
