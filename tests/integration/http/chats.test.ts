import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../../src/domain/types.js';
import {
  assign,
  bearer,
  createEmployee,
  createTestApp,
  expectError,
  json,
  registerAdmin,
  seedChat,
  seedMedia,
  type Account,
  type TestApp,
} from './helper.js';

let t: TestApp;
let admin: Account;
let employee: Account & { id: string };
const ASSIGNED = '4917200001@c.us';
const UNASSIGNED = '4917200002@c.us';
const PDF = Buffer.from('%PDF-1.4 fake document bytes \x00\x01\x02', 'latin1');
let seeded: Message[];

beforeAll(async () => {
  t = await createTestApp();
  admin = await registerAdmin(t.app);
  employee = await createEmployee(t.app, admin);
  const tenantId = admin.session.user.tenantId;
  seeded = (await seedChat(t.db.store, tenantId, { chatId: ASSIGNED, name: 'Assigned', count: 5, label: 'chat-a' })).messages;
  await seedChat(t.db.store, tenantId, { chatId: UNASSIGNED, name: 'Unassigned', count: 2, label: 'chat-b' });
  await seedMedia(t.db.store, tenantId, { chatId: ASSIGNED, messageId: 'media-assigned', mimetype: 'application/pdf', filename: 'Angebot "Q1".pdf', data: PDF });
  await seedMedia(t.db.store, tenantId, { chatId: UNASSIGNED, messageId: 'media-unassigned', mimetype: 'image/png', filename: null, data: Buffer.from([1, 2, 3]) });
  await assign(t.app, admin, employee.id, ASSIGNED);
});
afterAll(async () => {
  await t?.close();
});

const get = (url: string, who: Account) => t.app.inject({ method: 'GET', url, headers: bearer(who.session.accessToken) });

describe('GET /api/chats', () => {
  it('shows an admin every chat of its tenant', async () => {
    const res = await get('/api/chats', admin);
    expect(res.statusCode).toBe(200);
    expect(json<{ id: string }[]>(res).map((c) => c.id).sort()).toEqual([ASSIGNED, UNASSIGNED]);
  });

  it('shows an employee only its assigned chats', async () => {
    const res = await get('/api/chats', employee);
    expect(json<{ id: string; name: string }[]>(res)).toEqual([expect.objectContaining({ id: ASSIGNED, name: 'Assigned' })]);
  });
});

describe('GET /api/chats/:chatId/messages', () => {
  it('pages newest first with a cursor until nextCursor is null', async () => {
    const first = json<{ messages: Message[]; nextCursor: string | null }>(await get(`/api/chats/${ASSIGNED}/messages?limit=4`, admin));
    expect(first.messages.map((m) => m.id)).toEqual(['media-assigned', ...seeded.slice(2).reverse().map((m) => m.id)]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = json<{ messages: Message[]; nextCursor: string | null }>(
      await get(`/api/chats/${ASSIGNED}/messages?limit=4&before=${encodeURIComponent(first.nextCursor ?? '')}`, admin),
    );
    expect(second.messages.map((m) => m.id)).toEqual(seeded.slice(0, 2).reverse().map((m) => m.id));
    expect(second.nextCursor).toBeNull();
  });

  it('defaults to 50 messages per page', async () => {
    const page = json<{ messages: Message[] }>(await get(`/api/chats/${ASSIGNED}/messages`, employee));
    expect(page.messages).toHaveLength(6);
    expect(page.messages[0]).toMatchObject({ chatId: ASSIGNED, type: 'document', hasMedia: true });
  });

  it('answers 400 for a limit outside 1..200, a bad cursor, and a malformed chat id', async () => {
    expectError(await get(`/api/chats/${ASSIGNED}/messages?limit=201`, admin), 400, 'WA_VALIDATION');
    expectError(await get(`/api/chats/${ASSIGNED}/messages?limit=0`, admin), 400, 'WA_VALIDATION');
    expectError(await get(`/api/chats/${ASSIGNED}/messages?before=garbage`, admin), 400, 'WA_VALIDATION');
    expectError(await get('/api/chats/not-a-chat/messages', admin), 400, 'WA_VALIDATION');
  });

  it('answers 403 to an employee on an unassigned chat of its tenant, without its messages', async () => {
    const res = await get(`/api/chats/${UNASSIGNED}/messages`, employee);
    expectError(res, 403, 'WA_FORBIDDEN');
    expect(res.body).not.toContain('chat-b');
  });

  it('answers 404 for a chat that does not exist, to admin and employee', async () => {
    expectError(await get('/api/chats/4900000000@c.us/messages', admin), 404, 'WA_NOT_FOUND');
    expectError(await get('/api/chats/4900000000@c.us/messages', employee), 404, 'WA_NOT_FOUND');
  });
});

describe('GET /api/media/:messageId', () => {
  it('returns the stored bytes with their type, a download filename and nosniff', async () => {
    const res = await get('/api/media/media-assigned', employee);
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(PDF)).toBe(true);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="Angebot _Q1_.pdf"; filename*=UTF-8''Angebot%20%22Q1%22.pdf`);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-length']).toBe(String(PDF.length));
  });

  it('lets the admin download media of any chat of its tenant', async () => {
    const res = await get('/api/media/media-unassigned', admin);
    expect(res.statusCode).toBe(200);
    expect([...res.rawPayload]).toEqual([1, 2, 3]);
    expect(res.headers['content-disposition']).toBe('attachment');
  });

  it('answers 403 to an employee for media of an unassigned chat', async () => {
    expectError(await get('/api/media/media-unassigned', employee), 403, 'WA_FORBIDDEN');
  });

  it('answers 404 for a message without media and for an unknown message', async () => {
    expectError(await get(`/api/media/${seeded[0]?.id ?? ''}`, admin), 404, 'WA_NOT_FOUND');
    expectError(await get('/api/media/no-such-message', admin), 404, 'WA_NOT_FOUND');
  });
});
