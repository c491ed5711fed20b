import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectError, registerAdmin, uniqueEmail, type Account, type TestApp } from './helper.js';

const LIMIT = 3;
let t: TestApp;
let admin: Account;
beforeAll(async () => {
  t = await createTestApp({ env: { LOGIN_RATE_LIMIT: String(LIMIT), LOGIN_RATE_WINDOW_S: '600' } });
  admin = await registerAdmin(t.app);
});
afterAll(async () => {
  await t?.close();
});

const attempt = (email: string, password: string, remoteAddress: string) =>
  t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password }, remoteAddress });

describe('login rate limit', () => {
  it('answers the (N+1)-th attempt on one account with 429 and Retry-After, even from new addresses and with the right password', async () => {
    for (let i = 0; i < LIMIT; i++) {
      expect((await attempt(admin.email, 'wrong password', `10.0.0.${i + 1}`)).statusCode).toBe(401);
    }
    const res = await attempt(admin.email.toUpperCase(), admin.password, '10.0.1.1');
    expectError(res, 429, 'WA_RATE_LIMITED');
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
  });

  it('answers the (N+1)-th attempt from one address with 429, whatever account it tries', async () => {
    for (let i = 0; i < LIMIT; i++) {
      expect((await attempt(uniqueEmail('spray'), 'wrong password', '10.9.9.9')).statusCode).toBe(401);
    }
    const res = await attempt(uniqueEmail('spray'), 'wrong password', '10.9.9.9');
    expectError(res, 429, 'WA_RATE_LIMITED');
    expect(res.headers['retry-after']).toBeDefined();
  });

  it('keeps other accounts on other addresses unaffected', async () => {
    const other = await registerAdmin(t.app);
    expect((await attempt(other.email, other.password, '10.7.7.7')).statusCode).toBe(200);
  });
});
