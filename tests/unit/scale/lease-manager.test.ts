import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StaleEpochError } from '../../../src/domain/errors.js';
import { createLogger } from '../../../src/domain/log.js';
import { createLeaseManager } from '../../../src/supervisor/leases/lease-manager.js';
import type { LeaseStore } from '../../../src/supervisor/leases/lease-store.js';
import { createMemoryLeaseStore } from '../../../src/supervisor/leases/memory-lease-store.js';

const TTL = 3_000;
const log = createLogger({ level: 'silent' });
const clock = { now: () => Date.now() };

/** The session repository's part the manager uses: the epoch floor and the claim. */
function fakeSessions() {
  const epochs = new Map<string, number>();
  return {
    epochs,
    async get(tenantId: string) {
      const leaseEpoch = epochs.get(tenantId);
      return leaseEpoch === undefined ? null : { tenantId, leaseEpoch, desiredState: 'active' as const, status: 'connected' as const, statusReason: null, ownerNode: null, updatedAt: '' };
    },
    async claim(tenantId: string, epoch: number) {
      if ((epochs.get(tenantId) ?? 0) > epoch) throw new StaleEpochError(tenantId, epoch);
      epochs.set(tenantId, epoch);
    },
  };
}

/** A memory store whose renewals can be made to fail, as an unreachable Redis would. */
function flakyStore(): LeaseStore & { down: boolean; renewals: number; delayMs: number } {
  const inner = createMemoryLeaseStore({ clock });
  const store = {
    down: false,
    renewals: 0,
    /** How long each renewal takes to answer (a slow Redis). */
    delayMs: 0,
    acquire: inner.acquire,
    release: inner.release,
    holders: inner.holders,
    async renew(nodeId: string, held: readonly { tenantId: string; epoch: number }[], ttlMs: number) {
      store.renewals++;
      if (store.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, store.delayMs));
      if (store.down) throw new Error('connection closed');
      return inner.renew(nodeId, held, ttlMs);
    },
  };
  return store;
}

describe('lease manager', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands out epochs above the one recorded in the store and records each claim', async () => {
    const sessions = fakeSessions();
    sessions.epochs.set('t1', 41);
    const leases = createLeaseManager({ store: createMemoryLeaseStore({ clock }), sessions, nodeId: 'a', ttlMs: TTL, clock, log });
    const lease = await leases.acquire('t1');
    expect(lease?.epoch).toBe(42);
    expect(sessions.epochs.get('t1')).toBe(42);
    await leases.close();
  });

  it('refuses a tenant another node holds, and gives it out once released', async () => {
    const store = createMemoryLeaseStore({ clock });
    const sessions = fakeSessions();
    const a = createLeaseManager({ store, sessions, nodeId: 'a', ttlMs: TTL, clock, log });
    const b = createLeaseManager({ store, sessions, nodeId: 'b', ttlMs: TTL, clock, log });
    const first = await a.acquire('t1');
    expect(await b.acquire('t1')).toBeNull();
    expect(await b.holders(['t1'])).toEqual([expect.objectContaining({ nodeId: 'a', epoch: first?.epoch })]);
    await a.release('t1');
    const second = await b.acquire('t1');
    expect(second?.epoch).toBeGreaterThan(first?.epoch ?? Infinity);
    await Promise.all([a.close(), b.close()]);
  });

  it('runs one acquisition per tenant at a time, so concurrent callers share one epoch', async () => {
    const leases = createLeaseManager({ store: createMemoryLeaseStore({ clock }), sessions: fakeSessions(), nodeId: 'a', ttlMs: TTL, clock, log });
    const [x, y] = await Promise.all([leases.acquire('t1'), leases.acquire('t1')]);
    expect(x?.epoch).toBe(y?.epoch);
    await leases.close();
  });

  it('keeps a lease alive past its TTL by renewing it', async () => {
    const store = flakyStore();
    const leases = createLeaseManager({ store, sessions: fakeSessions(), nodeId: 'a', ttlMs: TTL, clock, log });
    const lost = vi.fn();
    leases.onLost(lost);
    await leases.acquire('t1');
    await vi.advanceTimersByTimeAsync(TTL * 4);
    expect(lost).not.toHaveBeenCalled();
    expect(leases.held('t1')).toBeDefined();
    expect(store.renewals).toBeGreaterThanOrEqual(10);
    await leases.close();
  });

  it('fences itself when it cannot renew: the lease is reported lost while the store still shows it held', async () => {
    const store = flakyStore();
    const leases = createLeaseManager({ store, sessions: fakeSessions(), nodeId: 'a', ttlMs: TTL, clock, log });
    const acquiredAt = Date.now();
    await leases.acquire('t1');
    let lostAt: number | undefined;
    let heldInStoreWhenLost: unknown;
    leases.onLost((tenantId) => {
      lostAt = Date.now();
      // Synchronously, as the listener runs: what another node would see right now.
      void store.holders([tenantId]).then((h) => (heldInStoreWhenLost = h[0]));
    });
    store.down = true;
    await vi.advanceTimersByTimeAsync(TTL);
    expect(lostAt).toBeDefined();
    expect(leases.held('t1')).toBeUndefined();
    expect(heldInStoreWhenLost).toMatchObject({ nodeId: 'a' });
    // A third of the TTL is left for the actor to stop before anyone else may take the lease.
    expect((lostAt ?? Infinity) - acquiredAt).toBeLessThanOrEqual(TTL - TTL / 3);
    await leases.close();
  });

  it('keeps a lease whose renewal answers late but within a quarter of the margin of its fencing deadline', async () => {
    const store = flakyStore();
    const leases = createLeaseManager({ store, sessions: fakeSessions(), nodeId: 'a', ttlMs: TTL, clock, log });
    const lost = vi.fn();
    leases.onLost(lost);
    await leases.acquire('t1');
    // The renewal sent at TTL/3 answers 1.1 s later, 100 ms past the fencing deadline (2/3 TTL).
    store.delayMs = 1_100;
    await vi.advanceTimersByTimeAsync(2_200);
    expect(lost).not.toHaveBeenCalled();
    expect(leases.held('t1')).toBeDefined();
    await leases.close();
  });

  it('gives a lease up when the last renewal before its deadline does not answer in time', async () => {
    const store = flakyStore();
    const leases = createLeaseManager({ store, sessions: fakeSessions(), nodeId: 'a', ttlMs: TTL, clock, log });
    const lost = vi.fn();
    leases.onLost(lost);
    await leases.acquire('t1');
    store.delayMs = 2_000;
    await vi.advanceTimersByTimeAsync(2_000 + TTL / 12 + 10);
    expect(lost).toHaveBeenCalledWith('t1', expect.stringContaining('self-fencing'));
    await leases.close();
  });

  it('reports a lease lost at once when a renewal finds another holder', async () => {
    const inner = createMemoryLeaseStore({ clock });
    const leases = createLeaseManager({ store: inner, sessions: fakeSessions(), nodeId: 'a', ttlMs: TTL, clock, log });
    const lease = await leases.acquire('t1');
    const reasons: string[] = [];
    leases.onLost((_t, reason) => reasons.push(reason));
    // Someone deleted it behind our back (an operator, a flushed Redis) and another node took it.
    await inner.release('t1', 'a', lease?.epoch ?? 0);
    expect(await inner.acquire('t1', 'b', TTL, 1)).not.toBeNull();
    await vi.advanceTimersByTimeAsync(TTL / 3 + 10);
    expect(reasons).toEqual(['taken over or expired']);
    await leases.close();
  });

  it('releases every lease on close', async () => {
    const store = createMemoryLeaseStore({ clock });
    const leases = createLeaseManager({ store, sessions: fakeSessions(), nodeId: 'a', ttlMs: TTL, clock, log });
    await leases.acquire('t1');
    await leases.acquire('t2');
    await leases.close();
    expect(await store.holders(['t1', 't2'])).toEqual([null, null]);
    expect(await leases.acquire('t3')).toBeNull();
  });
});
