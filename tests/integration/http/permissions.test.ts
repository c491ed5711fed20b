import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessChange } from '../../../src/http/access-events.js';
import {
  assign,
  bearer,
  createEmployee,
  createTestApp,
  expectError,
  json,
  registerAdmin,
  seedChat,
  type Account,
  type TestApp,
} from './helper.js';

const changes: AccessChange[] = [];
let t: TestApp;
let admin: Account;
let employee: Account & { id: string };
const CHAT = '4917100001@c.us';
const OTHER_CHAT = '4917100002@c.us';

beforeAll(async () => {
  t = await createTestApp({ onAccessChange: (change) => void changes.push(change) });
  admin = await registerAdmin(t.app);
  employee = await createEmployee(t.app, admin);
  await seedChat(t.db.store, admin.session.user.tenantId, { chatId: CHAT, name: 'Customer', count: 2, label: 'perm' });
  await seedChat(t.db.store, admin.session.user.tenantId, { chatId: OTHER_CHAT, name: 'Supplier', count: 1, label: 'perm2' });
});
afterAll(async () => {
  await t?.close();
});

const post = (path: string, payload: Record<string, unknown>) =>
  t.app.inject({ method: 'POST', url: `/api/permissions/${path}`, headers: bearer(admin.session.accessToken), payload });
const list = (query = '') => t.app.inject({ method: 'GET', url: `/api/permissions${query}`, headers: bearer(admin.session.accessToken) });
const messagesAsEmployee = (chatId: string) =>
  t.app.inject({ method: 'GET', url: `/api/chats/${chatId}/messages`, headers: bearer(employee.session.accessToken) });

describe('permissions', () => {
  it('assign lets the employee read the chat; revoke stops it on the next request', async () => {
    expectError(await messagesAsEmployee(CHAT), 403, 'WA_FORBIDDEN');
    expect((await post('assign', { employeeId: employee.id, chatId: CHAT })).statusCode).toBe(204);
    expect((await messagesAsEmployee(CHAT)).statusCode).toBe(200);
    expect(changes).toContainEqual({ type: 'permission.assigned', tenantId: admin.session.user.tenantId, userId: employee.id, chatId: CHAT });

    expect((await post('revoke', { employeeId: employee.id, chatId: CHAT })).statusCode).toBe(204);
    expectError(await messagesAsEmployee(CHAT), 403, 'WA_FORBIDDEN');
    expect(changes).toContainEqual({ type: 'permission.revoked', tenantId: admin.session.user.tenantId, userId: employee.id, chatId: CHAT });
  });

  it('assign is idempotent and revoke of a missing permission is a 204 no-op', async () => {
    await assign(t.app, admin, employee.id, OTHER_CHAT);
    await assign(t.app, admin, employee.id, OTHER_CHAT);
    expect((await post('revoke', { employeeId: employee.id, chatId: CHAT })).statusCode).toBe(204);
  });

  it('lists all permissions of the tenant, or one employee\'s', async () => {
    const second = await createEmployee(t.app, admin);
    await assign(t.app, admin, employee.id, OTHER_CHAT);
    await assign(t.app, admin, second.id, CHAT);
    const all = json<{ employeeId: string; chatId: string; grantedAt: string }[]>(await list());
    expect(all).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ employeeId: employee.id, chatId: OTHER_CHAT }),
        expect.objectContaining({ employeeId: second.id, chatId: CHAT }),
      ]),
    );
    const mine = json<{ employeeId: string }[]>(await list(`?employeeId=${second.id}`));
    expect(mine.map((p) => p.employeeId)).toEqual([second.id]);
  });

  it('answers 404 for a chat the tenant does not have, and for an unknown employee', async () => {
    expectError(await post('assign', { employeeId: employee.id, chatId: '4999999999@c.us' }), 404, 'WA_NOT_FOUND');
    expectError(await post('revoke', { employeeId: employee.id, chatId: '4999999999@c.us' }), 404, 'WA_NOT_FOUND');
    const ghost = '00000000-0000-4000-8000-000000000000';
    expectError(await post('assign', { employeeId: ghost, chatId: CHAT }), 404, 'WA_NOT_FOUND');
    expectError(await list(`?employeeId=${ghost}`), 404, 'WA_NOT_FOUND');
  });

  it('answers 404 when the target is the admin rather than an employee', async () => {
    expectError(await post('assign', { employeeId: admin.session.user.id, chatId: CHAT }), 404, 'WA_NOT_FOUND');
  });

  it('answers 400 for malformed ids', async () => {
    expectError(await post('assign', { employeeId: 'nope', chatId: CHAT }), 400, 'WA_VALIDATION');
    expectError(await post('assign', { employeeId: employee.id, chatId: 'not a chat id' }), 400, 'WA_VALIDATION');
    expectError(await post('revoke', { employeeId: employee.id }), 400, 'WA_VALIDATION');
    expectError(await list('?employeeId=42'), 400, 'WA_VALIDATION');
  });
});
