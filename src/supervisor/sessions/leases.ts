import type { Store } from '../../store/types.js';

/**
 * Who may run a tenant's session, and the fencing epoch its writes carry. A single node uses
 * `createLocalLeases` (the store's epoch, moved forward on every claim); the scale-out issue adds a
 * Redis implementation of the same port.
 */
export interface Lease {
  tenantId: string;
  epoch: number;
}

export interface LeaseManager {
  /** Take the tenant's lease, with a new epoch recorded in the store. Null when another node holds it. */
  acquire(tenantId: string): Promise<Lease | null>;
  /** The lease this node holds, if any. */
  held(tenantId: string): Lease | undefined;
  release(tenantId: string): Promise<void>;
  close(): Promise<void>;
}

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
    async release(tenantId) {
      held.delete(tenantId);
    },
    async close() {
      held.clear();
    },
  };
}
