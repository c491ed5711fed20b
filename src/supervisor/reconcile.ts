import { ErrorCodes, isAppError } from '../domain/errors.js';
import type { Logger } from '../domain/log.js';
import type { Store } from '../store/types.js';
import type { NodeInfo, NodeRegistry } from './cluster/registry.js';
import type { LeaseManager } from './leases/lease-manager.js';
import { planClaims, shuffled } from './reconcile-plan.js';
import type { SessionHost } from './sessions/session-host.js';

export interface ReconcilerOptions {
  nodeId: string;
  store: Pick<Store, 'sessions'>;
  leases: LeaseManager;
  registry: NodeRegistry;
  host: SessionHost;
  capacity: number;
  /** Time between rounds (LEASE_TTL_MS / 3), each with up to 20 % jitter. */
  intervalMs: number;
  /** Most claims per round (RECONCILE_MAX_CLAIMS). */
  maxClaims: number;
  /** Wait per rank before claiming: the least-loaded node claims first. Default intervalMs / 10. */
  rankStepMs?: number;
  /**
   * Sessions started at once within a round. Default: all of the round's claims (at most `maxClaims`),
   * so one slow start does not hold the others back; the bound is the claims per round.
   */
  concurrency?: number;
  /** This node's info as the registry should show it (load, draining). */
  self(): NodeInfo;
  log: Logger;
  random?: () => number;
}

export interface Reconciler {
  start(): void;
  /** Run a round soon (another node released leases): coalesced with a round already due. */
  kick(): void;
  /** No more rounds; resolves when the running one has ended. */
  stop(): Promise<void>;
  /** One round now (tests). */
  round(): Promise<void>;
}

/**
 * The desired state drives everything: each round lists the tenants whose desired state is active,
 * claims a fair share of those nobody holds a lease for (planClaims), restarts the ones it holds whose
 * actor is gone, and releases the ones it holds that should not run any more (logged out, parked).
 */
export function createReconciler(opts: ReconcilerOptions): Reconciler {
  const log = opts.log.child({ component: 'reconcile' });
  const random = opts.random ?? Math.random;
  // Capped: with a long TTL a kicked round (a lease released by a draining node) must not idle for seconds.
  const rankStepMs = opts.rankStepMs ?? Math.min(250, Math.floor(opts.intervalMs / 10));
  const concurrency = opts.concurrency ?? opts.maxClaims;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;
  let kicked = false;
  let failing = false;
  /** When (epoch ms) a lease of another node will have expired, if before the next regular round (a node died). */
  let expiryAt: number | undefined;

  function schedule(delayMs: number): void {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      running = round()
        .then(
          () => {
            failing = false;
          },
          (err: unknown) => {
            // Once per outage at warn (Redis or PostgreSQL away): the next rounds fail the same way.
            if (failing) log.debug({ err }, 'reconcile round failed');
            else log.warn({ err }, 'reconcile round failed');
            failing = true;
          },
        )
        .finally(() => {
          running = undefined;
          const regular = opts.intervalMs * (0.8 + 0.4 * random());
          const next = kicked ? 0 : Math.min(regular, Math.max(0, (expiryAt ?? Infinity) - Date.now()));
          kicked = false;
          expiryAt = undefined;
          schedule(next);
        });
    }, delayMs);
  }

  async function round(): Promise<void> {
    const active = new Set(await opts.store.sessions.listActive());
    await tidyOwn(active);
    const ids = [...active];
    const holders = await opts.leases.holders(ids);
    const unowned = ids.filter((_, i) => holders[i] === null);
    // A live node renews its leases at a third of the TTL, so they never get this close to expiring:
    // such a lease belongs to a node that stopped renewing. Look again right after it expires.
    for (const h of holders) {
      if (h !== null && h !== undefined && h.nodeId !== opts.nodeId && h.ttlMs < opts.intervalMs) {
        expiryAt = Math.min(expiryAt ?? Infinity, Date.now() + h.ttlMs + 50 + random() * rankStepMs);
      }
    }
    if (unowned.length === 0 || stopped) return;
    const nodes = await opts.registry.live();
    const plan = planClaims({ nodeId: opts.nodeId, nodes, me: opts.self(), unowned: unowned.length, maxClaims: opts.maxClaims });
    if (plan.quota === 0) return;
    // Least loaded first; the jitter keeps equally loaded nodes from claiming in lockstep.
    await pause(plan.rank * rankStepMs + random() * rankStepMs);
    const claimed = await claimAll(shuffled(unowned, random), plan.quota);
    if (claimed > 0) log.info({ claimed, quota: plan.quota, rank: plan.rank, unowned: unowned.length }, 'claimed sessions');
    // A full quota with tenants still unowned (a drained node's 45 sessions, 32 per round): the next round
    // goes at once, as after a kick, instead of a whole interval later. planClaims still bounds it by this
    // node's fair share, and a round whose claims were refused does not repeat itself.
    if (claimed === plan.quota && unowned.length > claimed) kicked = true;
  }

  /** Restart what we hold but no longer run; release what we hold that should not run. */
  async function tidyOwn(active: Set<string>): Promise<void> {
    for (const tenantId of opts.leases.heldTenants()) {
      if (opts.host.running(tenantId)) continue;
      if (active.has(tenantId)) {
        await opts.host.resume(tenantId).catch((err: unknown) => log.warn({ err, tenantId }, 'could not restart a held session'));
      } else {
        await opts.leases.release(tenantId);
      }
    }
  }

  /**
   * Starts up to `quota` of `candidates` (in random order), `concurrency` at a time. A candidate another
   * node took meanwhile costs one lease attempt and the next one is tried, so nodes claiming together
   * still fill their quotas.
   */
  async function claimAll(candidates: string[], quota: number): Promise<number> {
    let next = 0;
    let claimed = 0;
    let trying = 0;
    const worker = async (): Promise<void> => {
      while (next < candidates.length && claimed + trying < quota && !stopped) {
        const tenantId = candidates[next++] as string;
        if (opts.self().load >= opts.capacity) return;
        trying++;
        try {
          await opts.host.resume(tenantId);
          claimed++;
        } catch (err) {
          // Another node was faster: that is the lease doing its job.
          if (!(isAppError(err) && err.code === ErrorCodes.OWNER_UNAVAILABLE)) log.warn({ err, tenantId }, 'could not start a claimed session');
        } finally {
          trying--;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, quota) }, worker));
    return claimed;
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      schedule(random() * opts.intervalMs * 0.2);
    },
    kick() {
      if (stopped) return;
      if (running !== undefined) kicked = true;
      else schedule(random() * rankStepMs);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
    round,
  };
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
