/**
 * What the cluster machinery (reconcile loop, drain, router) needs from the node's own session service,
 * beyond the facade http uses.
 */
export interface SessionHost {
  /**
   * Start the tenant's actor under a lease, with its stored credentials; a running one is left alone.
   * Rejects with WA_OWNER_UNAVAILABLE when another node holds the lease.
   */
  resume(tenantId: string): Promise<void>;
  /**
   * Give the tenant up so another node can take it at once: stop the actor (its engine disconnects),
   * store every event it reported, then release the lease.
   */
  handOver(tenantId: string, reason: string): Promise<void>;
  /** Whether this node has an actor for the tenant (starting, running or restarting). */
  running(tenantId: string): boolean;
}
