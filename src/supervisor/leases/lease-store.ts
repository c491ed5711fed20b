/**
 * Where tenant leases live: who may run a tenant's session right now, and the fencing epoch its writes
 * carry. A lease is held by one node for `ttlMs` and must be renewed; the epoch comes from a per-tenant
 * counter that only moves forward (Redis `INCR`), so every new holder writes with a larger epoch than
 * every earlier one and the store refuses the earlier ones' late writes.
 *
 * Implementations: `createRedisLeaseStore` (several nodes) and `createMemoryLeaseStore` (tests, and the
 * contract suite both run). The `LeaseManager` (lease-manager.ts) renews and self-fences on top.
 */
export interface LeaseHolder {
  nodeId: string;
  epoch: number;
  /** Milliseconds the lease has left as the store sees it (for Retry-After answers). */
  ttlMs: number;
}

export interface LeaseStore {
  /**
   * Takes the tenant's lease when nobody holds it, or when `nodeId` itself holds it (a restarted process
   * with the same NODE_ID: its earlier incarnation is gone). The new epoch is the counter's next value,
   * at least `floor` (the epoch already recorded in PostgreSQL plus one: a Redis that lost its data must
   * not hand out epochs the store has seen). Null when another node holds it.
   */
  acquire(tenantId: string, nodeId: string, ttlMs: number, floor: number): Promise<number | null>;
  /** Extends each lease that `nodeId` still holds with that epoch; false where it does not (lost). */
  renew(nodeId: string, leases: readonly { tenantId: string; epoch: number }[], ttlMs: number): Promise<boolean[]>;
  /** Gives the lease up if `nodeId` holds it with `epoch`; false when it was not ours any more. */
  release(tenantId: string, nodeId: string, epoch: number): Promise<boolean>;
  /** The current holder of each tenant's lease, null where none (in input order). */
  holders(tenantIds: readonly string[]): Promise<(LeaseHolder | null)[]>;
}

/** `<epoch>:<nodeId>`: the epoch first, so a node id may contain any character. */
export function encodeHolder(nodeId: string, epoch: number): string {
  return `${epoch}:${nodeId}`;
}

export function decodeHolder(value: string, ttlMs: number): LeaseHolder | null {
  const colon = value.indexOf(':');
  if (colon <= 0) return null;
  const epoch = Number(value.slice(0, colon));
  if (!Number.isSafeInteger(epoch) || epoch < 1) return null;
  return { nodeId: value.slice(colon + 1), epoch, ttlMs };
}
