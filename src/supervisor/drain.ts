import type { Logger } from '../domain/log.js';
import type { LeaseManager } from './leases/lease-manager.js';
import type { SessionHost } from './sessions/session-host.js';

/** Bus channel on which a node announces leases it gave up, so the others claim them at once. */
export const RELEASED_CHANNEL = 'released';

export interface DrainOptions {
  host: SessionHost;
  leases: LeaseManager;
  /** Tells the other nodes (bus RELEASED_CHANNEL); failures only cost them the wait for their next round. */
  announce(tenantIds: string[]): Promise<void>;
  /** Sessions handed over at once. Default 8. */
  concurrency?: number;
  log: Logger;
}

/**
 * Hands every session of this node over (SIGTERM, scale-down): for each tenant stop the actor, store
 * what it reported, release the lease, and announce it, so another node claims it now instead of after
 * the lease TTL. The caller has stopped claiming first (reconcile stopped, registry says draining).
 */
export async function drainSessions(opts: DrainOptions): Promise<{ handedOver: number; failed: number }> {
  const log = opts.log.child({ component: 'drain' });
  const tenants = opts.leases.heldTenants();
  const concurrency = opts.concurrency ?? 8;
  let next = 0;
  let handedOver = 0;
  let failed = 0;
  const started = Date.now();
  const worker = async (): Promise<void> => {
    while (next < tenants.length) {
      const tenantId = tenants[next++] as string;
      try {
        await opts.host.handOver(tenantId, 'node draining');
        handedOver++;
        await opts.announce([tenantId]).catch((err: unknown) => log.warn({ err, tenantId }, 'could not announce a released lease'));
      } catch (err) {
        // Its lease expires on its own; the others take it after the TTL.
        failed++;
        log.error({ err, tenantId }, 'could not hand a session over');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tenants.length) }, worker));
  log.info({ handedOver, failed, ms: Date.now() - started }, 'sessions handed over');
  return { handedOver, failed };
}
