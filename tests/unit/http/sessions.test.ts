import { describe, expect, it } from 'vitest';
import type { PasswordHasher } from '../../../src/http/auth/passwords.js';
import type { RefreshTokens } from '../../../src/http/auth/refresh-tokens.js';
import { createSessionService } from '../../../src/http/auth/sessions.js';
import type { AccessTokens } from '../../../src/http/auth/tokens.js';
import type { Store, UserRecord } from '../../../src/store/types.js';

/** A hasher that records which hashes it was asked to check: the point is what login verifies, not how. */
function recordingHasher() {
  const verified: string[] = [];
  let hashes = 0;
  const hasher: PasswordHasher = {
    async hash(password) {
      hashes += 1;
      return `hash:${password}`;
    },
    async verify(hash, password) {
      verified.push(hash);
      return hash === `hash:${password}`;
    },
    async close() {},
  };
  return { hasher, verified, hashCount: () => hashes };
}

const alice: UserRecord = {
  id: '00000000-0000-4000-8000-00000000000a',
  tenantId: '00000000-0000-4000-8000-000000000001',
  name: 'Alice',
  email: 'alice@example.test',
  role: 'admin',
  disabled: false,
  createdAt: '2030-01-01T00:00:00.000Z',
  passwordHash: 'hash:correct horse',
};

function service(users: UserRecord[]) {
  const recorder = recordingHasher();
  const store = {
    tenants: { createWithAdmin: () => Promise.reject(new Error('unused')) },
    users: {
      findByEmailForLogin: async (email: string) => users.find((u) => u.email === email) ?? null,
      findById: async () => null,
      createEmployee: () => Promise.reject(new Error('unused')),
      listEmployees: async () => [],
      disableEmployee: async () => false,
    },
  } satisfies Pick<Store, 'tenants' | 'users'>;
  const tokens: AccessTokens = { ttlS: 900, sign: async (p) => `access:${p.userId}`, verify: () => Promise.reject(new Error('unused')) };
  const refreshTokens: RefreshTokens = {
    issue: async () => 'refresh',
    rotate: () => Promise.reject(new Error('unused')),
    revoke: async () => {},
    revokeFamily: async () => {},
  };
  return { sessions: createSessionService({ store, hasher: recorder.hasher, tokens, refreshTokens }), recorder };
}

async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'resolved',
    (err: unknown) => (err as { code?: unknown }).code,
  );
}

describe('login', () => {
  it('logs in with the right password, whatever the case of the email', async () => {
    const { sessions } = service([alice]);
    const session = await sessions.login({ email: 'ALICE@example.test', password: 'correct horse' });
    expect(session).toMatchObject({ accessToken: `access:${alice.id}`, refreshToken: 'refresh', user: { id: alice.id, role: 'admin' } });
    expect(session.user).not.toHaveProperty('passwordHash');
  });

  it('answers a wrong password and an unknown email with the same error', async () => {
    const { sessions } = service([alice]);
    const wrong = await sessions.login({ email: alice.email, password: 'wrong' }).catch((e: unknown) => e);
    const unknown = await sessions.login({ email: 'nobody@example.test', password: 'wrong' }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ code: 'WA_UNAUTHENTICATED', message: 'Wrong email or password' });
    expect(unknown).toMatchObject({ code: 'WA_UNAUTHENTICATED', message: 'Wrong email or password' });
  });

  it('runs a full password check for an unknown email, against one dummy hash made once', async () => {
    const { sessions, recorder } = service([alice]);
    await codeOf(sessions.login({ email: 'nobody@example.test', password: 'guess1' }));
    await codeOf(sessions.login({ email: 'nobody2@example.test', password: 'guess2' }));
    expect(recorder.verified).toHaveLength(2);
    expect(recorder.verified[0]).toMatch(/^hash:/);
    expect(recorder.verified[1]).toBe(recorder.verified[0]);
    expect(recorder.hashCount()).toBe(1);
  });

  it('refuses a disabled account even with the right password, with the same message', async () => {
    const { sessions, recorder } = service([{ ...alice, disabled: true }]);
    const err = await sessions.login({ email: alice.email, password: 'correct horse' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WA_UNAUTHENTICATED', message: 'Wrong email or password' });
    expect(recorder.verified).toEqual([alice.passwordHash]);
  });
});
