import type { Clock } from '../../domain/clock.js';
import type { LeaseHolder, LeaseStore } from './lease-store.js';

interface Entry {
  nodeId: string;
  epoch: number;
  expiresAt: number;
}

/**
 * Leases in this process's memory, with the same rules as the Redis store (TTL on the injected clock,
 * an epoch counter per tenant that only moves forward). For a single node and for tests; several
 * processes cannot share it.
 */
export function createMemoryLeaseStore(opts: { clock: Clock }): LeaseStore {
  const leases = new Map<string, Entry>();
  const counters = new Map<string, number>();
  const live = (tenantId: string): Entry | undefined => {
    const entry = leases.get(tenantId);
    if (entry !== undefined && entry.expiresAt <= opts.clock.now()) {
      leases.delete(tenantId);
      return undefined;
    }
    return entry;
  };

  return {
    async acquire(tenantId, nodeId, ttlMs, floor) {
      const current = live(tenantId);
      if (current !== undefined && current.nodeId !== nodeId) return null;
      const epoch = Math.max((counters.get(tenantId) ?? 0) + 1, floor);
      counters.set(tenantId, epoch);
      leases.set(tenantId, { nodeId, epoch, expiresAt: opts.clock.now() + ttlMs });
      return epoch;
    },
    async renew(nodeId, held, ttlMs) {
      return held.map(({ tenantId, epoch }) => {
        const current = live(tenantId);
        if (current === undefined || current.nodeId !== nodeId || current.epoch !== epoch) return false;
        current.expiresAt = opts.clock.now() + ttlMs;
        return true;
      });
    },
    async release(tenantId, nodeId, epoch) {
      const current = live(tenantId);
      if (current === undefined || current.nodeId !== nodeId || current.epoch !== epoch) return false;
      leases.delete(tenantId);
      return true;
    },
    async holders(tenantIds) {
      return tenantIds.map((tenantId): LeaseHolder | null => {
        const current = live(tenantId);
        return current === undefined ? null : { nodeId: current.nodeId, epoch: current.epoch, ttlMs: current.expiresAt - opts.clock.now() };
      });
    },
  };
}
