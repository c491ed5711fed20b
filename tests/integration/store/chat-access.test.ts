import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessageRepo } from '../../../src/store/messages.js';
import { createTestDatabase, onBegin, seedTenant, type SeededTenant, type TestDatabase } from '../../helpers/db.js';

/** store.chats.access: the one read behind every per-chat access check (requireChatAccess), and its twin in pageWithAccess. */
describe('chat access read', () => {
  let db: TestDatabase;
  let a: SeededTenant;
  let b: SeededTenant;
  beforeAll(async () => {
    db = await createTestDatabase();
    a = await seedTenant(db.store, { employees: 2, chats: 2, messagesPerChat: 3 });
    b = await seedTenant(db.store, { employees: 1, chats: 1 });
    await db.store.permissions.assign(a.tenantId, a.employees[0]?.id ?? '', a.chats[0]?.id ?? '');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('says whether the chat exists and whether it is assigned to the employee', async () => {
    const [assignedChat, otherChat] = [a.chats[0]?.id ?? '', a.chats[1]?.id ?? ''];
    const [given, notGiven] = [a.employees[0]?.id ?? '', a.employees[1]?.id ?? ''];
    expect(await db.store.chats.access(a.tenantId, assignedChat, given)).toEqual({ exists: true, assigned: true });
    expect(await db.store.chats.access(a.tenantId, otherChat, given)).toEqual({ exists: true, assigned: false });
    expect(await db.store.chats.access(a.tenantId, assignedChat, notGiven)).toEqual({ exists: true, assigned: false });
    expect(await db.store.chats.access(a.tenantId, assignedChat, null)).toEqual({ exists: true, assigned: false });
    expect(await db.store.chats.access(a.tenantId, '4900000000000@c.us', given)).toEqual({ exists: false, assigned: false });
  });

  it('reads the same access facts with a page of the chat, both in one transaction', async () => {
    let begins = 0;
    const counted = onBegin(db.sql, () => {
      begins++;
    });
    const messages = createMessageRepo(counted);
    const [assignedChat, otherChat] = [a.chats[0]?.id ?? '', a.chats[1]?.id ?? ''];
    const given = a.employees[0]?.id ?? '';
    const direct = await db.store.messages.page(a.tenantId, assignedChat, { limit: 10 });
    expect(direct.messages.length).toBeGreaterThan(0);
    expect(await messages.pageWithAccess(a.tenantId, assignedChat, given, { limit: 10 })).toEqual({ access: { exists: true, assigned: true }, page: direct });
    expect((await messages.pageWithAccess(a.tenantId, otherChat, given, { limit: 10 })).access).toEqual({ exists: true, assigned: false });
    expect(await messages.pageWithAccess(a.tenantId, '4900000000000@c.us', null, { limit: 10 })).toEqual({
      access: { exists: false, assigned: false },
      page: { messages: [], nextCursor: null },
    });
    expect(begins).toBe(3);
    await expect(messages.pageWithAccess(a.tenantId, assignedChat, given, { limit: 10, before: 'garbage' })).rejects.toMatchObject({ code: 'WA_VALIDATION' });
    expect(begins).toBe(3); // a bad cursor is refused before anything is read
  });

  it('sees nothing of another tenant, and treats an id that is not a UUID as nobody', async () => {
    const onlyTheirs = '4977777777777@c.us';
    await db.store.chats.upsertMany(b.tenantId, [{ id: onlyTheirs, name: 'B only', isGroup: false, unreadCount: 0, lastMessageAt: null, lastMessagePreview: null }]);
    expect(await db.store.chats.access(b.tenantId, onlyTheirs, null)).toEqual({ exists: true, assigned: false });
    expect(await db.store.chats.access(a.tenantId, onlyTheirs, a.employees[0]?.id ?? '')).toEqual({ exists: false, assigned: false });
    // A's permission does not exist in B, even for a chat id both tenants have.
    expect(await db.store.chats.access(b.tenantId, a.chats[0]?.id ?? '', a.employees[0]?.id ?? '')).toMatchObject({ assigned: false });
    expect(await db.store.chats.access(a.tenantId, a.chats[0]?.id ?? '', "x' OR 1=1 --")).toEqual({ exists: true, assigned: false });
  });
});
