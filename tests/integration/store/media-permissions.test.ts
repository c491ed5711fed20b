import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/domain/errors.js';
import { createTestDatabase, seedTenant, type TestDatabase } from '../../helpers/db.js';

describe('media repository', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  it('stores media bytes with their size and hash, marks the message, and reads them back', async () => {
    const t = await seedTenant(db.store, { chats: 1, messagesPerChat: 1 });
    const message = t.messages.get(t.chats[0]!.id)![0]!;
    const data = new Uint8Array([0, 1, 2, 250, 251, 252, 253, 254, 255]);
    await db.store.media.put(t.tenantId, { messageId: message.id, mimetype: 'image/png', filename: 'a.png', data });
    const got = await db.store.media.get(t.tenantId, message.id);
    expect(got).toMatchObject({ messageId: message.id, mimetype: 'image/png', filename: 'a.png', sizeBytes: 9 });
    expect(got?.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect(Array.from(got!.data)).toEqual(Array.from(data));
    expect((await db.store.messages.find(t.tenantId, message.id))?.hasMedia).toBe(true);
  });

  it('replaces the media of a message on a second put', async () => {
    const t = await seedTenant(db.store, { chats: 1, messagesPerChat: 1 });
    const messageId = t.messages.get(t.chats[0]!.id)![0]!.id;
    await db.store.media.put(t.tenantId, { messageId, mimetype: 'image/png', filename: null, data: new Uint8Array([1]) });
    await db.store.media.put(t.tenantId, { messageId, mimetype: 'audio/ogg', filename: null, data: new Uint8Array([2, 3]) });
    expect(await db.store.media.get(t.tenantId, messageId)).toMatchObject({ mimetype: 'audio/ogg', sizeBytes: 2, filename: null });
  });

  it('refuses media for a message the tenant does not have and hides media from other tenants', async () => {
    const a = await seedTenant(db.store, { chats: 1, messagesPerChat: 1 });
    const b = await seedTenant(db.store);
    const messageId = a.messages.get(a.chats[0]!.id)![0]!.id;
    await expect(
      db.store.media.put(b.tenantId, { messageId, mimetype: 'image/png', filename: null, data: new Uint8Array([1]) }),
    ).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
    await db.store.media.put(a.tenantId, { messageId, mimetype: 'image/png', filename: null, data: new Uint8Array([1]) });
    expect(await db.store.media.get(b.tenantId, messageId)).toBeNull();
    expect(await db.store.media.get(a.tenantId, 'no-such-message')).toBeNull();
  });
});

describe('permission repository', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  it('assigns a chat to an employee idempotently and lists it', async () => {
    const t = await seedTenant(db.store, { employees: 1, chats: 2 });
    const emp = t.employees[0]!;
    const chat = t.chats[0]!;
    await db.store.permissions.assign(t.tenantId, emp.id, chat.id);
    await db.store.permissions.assign(t.tenantId, emp.id, chat.id);
    const list = await db.store.permissions.listForUser(t.tenantId, emp.id);
    expect(list).toEqual([{ employeeId: emp.id, chatId: chat.id, grantedAt: expect.any(String) }]);
    expect(Number.isNaN(Date.parse(list[0]!.grantedAt))).toBe(false);
    expect(await db.store.permissions.has(t.tenantId, emp.id, chat.id)).toBe(true);
    expect(await db.store.permissions.has(t.tenantId, emp.id, t.chats[1]!.id)).toBe(false);
    expect(await db.store.permissions.listAll(t.tenantId)).toEqual(list);
  });

  it('refuses to assign an unknown chat', async () => {
    const t = await seedTenant(db.store, { employees: 1 });
    await expect(db.store.permissions.assign(t.tenantId, t.employees[0]!.id, '4999999999@c.us')).rejects.toMatchObject({
      code: ErrorCodes.NOT_FOUND,
      message: 'Chat not found',
    });
  });

  it('refuses to assign an unknown employee, an admin or a malformed id', async () => {
    const t = await seedTenant(db.store, { chats: 1 });
    const chatId = t.chats[0]!.id;
    for (const userId of [randomUUID(), t.admin.id, 'not-a-uuid']) {
      await expect(db.store.permissions.assign(t.tenantId, userId, chatId)).rejects.toMatchObject({
        code: ErrorCodes.NOT_FOUND,
        message: 'Employee not found',
      });
    }
    expect(await db.store.permissions.listAll(t.tenantId)).toEqual([]);
  });

  it('refuses to assign across tenants in either direction', async () => {
    const a = await seedTenant(db.store, { employees: 1, chats: 1 });
    const b = await seedTenant(db.store, { employees: 1, chats: 1 });
    // a's employee on a chat id that only b has.
    const onlyB = '4988888888@c.us';
    await db.store.chats.upsertMany(b.tenantId, [{ id: onlyB, name: 'B', isGroup: false, unreadCount: 0, lastMessageAt: null, lastMessagePreview: null }]);
    await expect(db.store.permissions.assign(a.tenantId, a.employees[0]!.id, onlyB)).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
    // b's employee through tenant a.
    await expect(db.store.permissions.assign(a.tenantId, b.employees[0]!.id, a.chats[0]!.id)).rejects.toMatchObject({
      code: ErrorCodes.NOT_FOUND,
    });
  });

  it('refuses to assign a disabled employee', async () => {
    const t = await seedTenant(db.store, { employees: 1, chats: 1 });
    await db.store.users.disableEmployee(t.tenantId, t.employees[0]!.id);
    await expect(db.store.permissions.assign(t.tenantId, t.employees[0]!.id, t.chats[0]!.id)).rejects.toMatchObject({
      code: ErrorCodes.NOT_FOUND,
    });
  });

  it('revokes a permission once and reports whether one was removed', async () => {
    const t = await seedTenant(db.store, { employees: 1, chats: 1 });
    const [emp, chat] = [t.employees[0]!, t.chats[0]!];
    await db.store.permissions.assign(t.tenantId, emp.id, chat.id);
    expect(await db.store.permissions.revoke(t.tenantId, emp.id, chat.id)).toBe(true);
    expect(await db.store.permissions.revoke(t.tenantId, emp.id, chat.id)).toBe(false);
    expect(await db.store.permissions.has(t.tenantId, emp.id, chat.id)).toBe(false);
  });

  it('does not revoke through another tenant', async () => {
    const a = await seedTenant(db.store, { employees: 1, chats: 1 });
    const b = await seedTenant(db.store);
    await db.store.permissions.assign(a.tenantId, a.employees[0]!.id, a.chats[0]!.id);
    expect(await db.store.permissions.revoke(b.tenantId, a.employees[0]!.id, a.chats[0]!.id)).toBe(false);
    expect(await db.store.permissions.has(b.tenantId, a.employees[0]!.id, a.chats[0]!.id)).toBe(false);
    expect(await db.store.permissions.has(a.tenantId, a.employees[0]!.id, a.chats[0]!.id)).toBe(true);
  });

  it('lists the active employees allowed on a chat', async () => {
    const t = await seedTenant(db.store, { employees: 3, chats: 2 });
    const [e1, e2, e3] = t.employees;
    const chatId = t.chats[0]!.id;
    for (const e of [e1!, e2!]) await db.store.permissions.assign(t.tenantId, e.id, chatId);
    await db.store.permissions.assign(t.tenantId, e3!.id, t.chats[1]!.id);
    expect((await db.store.permissions.usersForChat(t.tenantId, chatId)).sort()).toEqual([e1!.id, e2!.id].sort());
    await db.store.users.disableEmployee(t.tenantId, e1!.id);
    expect(await db.store.permissions.usersForChat(t.tenantId, chatId)).toEqual([e2!.id]);
  });
});
