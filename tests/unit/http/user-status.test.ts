import { describe, expect, it } from 'vitest';
import type { User } from '../../../src/domain/types.js';
import { createUserStatusCache } from '../../../src/http/auth/user-status.js';

const TENANT = '00000000-0000-4000-8000-000000000001';
const USER = '00000000-0000-4000-8000-000000000002';

/** A user repo whose answers the test controls, counting reads and able to hold one read open. */
function fakeUsers() {
  const state = { disabled: false, reads: 0 };
  let held: { release: () => void } | null = null;
  let hold = false;
  const user = (): User => ({ id: USER, tenantId: TENANT, name: 'E', email: 'e@x.test', role: 'employee', disabled: state.disabled, createdAt: '2030-01-01T00:00:00.000Z' });
  return {
    state,
    holdNextRead: () => void (hold = true),
    releaseHeldRead: () => held?.release(),
    repo: {
      async findById(tenantId: string, userId: string): Promise<User | null> {
        state.reads += 1;
        const snapshot = tenantId === TENANT && userId === USER ? user() : null;
        if (hold) {
          hold = false;
          await new Promise<void>((resolve) => (held = { release: resolve }));
        }
        return snapshot;
      },
    },
  };
}

function manualClock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe('user status cache', () => {
  it('reads the store once per TTL for an active user', async () => {
    const users = fakeUsers();
    const clock = manualClock();
    const cache = createUserStatusCache({ users: users.repo, clock, ttlMs: 1000 });
    expect(await cache.isActive(TENANT, USER)).toBe(true);
    expect(await cache.isActive(TENANT, USER)).toBe(true);
    expect(users.state.reads).toBe(1);
    clock.advance(1000);
    expect(await cache.isActive(TENANT, USER)).toBe(true);
    expect(users.state.reads).toBe(2);
  });

  it('refuses a user at once after markDisabled, without waiting for the TTL', async () => {
    const users = fakeUsers();
    const cache = createUserStatusCache({ users: users.repo, clock: manualClock(), ttlMs: 60_000 });
    expect(await cache.isActive(TENANT, USER)).toBe(true);
    cache.markDisabled(USER);
    expect(await cache.isActive(TENANT, USER)).toBe(false);
  });

  it('does not let a store read that raced a disable cache the user as active', async () => {
    const users = fakeUsers();
    const cache = createUserStatusCache({ users: users.repo, clock: manualClock(), ttlMs: 60_000 });
    users.holdNextRead();
    const racing = cache.isActive(TENANT, USER); // reads "active" before the disable commits
    users.state.disabled = true;
    cache.markDisabled(USER);
    users.releaseHeldRead();
    expect(await racing).toBe(false);
    expect(await cache.isActive(TENANT, USER)).toBe(false);
  });

  it('learns of a disable on another node from the store once the entry expires', async () => {
    const users = fakeUsers();
    const clock = manualClock();
    const cache = createUserStatusCache({ users: users.repo, clock, ttlMs: 1000 });
    expect(await cache.isActive(TENANT, USER)).toBe(true);
    users.state.disabled = true;
    clock.advance(1000);
    expect(await cache.isActive(TENANT, USER)).toBe(false);
  });

  it('treats a user unknown in the claimed tenant as inactive', async () => {
    const users = fakeUsers();
    const cache = createUserStatusCache({ users: users.repo, clock: manualClock() });
    expect(await cache.isActive('00000000-0000-4000-8000-0000000000ff', USER)).toBe(false);
  });

  it('rereads after invalidate', async () => {
    const users = fakeUsers();
    const cache = createUserStatusCache({ users: users.repo, clock: manualClock(), ttlMs: 60_000 });
    await cache.isActive(TENANT, USER);
    cache.invalidate(USER);
    users.state.disabled = true;
    expect(await cache.isActive(TENANT, USER)).toBe(false);
    expect(users.state.reads).toBe(2);
  });

  it('keeps at most maxEntries users', async () => {
    const users = fakeUsers();
    const cache = createUserStatusCache({ users: users.repo, clock: manualClock(), ttlMs: 60_000, maxEntries: 1 });
    await cache.isActive(TENANT, USER);
    await cache.isActive(TENANT, '00000000-0000-4000-8000-000000000003');
    await cache.isActive(TENANT, USER);
    expect(users.state.reads).toBe(3);
  });
  it('makes one store read for many concurrent checks of the same user', async () => {
    const users = fakeUsers();
    const cache = createUserStatusCache({ users: users.repo, clock: manualClock(), ttlMs: 1000 });
    users.holdNextRead();
    const checks = Array.from({ length: 64 }, () => cache.isActive(TENANT, USER));
    users.releaseHeldRead();
    expect(await Promise.all(checks)).toEqual(Array.from({ length: 64 }, () => true));
    expect(users.state.reads).toBe(1);
  });

  it('does not let a check after a disable join a read that began before it', async () => {
    const users = fakeUsers();
    const cache = createUserStatusCache({ users: users.repo, clock: manualClock(), ttlMs: 60_000 });
    users.holdNextRead();
    const before = cache.isActive(TENANT, USER);
    users.state.disabled = true;
    cache.invalidate(USER);
    const after = cache.isActive(TENANT, USER);
    users.releaseHeldRead();
    expect(await after).toBe(false);
    expect(await before).toBe(false); // the newer answer wins for the older check too
    expect(users.state.reads).toBe(2);
  });

  it('rereads an entry in use in the background after half its TTL, answering from memory meanwhile', async () => {
    const users = fakeUsers();
    const clock = manualClock();
    const cache = createUserStatusCache({ users: users.repo, clock, ttlMs: 1000 });
    expect(await cache.isActive(TENANT, USER)).toBe(true);
    clock.advance(400);
    expect(await cache.isActive(TENANT, USER)).toBe(true);
    expect(users.state.reads).toBe(1); // young entry: no refresh
    clock.advance(200);
    users.holdNextRead();
    users.state.disabled = true;
    expect(await cache.isActive(TENANT, USER)).toBe(true); // still within its TTL: answered at once
    expect(users.state.reads).toBe(2); // and the refresh went out
    users.releaseHeldRead();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await cache.isActive(TENANT, USER)).toBe(false); // the refresh's answer replaced the entry
    expect(users.state.reads).toBe(2);
  });
});
