import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/domain/errors.js';
import type { Message } from '../../../src/domain/types.js';
import { writeMessageBatch } from '../../../src/store/message-batch.js';
import { withTenant } from '../../../src/store/with-tenant.js';
import { createTestDatabase, inboundMessage, seedTenant, type TestDatabase } from '../../helpers/db.js';

function msg(id: string, chatId: string, timestamp: string, over: Partial<Message> = {}): Message {
  return { id, chatId, from: chatId, fromMe: false, body: `body ${id}`, timestamp, type: 'chat', hasMedia: false, ack: 1, ...over };
}

describe('chat and message repositories', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  it('lists a tenants chats most recent first, chats without messages last', async () => {
    const t = await seedTenant(db.store, { chats: 3, messagesPerChat: 1 });
    await db.store.chats.upsertMany(t.tenantId, [
      { id: 'empty@g.us', name: 'Group', isGroup: true, unreadCount: 0, lastMessageAt: null, lastMessagePreview: null },
    ]);
    const list = await db.store.chats.listAll(t.tenantId);
    expect(list.map((c) => c.id)).toEqual(['491000000002@c.us', '491000000001@c.us', '491000000000@c.us', 'empty@g.us']);
    expect(list[3]).toEqual({ id: 'empty@g.us', name: 'Group', isGroup: true, unreadCount: 0, lastMessageAt: null, lastMessagePreview: null });
  });

  it('updates chats on upsert and hides them from other tenants', async () => {
    const a = await seedTenant(db.store, { chats: 1 });
    const b = await seedTenant(db.store);
    const chat = a.chats[0]!;
    await db.store.chats.upsertMany(a.tenantId, [{ ...chat, name: 'Renamed', unreadCount: 7 }]);
    expect(await db.store.chats.find(a.tenantId, chat.id)).toMatchObject({ name: 'Renamed', unreadCount: 7 });
    expect(await db.store.chats.find(b.tenantId, chat.id)).toBeNull();
    expect(await db.store.chats.listAll(b.tenantId)).toEqual([]);
  });

  it('shows an employee only the chats assigned to it', async () => {
    const t = await seedTenant(db.store, { employees: 2, chats: 3, messagesPerChat: 1 });
    const [e1, e2] = t.employees;
    await db.store.permissions.assign(t.tenantId, e1!.id, t.chats[0]!.id);
    await db.store.permissions.assign(t.tenantId, e1!.id, t.chats[2]!.id);
    expect((await db.store.chats.listForUser(t.tenantId, e1!.id)).map((c) => c.id)).toEqual([t.chats[0]!.id, t.chats[2]!.id]);
    expect(await db.store.chats.listForUser(t.tenantId, e2!.id)).toEqual([]);
  });

  it('pages through more than one page newest first, breaking timestamp ties by arrival order', async () => {
    const t = await seedTenant(db.store);
    const chatId = '4930000001@c.us';
    // Seeding first makes the seqs cross a power of ten (9 -> 10), so a text sort of seq would show.
    await seedTenant(db.store, { chats: 1, messagesPerChat: 10 });
    // 7 messages, three of them sharing one timestamp: the cursor must not skip or repeat any of them.
    const batch = [
      msg('m1', chatId, '2024-05-01T10:00:00.000Z'),
      msg('m2', chatId, '2024-05-01T10:00:01.000Z'),
      msg('m3', chatId, '2024-05-01T10:00:02.000Z'),
      msg('m4', chatId, '2024-05-01T10:00:02.000Z'),
      msg('m5', chatId, '2024-05-01T10:00:02.000Z'),
      msg('m6', chatId, '2024-05-01T10:00:03.000Z'),
      msg('m7', chatId, '2024-05-01T10:00:04.000Z'),
    ];
    await db.store.messages.insertMany(t.tenantId, batch);
    const seen: string[] = [];
    let before: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await db.store.messages.page(t.tenantId, chatId, before === undefined ? { limit: 3 } : { limit: 3, before });
      pages++;
      seen.push(...page.messages.map((m) => m.id));
      if (page.nextCursor === null) break;
      before = page.nextCursor;
    }
    expect(seen).toEqual(['m7', 'm6', 'm5', 'm4', 'm3', 'm2', 'm1']);
    expect(pages).toBe(3);
  });

  it('returns no next cursor when the last page is exactly full', async () => {
    const t = await seedTenant(db.store, { chats: 1, messagesPerChat: 4 });
    const chatId = t.chats[0]!.id;
    const first = await db.store.messages.page(t.tenantId, chatId, { limit: 2 });
    const second = await db.store.messages.page(t.tenantId, chatId, { limit: 2, before: first.nextCursor! });
    expect(second.messages).toHaveLength(2);
    expect(second.nextCursor).toBeNull();
  });

  it.each(['garbage!', 'bm90LWpzb24', Buffer.from('["2024-01-01T00:00:00Z","1"]').toString('base64url'), Buffer.from('[1,2]').toString('base64url')])(
    'rejects the malformed cursor %s with a validation error',
    async (before) => {
      const t = await seedTenant(db.store, { chats: 1, messagesPerChat: 1 });
      await expect(db.store.messages.page(t.tenantId, t.chats[0]!.id, { limit: 10, before })).rejects.toMatchObject({
        code: ErrorCodes.VALIDATION,
      });
    },
  );

  it('rejects a page limit out of range', async () => {
    const t = await seedTenant(db.store);
    await expect(db.store.messages.page(t.tenantId, 'x@c.us', { limit: 0 })).rejects.toMatchObject({ code: ErrorCodes.VALIDATION });
  });

  it('stores a redelivered batch once and returns only the new messages', async () => {
    const t = await seedTenant(db.store);
    const chatId = '4930000002@c.us';
    const first = [msg('r1', chatId, '2024-05-01T10:00:00.000Z'), msg('r2', chatId, '2024-05-01T10:00:01.000Z')];
    expect((await db.store.messages.insertMany(t.tenantId, first)).map((m) => m.id)).toEqual(['r1', 'r2']);
    const again = [...first, msg('r3', chatId, '2024-05-01T10:00:02.000Z'), msg('r3', chatId, '2024-05-01T10:00:02.000Z')];
    expect((await db.store.messages.insertMany(t.tenantId, again)).map((m) => m.id)).toEqual(['r3']);
    expect(await db.store.messages.insertMany(t.tenantId, again)).toEqual([]);
    const page = await db.store.messages.page(t.tenantId, chatId, { limit: 10 });
    expect(page.messages.map((m) => m.id)).toEqual(['r3', 'r2', 'r1']);
    expect((await db.store.chats.find(t.tenantId, chatId))?.unreadCount).toBe(3);
  });

  it('creates missing chats and moves their last message forward, never back', async () => {
    const t = await seedTenant(db.store);
    const chatId = '4930000003@c.us';
    const newest = msg('n2', chatId, '2024-05-01T12:00:00.000Z', { body: 'newest', fromMe: true });
    await db.store.messages.insertMany(t.tenantId, [msg('n1', chatId, '2024-05-01T11:00:00.000Z'), newest]);
    expect(await db.store.chats.find(t.tenantId, chatId)).toEqual({
      id: chatId,
      name: '',
      isGroup: false,
      unreadCount: 1,
      lastMessageAt: '2024-05-01T12:00:00.000Z',
      lastMessagePreview: 'newest',
    });
    await db.store.messages.insertMany(t.tenantId, [msg('n0', chatId, '2024-05-01T09:00:00.000Z', { body: 'late arrival' })]);
    expect(await db.store.chats.find(t.tenantId, chatId)).toMatchObject({ lastMessagePreview: 'newest', unreadCount: 2 });
    await db.store.messages.insertMany(t.tenantId, [msg('n3', chatId, '2024-05-01T13:00:00.000Z', { body: '', type: 'image', hasMedia: true })]);
    expect(await db.store.chats.find(t.tenantId, chatId)).toMatchObject({ lastMessagePreview: '[image]' });
  });

  it('moves a chat forward with HOT updates: an ingest batch writes no index entry for the chats it touches', async () => {
    const t = await seedTenant(db.store);
    // The backend's counters not yet flushed to the shared statistics (pg_stat_xact_user_tables; since
    // PostgreSQL 15 they may hold earlier transactions of the connection too, so the test takes their
    // growth within its own transaction): the first batch creates the chat, the next two move its last
    // message, preview and unread count forward.
    const growth = await withTenant(db.sql, t.tenantId, async (tx) => {
      const read = async () => {
        const [row] = await tx<{ updated: string; hot: string }[]>`
          SELECT n_tup_upd::text AS updated, n_tup_hot_upd::text AS hot FROM pg_stat_xact_user_tables WHERE relid = 'chats'::regclass`;
        return { updated: Number(row?.updated ?? 0), hot: Number(row?.hot ?? 0) };
      };
      const before = await read();
      for (const id of ['hot-1', 'hot-2', 'hot-3']) await writeMessageBatch(tx, t.tenantId, [inboundMessage(id)], undefined);
      const after = await read();
      return { updated: after.updated - before.updated, hot: after.hot - before.hot };
    });
    expect(growth).toEqual({ updated: 2, hot: 2 });
    const [chat] = await db.store.chats.listAll(t.tenantId);
    expect(chat).toMatchObject({ unreadCount: 3, lastMessagePreview: 'body hot-3' });
  });

  it('finds a message by its WhatsApp id only in its own tenant', async () => {
    const a = await seedTenant(db.store, { chats: 1, messagesPerChat: 1 });
    const b = await seedTenant(db.store);
    const m = a.messages.get(a.chats[0]!.id)![0]!;
    expect(await db.store.messages.find(a.tenantId, m.id)).toEqual(m);
    expect(await db.store.messages.find(b.tenantId, m.id)).toBeNull();
    expect((await db.store.messages.page(b.tenantId, m.chatId, { limit: 10 })).messages).toEqual([]);
  });

  it('keeps the same WhatsApp message id apart in two tenants', async () => {
    const a = await seedTenant(db.store);
    const b = await seedTenant(db.store);
    const m = msg('shared-id', '4930000004@c.us', '2024-05-01T10:00:00.000Z');
    expect(await db.store.messages.insertMany(a.tenantId, [m])).toHaveLength(1);
    expect(await db.store.messages.insertMany(b.tenantId, [{ ...m, body: 'other' }])).toHaveLength(1);
    expect((await db.store.messages.find(a.tenantId, 'shared-id'))?.body).toBe(m.body);
    expect((await db.store.messages.find(b.tenantId, 'shared-id'))?.body).toBe('other');
  });
});
