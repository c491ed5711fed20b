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
  uniqueEmail,
  type Account,
  type TestApp,
} from './helper.js';

const changes: AccessChange[] = [];
let t: TestApp;
let admin: Account;
beforeAll(async () => {
  t = await createTestApp({ onAccessChange: (change) => void changes.push(change) });
  admin = await registerAdmin(t.app, 'Boss');
});
afterAll(async () => {
  await t?.close();
});

const asAdmin = () => bearer(admin.session.accessToken);

describe('POST /api/auth/create-station', () => {
  it('creates an employee in the admin\'s tenant who can log in', async () => {
    const email = uniqueEmail('station');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/create-station',
      headers: asAdmin(),
      payload: { name: 'Front desk', email, password: 'station-pass' },
    });
    expect(res.statusCode).toBe(201);
    const employee = json(res);
    expect(employee).toMatchObject({ name: 'Front desk', email, role: 'employee', tenantId: admin.session.user.tenantId, disabled: false });
    expect(employee).not.toHaveProperty('passwordHash');
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: 'station-pass' } });
    expect(json(login)).toMatchObject({ user: { role: 'employee', tenantId: admin.session.user.tenantId } });
  });

  it('answers 409 for an email already in use', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/create-station',
      headers: asAdmin(),
      payload: { name: 'Copy', email: admin.email, password: 'station-pass' },
    });
    expectError(res, 409, 'WA_CONFLICT');
  });

  it('answers 400 for a short password', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/create-station',
      headers: asAdmin(),
      payload: { name: 'X', email: uniqueEmail(), password: '1234567' },
    });
    expectError(res, 400, 'WA_VALIDATION');
  });
});

describe('GET /api/auth/employees', () => {
  it('lists the tenant\'s employees', async () => {
    const a = await createEmployee(t.app, admin, 'Listed A');
    const res = await t.app.inject({ method: 'GET', url: '/api/auth/employees', headers: asAdmin() });
    expect(res.statusCode).toBe(200);
    const list = json<{ id: string; role: string }[]>(res);
    expect(list.map((e) => e.id)).toContain(a.id);
    expect(list.every((e) => e.role === 'employee')).toBe(true);
  });
});

describe('employees on admin routes', () => {
  it('answers 403 on every admin route', async () => {
    const employee = await createEmployee(t.app, admin);
    const headers = bearer(employee.session.accessToken);
    const calls = [
      t.app.inject({ method: 'POST', url: '/api/auth/create-station', headers, payload: { name: 'X', email: uniqueEmail(), password: 'password1' } }),
      t.app.inject({ method: 'GET', url: '/api/auth/employees', headers }),
      t.app.inject({ method: 'DELETE', url: `/api/auth/employees/${employee.id}`, headers }),
      t.app.inject({ method: 'POST', url: '/api/permissions/assign', headers, payload: { employeeId: employee.id, chatId: '123456@c.us' } }),
      t.app.inject({ method: 'POST', url: '/api/permissions/revoke', headers, payload: { employeeId: employee.id, chatId: '123456@c.us' } }),
      t.app.inject({ method: 'GET', url: '/api/permissions', headers }),
    ];
    for (const res of await Promise.all(calls)) expectError(res, 403, 'WA_FORBIDDEN');
  });
});

describe('DELETE /api/auth/employees/:id', () => {
  it('disables at once: tokens, refresh tokens, login and permissions all stop working', async () => {
    const { chat } = await seedChat(t.db.store, admin.session.user.tenantId, { chatId: '4917000001@c.us', name: 'Desk', count: 1, label: 'del' });
    const employee = await createEmployee(t.app, admin);
    await assign(t.app, admin, employee.id, chat.id);
    const res = await t.app.inject({ method: 'DELETE', url: `/api/auth/employees/${employee.id}`, headers: asAdmin() });
    expect(res.statusCode).toBe(204);

    expectError(await t.app.inject({ method: 'GET', url: '/api/chats', headers: bearer(employee.session.accessToken) }), 401, 'WA_UNAUTHENTICATED');
    const refresh = await t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: employee.session.refreshToken } });
    expectError(refresh, 401, 'WA_UNAUTHENTICATED');
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: employee.email, password: employee.password } });
    expectError(login, 401, 'WA_UNAUTHENTICATED');
    expect(await t.db.store.permissions.listForUser(admin.session.user.tenantId, employee.id)).toEqual([]);
    expect(changes).toContainEqual({ type: 'employee.disabled', tenantId: admin.session.user.tenantId, userId: employee.id });
  });

  it('answers 404 for an unknown id and for the admin itself', async () => {
    expectError(
      await t.app.inject({ method: 'DELETE', url: '/api/auth/employees/00000000-0000-4000-8000-000000000000', headers: asAdmin() }),
      404,
      'WA_NOT_FOUND',
    );
    expectError(
      await t.app.inject({ method: 'DELETE', url: `/api/auth/employees/${admin.session.user.id}`, headers: asAdmin() }),
      404,
      'WA_NOT_FOUND',
    );
  });

  it('answers 404 for an employee of another tenant, and leaves that employee working', async () => {
    const otherAdmin = await registerAdmin(t.app, 'Other');
    const victim = await createEmployee(t.app, otherAdmin);
    const res = await t.app.inject({ method: 'DELETE', url: `/api/auth/employees/${victim.id}`, headers: asAdmin() });
    expectError(res, 404, 'WA_NOT_FOUND');
    expect((await t.app.inject({ method: 'GET', url: '/api/chats', headers: bearer(victim.session.accessToken) })).statusCode).toBe(200);
  });

  it('answers 400 for an id that is not a UUID', async () => {
    expectError(await t.app.inject({ method: 'DELETE', url: '/api/auth/employees/42', headers: asAdmin() }), 400, 'WA_VALIDATION');
  });
});
