import type { Store } from '../../store/types.js';
import type { Lease, LeaseManager } from './lease-manager.js';

/**
 * Leases of a node that runs alone (no REDIS_URL): they never expire, and the epoch is the store's,
 * moved forward on every claim, so a restarted node fences off anything its previous run left in
 * flight. Running a second node on the same database is refused at start (see store/node-lock.ts).
 */
export function createLocalLeases(opts: { store: Store; nodeId: string }): LeaseManager {
  const held = new Map<string, Lease>();
  return {
    async acquire(tenantId) {
      const current = held.get(tenantId);
      if (current !== undefined) return current;
      const session = await opts.store.sessions.get(tenantId);
      const epoch = (session?.leaseEpoch ?? 0) + 1;
      await opts.store.sessions.claim(tenantId, epoch, opts.nodeId);
      const lease = { tenantId, epoch };
      held.set(tenantId, lease);
      return lease;
    },
    held: (tenantId) => held.get(tenantId),
    heldTenants: () => [...held.keys()],
    async release(tenantId) {
      held.delete(tenantId);
    },
    async holders(tenantIds) {
      return tenantIds.map((tenantId) => {
        const lease = held.get(tenantId);
        return lease === undefined ? null : { nodeId: opts.nodeId, epoch: lease.epoch, ttlMs: Number.MAX_SAFE_INTEGER };
      });
    },
    // Nothing can take a local lease away.
    onLost: () => () => undefined,
    async close() {
      held.clear();
    },
  };
}
