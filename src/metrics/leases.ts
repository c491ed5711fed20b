import type { LeaseMetricsHooks } from './hooks.js';

/** The part of a lease manager (src/supervisor/leases) that acquisitions are counted on. */
interface Acquiring<L> {
  acquire(tenantId: string): Promise<L | null>;
  held(tenantId: string): L | undefined;
}

/**
 * Counts acquisitions of any lease manager from outside: `acquire` of a lease this node already held
 * returns it again and is not counted. Renewals and losses happen inside an implementation (its renew
 * loop), which reports them through `LeaseMetricsHooks` itself.
 */
export function countLeaseAcquisitions<L, M extends Acquiring<L>>(leases: M, metrics: Pick<LeaseMetricsHooks, 'leaseAcquired'>): M {
  const acquire = leases.acquire.bind(leases);
  leases.acquire = async (tenantId) => {
    const before = leases.held(tenantId);
    const lease = await acquire(tenantId);
    if (lease !== null && before === undefined) metrics.leaseAcquired();
    return lease;
  };
  return leases;
}
