import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessTokens } from '../../../src/http/auth/tokens.js';
import type { Session } from '../../../src/http/schemas.js';
import { bearer, createEmployee, createTestApp, expectError, json, registerAdmin, type Account, type TestApp } from './helper.js';

/** A clock the test moves; the app reads it for token issue and expiry. */
const clock = (() => {
  let now = Date.parse('2030-06-01T00:00:00Z');
  return { now: () => now, advance: (ms: number) => void (now += ms) };
})();

let t: TestApp;
let admin: Account;
beforeAll(async () => {
  t = await createTestApp({ clock });
  admin = await registerAdmin(t.app);
});
afterAll(async () => {
  await t?.close();
});

const chats = (headers: Record<string, string>) => t.app.inject({ method: 'GET', url: '/api/chats', headers });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('access token check on protected routes', () => {
  it('accepts a valid token', async () => {
    expect((await chats(bearer(admin.session.accessToken))).statusCode).toBe(200);
  });

  it('answers 401 with WWW-Authenticate: Bearer when no token is sent', async () => {
    const res = await chats({});
    expectError(res, 401, 'WA_UNAUTHENTICATED');
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('answers 401 to a malformed Authorization header and to a token that is not a JWT', async () => {
    expectError(await chats({ authorization: 'Basic dXNlcjpwYXNz' }), 401, 'WA_UNAUTHENTICATED');
    expectError(await chats({ authorization: 'Bearer' }), 401, 'WA_UNAUTHENTICATED');
    expectError(await chats(bearer('a.b.c')), 401, 'WA_UNAUTHENTICATED');
  });

  it('answers 401 to a token signed with another secret', async () => {
    const forger = createAccessTokens({ secret: 'x'.repeat(48), issuer: t.config.JWT_ISSUER, ttlS: 900, clock });
    const forged = await forger.sign({ userId: admin.session.user.id, tenantId: admin.session.user.tenantId, role: 'admin' });
    expectError(await chats(bearer(forged)), 401, 'WA_UNAUTHENTICATED');
  });

  it('answers 401 to an unsigned alg:none token naming a real admin', async () => {
    const { kid } = decodeProtectedHeader(admin.session.accessToken);
    const nowS = Math.floor(clock.now() / 1000);
    const claims = { sub: admin.session.user.id, tid: admin.session.user.tenantId, role: 'admin', typ: 'access', iss: t.config.JWT_ISSUER, iat: nowS, exp: nowS + 600 };
    expectError(await chats(bearer(`${b64({ alg: 'none', typ: 'JWT', kid })}.${b64(claims)}.`)), 401, 'WA_UNAUTHENTICATED');
  });

  it('answers 401 "expired" once the token outlives its TTL', async () => {
    const session = json<Session>(
      await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: admin.email, password: admin.password } }),
    );
    clock.advance(t.config.ACCESS_TOKEN_TTL_S * 1000);
    const res = await chats(bearer(session.accessToken));
    expect(expectError(res, 401, 'WA_UNAUTHENTICATED').message).toMatch(/expired/);
    // The refresh token outlives it and yields a fresh one.
    const refreshed = await t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: session.refreshToken } });
    expect((await chats(bearer(json<Session>(refreshed).accessToken))).statusCode).toBe(200);
  });

  it('answers 401 to an expired refresh token', async () => {
    const session = json<Session>(
      await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: admin.email, password: admin.password } }),
    );
    clock.advance(t.config.REFRESH_TOKEN_TTL_S * 1000);
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: session.refreshToken } });
    expect(expectError(res, 401, 'WA_UNAUTHENTICATED').message).toMatch(/expired/);
  });

  it('answers 401 to a refresh token used as an access token', async () => {
    const session = json<Session>(
      await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: admin.email, password: admin.password } }),
    );
    expectError(await chats(bearer(session.refreshToken)), 401, 'WA_UNAUTHENTICATED');
  });

  it('answers 401 to a well-signed token of a user that does not exist', async () => {
    const tokens = createAccessTokens({ secret: t.config.JWT_SECRET, issuer: t.config.JWT_ISSUER, ttlS: 900, clock });
    const ghost = await tokens.sign({ userId: randomUUID(), tenantId: admin.session.user.tenantId, role: 'admin' });
    expectError(await chats(bearer(ghost)), 401, 'WA_UNAUTHENTICATED');
  });

  it('refuses the token of a disabled employee on the very next request', async () => {
    const fresh = json<Session>(
      await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: admin.email, password: admin.password } }),
    );
    const employee = await createEmployee(t.app, { ...admin, session: fresh });
    expect((await chats(bearer(employee.session.accessToken))).statusCode).toBe(200); // now cached as active
    const del = await t.app.inject({ method: 'DELETE', url: `/api/auth/employees/${employee.id}`, headers: bearer(fresh.accessToken) });
    expect(del.statusCode).toBe(204);
    const res = await chats(bearer(employee.session.accessToken));
    expect(expectError(res, 401, 'WA_UNAUTHENTICATED').message).toMatch(/disabled/);
  });

  it('offers the same check for bare tokens (Socket.IO handshakes) on the app', async () => {
    const fresh = json<Session>(
      await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: admin.email, password: admin.password } }),
    );
    await expect(t.app.authenticateToken(fresh.accessToken)).resolves.toEqual({
      userId: admin.session.user.id,
      tenantId: admin.session.user.tenantId,
      role: 'admin',
    });
    await expect(t.app.authenticateToken(fresh.refreshToken)).rejects.toMatchObject({ code: 'WA_UNAUTHENTICATED' });
  });

  it('accepts tokens signed with a previous secret after a key rotation', async () => {
    const rotated = await createTestApp({ clock, env: { JWT_SECRET: 'new-secret-after-rotation-0123456789abcdef', JWT_PREVIOUS_SECRETS: t.config.JWT_SECRET } });
    try {
      // Each test app has its own schema: the user is registered there, the token made with the old secret.
      const local = await registerAdmin(rotated.app);
      const old = createAccessTokens({ secret: t.config.JWT_SECRET, issuer: t.config.JWT_ISSUER, ttlS: 900, clock });
      const token = await old.sign({ userId: local.session.user.id, tenantId: local.session.user.tenantId, role: 'admin' });
      const res = await rotated.app.inject({ method: 'GET', url: '/api/chats', headers: bearer(token) });
      expect(res.statusCode).toBe(200);
    } finally {
      await rotated.close();
    }
  });
});
