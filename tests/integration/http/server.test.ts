import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectError, json, registerAdmin, type TestApp } from './helper.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { BODY_LIMIT_BYTES: '2048', CORS_ORIGINS: 'https://app.example.test, https://admin.example.test' } });
});
afterAll(async () => {
  await t?.close();
});

describe('health probes', () => {
  it('GET /healthz answers ok', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect({ status: res.statusCode, body: json(res) }).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('GET /readyz answers ok while the database answers', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect({ status: res.statusCode, body: json(res) }).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('GET /readyz answers 503 WA_STORE_UNAVAILABLE when the database is gone', async () => {
    const down = await createTestApp();
    try {
      await down.db.close(); // the app keeps a store whose pool has ended: every query fails for real
      const res = await down.app.inject({ method: 'GET', url: '/readyz' });
      expect(expectError(res, 503, 'WA_STORE_UNAVAILABLE').message).not.toMatch(/postgres|connect|ECONN/i);
      expect((await down.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await down.close();
    }
  });
});

describe('request handling', () => {
  it('answers unknown routes with 404 in the shared error shape', async () => {
    expectError(await t.app.inject({ method: 'GET', url: '/api/nothing-here' }), 404, 'WA_NOT_FOUND');
    expectError(await t.app.inject({ method: 'POST', url: '/api/chats' }), 404, 'WA_NOT_FOUND');
  });

  it('answers 413 to a body over BODY_LIMIT_BYTES', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'a@example.test', password: 'x'.repeat(4096) },
    });
    expectError(res, 413, 'WA_VALIDATION');
  });

  it('answers 415 to a body that is not JSON', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    expectError(res, 415, 'WA_VALIDATION');
  });

  it('gives every response a request id, keeping a plain one the caller sent', async () => {
    const generated = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'trace-123' } });
    expect(kept.headers['x-request-id']).toBe('trace-123');
    const replaced = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id with spaces <script>' } });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const failed = await t.app.inject({ method: 'GET', url: '/api/chats' });
    expect(failed.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('sets security headers on API responses', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
  });

  it('allows only the configured CORS origins', async () => {
    const preflight = (origin: string) =>
      t.app.inject({
        method: 'OPTIONS',
        url: '/api/chats',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
    const allowed = await preflight('https://admin.example.test');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://admin.example.test');
    expect(String(allowed.headers['access-control-allow-headers'])).toContain('authorization');
    const other = await preflight('https://evil.example.test');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('buildApp lifecycle', () => {
  it('runs beforeReady with the finished app, before it is ready', async () => {
    const seen: boolean[] = [];
    const hooked = await createTestApp({
      beforeReady: (app) => {
        seen.push(app.hasRoute({ method: 'GET', url: '/api/chats' }));
        // Adding a route throws once an app is ready: this one working proves the hook ran before.
        app.get('/extra', async () => ({ status: 'ok' as const }));
      },
    });
    try {
      expect(seen).toEqual([true]);
      expect((await hooked.app.inject({ method: 'GET', url: '/extra' })).statusCode).toBe(200);
    } finally {
      await hooked.close();
    }
  });

  it('hashes passwords on its own pool and stops it on close', async () => {
    const own = await createTestApp({ passwordHasher: 'owned-by-app' });
    try {
      const admin = await registerAdmin(own.app);
      expect(admin.session.user.role).toBe('admin');
      const [row] = await own.db.sql<{ password_hash: string }[]>`SELECT password_hash FROM users WHERE id = ${admin.session.user.id}`;
      expect(row?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    } finally {
      await own.close();
    }
    // A second close is harmless (main.ts may close on both a signal and a fatal error).
    await expect(own.app.close()).resolves.toBeUndefined();
  });
});
