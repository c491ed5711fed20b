import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Session } from '../../../src/http/schemas.js';
import {
  bearer,
  createTestApp,
  expectError,
  json,
  login,
  registerAdmin,
  uniqueEmail,
  type TestApp,
} from './helper.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('POST /api/auth/register', () => {
  it('creates a tenant named after its admin and returns a working session', async () => {
    const email = uniqueEmail('Reg').toUpperCase();
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/register', payload: { name: 'Rita', email, password: 'long enough' } });
    expect(res.statusCode).toBe(201);
    const session = json<Session>(res);
    expect(session).toMatchObject({ tokenType: 'Bearer', expiresIn: t.config.ACCESS_TOKEN_TTL_S });
    expect(session.user).toEqual({ id: session.user.id, name: 'Rita', email: email.toLowerCase(), role: 'admin', tenantId: session.user.tenantId });
    const employees = await t.app.inject({ method: 'GET', url: '/api/auth/employees', headers: bearer(session.accessToken) });
    expect(employees.statusCode).toBe(200);
  });

  it('refuses an email that already has an account, whatever its case, with 409', async () => {
    const admin = await registerAdmin(t.app);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { name: 'Copy', email: admin.email.toUpperCase(), password: 'long enough' },
    });
    expectError(res, 409, 'WA_CONFLICT');
  });

  const invalid: [string, Record<string, unknown>, RegExp][] = [
    ['a malformed email', { name: 'A', email: 'not-an-email', password: 'long enough' }, /email/],
    ['a password under 8 characters', { name: 'A', email: 'a@example.test', password: 'short' }, /password/],
    ['a missing name', { email: 'a@example.test', password: 'long enough' }, /name/],
    ['a blank name', { name: '   ', email: 'a@example.test', password: 'long enough' }, /name/],
    ['a name over 100 characters', { name: 'n'.repeat(101), email: 'a@example.test', password: 'long enough' }, /name/],
    ['a password over 256 characters', { name: 'A', email: 'a@example.test', password: 'p'.repeat(257) }, /password/],
  ];
  for (const [what, payload, mentions] of invalid) {
    it(`answers 400 WA_VALIDATION naming the field for ${what}`, async () => {
      const res = await t.app.inject({ method: 'POST', url: '/api/auth/register', payload });
      expect(expectError(res, 400, 'WA_VALIDATION').message).toMatch(mentions);
    });
  }

  it('answers 400 for a body that is not JSON', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    expectError(res, 400, 'WA_VALIDATION');
  });
});

describe('POST /api/auth/login', () => {
  it('returns tokens and the user', async () => {
    const admin = await registerAdmin(t.app, 'Lena');
    const session = await login(t.app, admin.email.toUpperCase(), admin.password);
    expect(session.user).toEqual({ ...admin.session.user });
    expect(session.refreshToken).not.toBe(admin.session.refreshToken);
  });

  it('answers a wrong password and an unknown email with the same 401', async () => {
    const admin = await registerAdmin(t.app);
    const wrong = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: admin.email, password: 'wrong password' } });
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: uniqueEmail('nobody'), password: 'wrong password' },
    });
    const a = expectError(wrong, 401, 'WA_UNAUTHENTICATED');
    const b = expectError(unknown, 401, 'WA_UNAUTHENTICATED');
    expect(a).toEqual(b);
  });

  it('answers 400 for a missing password', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'a@example.test' } });
    expectError(res, 400, 'WA_VALIDATION');
  });
});

describe('refresh tokens', () => {
  const refresh = (refreshToken: string) => t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken } });

  it('rotates: a refresh returns a new pair whose access token works', async () => {
    const admin = await registerAdmin(t.app);
    const res = await refresh(admin.session.refreshToken);
    expect(res.statusCode).toBe(200);
    const next = json<Session>(res);
    expect(next.refreshToken).not.toBe(admin.session.refreshToken);
    expect(next.user).toEqual(admin.session.user);
    const chats = await t.app.inject({ method: 'GET', url: '/api/chats', headers: bearer(next.accessToken) });
    expect(chats.statusCode).toBe(200);
    expect((await refresh(next.refreshToken)).statusCode).toBe(200);
  });

  it('treats reuse of a rotated token as theft: 401, and the whole family dies', async () => {
    const admin = await registerAdmin(t.app);
    const first = admin.session.refreshToken;
    const second = json<Session>(await refresh(first)).refreshToken;
    expectError(await refresh(first), 401, 'WA_UNAUTHENTICATED');
    // The legitimate holder of the newest token is logged out too: nobody knows which copy is whose.
    expectError(await refresh(second), 401, 'WA_UNAUTHENTICATED');
  });

  it('leaves other logins of the same user alone when one family is revoked', async () => {
    const admin = await registerAdmin(t.app);
    const other = await login(t.app, admin.email, admin.password);
    await refresh(admin.session.refreshToken);
    await refresh(admin.session.refreshToken); // reuse: kills the first family only
    expect((await refresh(other.refreshToken)).statusCode).toBe(200);
  });

  it('logout answers 204 and revokes the token and its family', async () => {
    const admin = await registerAdmin(t.app);
    const rotated = json<Session>(await refresh(admin.session.refreshToken)).refreshToken;
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refreshToken: rotated } });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expectError(await refresh(rotated), 401, 'WA_UNAUTHENTICATED');
  });

  it('logout of an unknown token is a no-op 204', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refreshToken: 'never-issued' } });
    expect(res.statusCode).toBe(204);
  });

  it('answers 401 to an unknown refresh token and 400 to a missing one', async () => {
    expectError(await refresh('never-issued'), 401, 'WA_UNAUTHENTICATED');
    expectError(await t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: {} }), 400, 'WA_VALIDATION');
  });

  it('stores only a hash of the refresh token', async () => {
    const admin = await registerAdmin(t.app);
    const rows = await t.db.sql<{ token_hash: string }[]>`SELECT token_hash FROM refresh_tokens WHERE user_id = ${admin.session.user.id}`;
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.token_hash).not.toContain(admin.session.refreshToken);
  });
});

describe('logs', () => {
  it('never contain passwords, access tokens or refresh tokens', async () => {
    const admin = await registerAdmin(t.app);
    const session = await login(t.app, admin.email, admin.password);
    await t.app.inject({ method: 'GET', url: '/api/chats', headers: bearer(session.accessToken) });
    await t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: session.refreshToken } });
    await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: admin.email, password: 'a wrong one' } });
    const all = t.logs.join('\n');
    expect(all).toContain('request completed'); // the capture works
    for (const secret of [admin.password, 'a wrong one', session.accessToken, session.refreshToken, admin.session.refreshToken]) {
      expect(all).not.toContain(secret);
    }
  });
});
