import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError, ErrorCodes } from '../../../src/domain/errors.js';
import { createLogger } from '../../../src/domain/log.js';
import type { NodeInfo } from '../../../src/supervisor/cluster/registry.js';
import type { LeaseManager } from '../../../src/supervisor/leases/lease-manager.js';
import type { LeaseHolder } from '../../../src/supervisor/leases/lease-store.js';
import { createReconciler } from '../../../src/supervisor/reconcile.js';

const log = createLogger({ level: 'silent' });

/** A node's world as the reconcile loop sees it, all in memory. */
function world(opts: { active: string[]; holders: Record<string, LeaseHolder>; takenElsewhere?: string[] }) {
  const held = new Set<string>();
  const running = new Set<string>();
  const resumed: string[] = [];
  let rounds = 0;
  const leases = {
    heldTenants: () => [...held],
    holders: async (ids: readonly string[]) => ids.map((id) => (held.has(id) ? { nodeId: 'me', epoch: 1, ttlMs: 3_000 } : (opts.holders[id] ?? null))),
    release: async (id: string) => void held.delete(id),
  } as unknown as LeaseManager;
  const reconciler = createReconciler({
    nodeId: 'me',
    store: {
      sessions: {
        listActive: async () => {
          rounds++;
          return opts.active;
        },
      },
    } as never,
    leases,
    registry: { live: async (): Promise<NodeInfo[]> => [], heartbeat: async () => undefined, remove: async () => undefined },
    host: {
      async resume(id) {
        if (opts.takenElsewhere?.includes(id)) throw new AppError(ErrorCodes.OWNER_UNAVAILABLE, 'another node runs this session');
        held.add(id);
        running.add(id);
        resumed.push(id);
      },
      handOver: async () => undefined,
      running: (id) => running.has(id),
    },
    capacity: 100,
    intervalMs: 1_000,
    maxClaims: 3,
    self: () => ({ nodeId: 'me', load: held.size, capacity: 100, draining: false }),
    log,
    random: () => 0.5,
  });
  return { reconciler, resumed, held, rounds: () => rounds };
}

describe('reconcile loop', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  // With random() = 0.5: the first round 100 ms after start (plus 50 ms of claim jitter), then every 1 s.

  it('claims at most its quota per round, and goes again at once while tenants are left unowned', async () => {
    const w = world({ active: ['a', 'b', 'c', 'd', 'e'], holders: {} });
    w.reconciler.start();
    await vi.advanceTimersByTimeAsync(160);
    expect(w.resumed).toHaveLength(3);
    // The next round started right away and claims after its 50 ms of jitter, not an interval (1 s) later.
    await vi.advanceTimersByTimeAsync(100);
    expect([...w.resumed].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(w.rounds()).toBe(2);
    // Nothing left unowned: back to the regular interval.
    await vi.advanceTimersByTimeAsync(500);
    expect(w.rounds()).toBe(2);
    await vi.advanceTimersByTimeAsync(500);
    expect(w.rounds()).toBe(3);
    await w.reconciler.stop();
  });

  it('does not repeat at once a round whose claims other nodes took', async () => {
    const w = world({ active: ['a', 'b', 'c', 'd', 'e'], holders: {}, takenElsewhere: ['a', 'b', 'c', 'd'] });
    w.reconciler.start();
    await vi.advanceTimersByTimeAsync(160);
    expect(w.resumed).toEqual(['e']);
    await vi.advanceTimersByTimeAsync(700);
    expect(w.rounds()).toBe(1);
    await w.reconciler.stop();
  });

  it('moves on to the next candidate when another node took one meanwhile', async () => {
    const w = world({ active: ['a', 'b', 'c', 'd'], holders: {}, takenElsewhere: ['a', 'b'] });
    w.reconciler.start();
    await vi.advanceTimersByTimeAsync(200);
    expect([...w.resumed].sort()).toEqual(['c', 'd']);
    await w.reconciler.stop();
  });

  it('leaves tenants alone that a live node holds', async () => {
    const w = world({ active: ['a', 'b'], holders: { a: { nodeId: 'other', epoch: 3, ttlMs: 2_500 }, b: { nodeId: 'other', epoch: 4, ttlMs: 2_500 } } });
    w.reconciler.start();
    await vi.advanceTimersByTimeAsync(2_500);
    expect(w.rounds()).toBeGreaterThanOrEqual(2);
    expect(w.resumed).toEqual([]);
    await w.reconciler.stop();
  });

  it('releases the leases it holds for tenants that should not run any more, and restarts the ones that should', async () => {
    const w = world({ active: ['still-active'], holders: {} });
    w.held.add('logged-out');
    w.held.add('still-active');
    w.reconciler.start();
    await vi.advanceTimersByTimeAsync(200);
    expect(w.held.has('logged-out')).toBe(false);
    expect(w.resumed).toEqual(['still-active']);
    await w.reconciler.stop();
  });

  it('looks again right after a lease that is not being renewed expires, not a whole interval later', async () => {
    // A lease with 200 ms left, well under the renewal period: its node stopped renewing.
    const w = world({ active: ['a'], holders: { a: { nodeId: 'dead', epoch: 7, ttlMs: 200 } } });
    w.reconciler.start();
    await vi.advanceTimersByTimeAsync(200); // the first round (within a fifth of the interval)
    expect(w.rounds()).toBe(1);
    await vi.advanceTimersByTimeAsync(400); // expiry + 50 ms + jitter, far before the 800-1200 ms interval
    expect(w.rounds()).toBe(2);
    await w.reconciler.stop();
  });
});
