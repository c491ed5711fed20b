import type { Clock } from '../../domain/clock.js';
import { ErrorCodes, isAppError } from '../../domain/errors.js';
import type { Logger } from '../../domain/log.js';
import type { LeaseLossReason, LeaseMetricsHooks } from '../../metrics/hooks.js';
import type { SessionRepo } from '../../store/types.js';
import type { LeaseHolder, LeaseStore } from './lease-store.js';

/** A lease this node holds: it may run the tenant's session and write with this epoch. */
export interface Lease {
  tenantId: string;
  epoch: number;
}

export type LeaseLostListener = (tenantId: string, reason: string) => void;

/**
 * Who may run a tenant's session, and the fencing epoch its writes carry. The session service takes a
 * lease before it starts an actor and hands the epoch to every store write; the store refuses writes
 * whose epoch is older than the one recorded. Two implementations: `createLeaseManager` over a
 * LeaseStore (Redis: several nodes) and `createLocalLeases` (one node, no expiry).
 */
export interface LeaseManager {
  /** Take the tenant's lease, with a new epoch recorded in the store. Null when another node holds it. */
  acquire(tenantId: string): Promise<Lease | null>;
  /** The lease this node holds, if any. */
  held(tenantId: string): Lease | undefined;
  /** Every tenant this node holds a lease for (its load). */
  heldTenants(): string[];
  release(tenantId: string): Promise<void>;
  /** Who holds each tenant's lease on any node (null: nobody), in input order. */
  holders(tenantIds: readonly string[]): Promise<(LeaseHolder | null)[]>;
  /**
   * Told when a lease is gone without a release: taken over, expired, or about to expire because it
   * could not be renewed (self-fencing). The listener must stop the tenant's actor at once.
   */
  onLost(listener: LeaseLostListener): () => void;
  /** Stops renewing and releases every lease (best effort: an unreachable store lets them expire). */
  close(): Promise<void>;
}

export interface LeaseManagerOptions {
  store: LeaseStore;
  /** Records each new epoch and owner in PostgreSQL; gives the floor a new epoch must exceed. */
  sessions: Pick<SessionRepo, 'get' | 'claim'>;
  nodeId: string;
  /** Lease lifetime (LEASE_TTL_MS). */
  ttlMs: number;
  clock: Clock;
  log: Logger;
  /**
   * A lease not renewed by `validUntil - fenceMarginMs` is given up (the listener stops the actor), so
   * that the actor is gone before another node may take the lease. Default ttlMs / 3; the actor's stop
   * timeout must be shorter.
   */
  fenceMarginMs?: number;
  /** Renewals and losses; acquisitions are counted from outside (metrics/leases.ts). */
  metrics?: Pick<LeaseMetricsHooks, 'leaseRenewed' | 'leaseLost'>;
}

interface HeldEntry {
  lease: Lease;
  /** Local time before which nobody else can hold it: the send time of the last successful renew + TTL. */
  validUntil: number;
}

/**
 * Leases over a LeaseStore with renewal at a third of the TTL, retries every tenth while renewals fail,
 * and self-fencing: a lease whose renewal has not succeeded by `validUntil - fenceMarginMs` is reported
 * lost, while it is still ours in the store, so the actor stops before another node can start it.
 * Validity is measured from the moment a request was sent, never from its answer.
 */
export function createLeaseManager(opts: LeaseManagerOptions): LeaseManager & { validUntil(tenantId: string): number | undefined } {
  const { store, nodeId, ttlMs, clock } = opts;
  const log = opts.log.child({ component: 'leases' });
  const fenceMarginMs = opts.fenceMarginMs ?? Math.floor(ttlMs / 3);
  const renewEveryMs = Math.max(50, Math.floor(ttlMs / 3));
  const retryEveryMs = Math.max(50, Math.floor(ttlMs / 10));
  const held = new Map<string, HeldEntry>();
  const pending = new Map<string, Promise<Lease | null>>();
  const listeners = new Set<LeaseLostListener>();
  let closed = false;
  let renewTimer: NodeJS.Timeout | undefined;
  let fenceTimer: NodeJS.Timeout | undefined;
  let failing = false;

  function lose(tenantId: string, reason: string, kind: LeaseLossReason): void {
    if (!held.delete(tenantId)) return;
    log.warn({ tenantId, reason }, 'lease lost');
    opts.metrics?.leaseLost(kind);
    for (const listener of [...listeners]) listener(tenantId, reason);
  }

  function scheduleRenew(delayMs: number): void {
    if (closed) return;
    clearTimeout(renewTimer);
    renewTimer = setTimeout(() => {
      void renewOnce().then((ok) => scheduleRenew(ok ? renewEveryMs : retryEveryMs));
    }, delayMs);
  }

  let renewing: Promise<boolean> | undefined;
  /** One renewal of every held lease (shared by concurrent callers); false when the store failed. */
  function renewOnce(): Promise<boolean> {
    renewing ??= renewHeld().finally(() => (renewing = undefined));
    return renewing;
  }

  async function renewHeld(): Promise<boolean> {
    const entries = [...held.values()];
    if (entries.length === 0) return true;
    const sentAt = clock.now();
    try {
      const results = await store.renew(nodeId, entries.map((e) => e.lease), ttlMs);
      results.forEach((ok, i) => {
        const entry = entries[i];
        if (entry === undefined || held.get(entry.lease.tenantId) !== entry) return;
        if (ok) {
          entry.validUntil = Math.max(entry.validUntil, sentAt + ttlMs);
          opts.metrics?.leaseRenewed();
        } else lose(entry.lease.tenantId, 'taken over or expired', 'expired');
      });
      armFence();
      failing = false;
      log.debug({ leases: entries.length, ms: clock.now() - sentAt }, 'leases renewed');
      return true;
    } catch (err) {
      // Once per outage at warn: retries come every tenth of the TTL.
      if (!failing) log.warn({ err, leases: entries.length }, 'renewing leases failed; retrying');
      failing = true;
      return false;
    }
  }

  /**
   * One timer at the earliest fencing deadline, independent of the renew loop (which may be waiting on an
   * unreachable store): at `validUntil - fenceMarginMs` an unrenewed lease is given up.
   */
  function armFence(): void {
    clearTimeout(fenceTimer);
    if (closed || held.size === 0) return;
    let earliest = Infinity;
    for (const entry of held.values()) earliest = Math.min(earliest, entry.validUntil - fenceMarginMs);
    fenceTimer = setTimeout(() => void fenceDue(), Math.max(0, earliest - clock.now()));
  }

  /**
   * A deadline passed. The renew timer may merely be late (a starved event loop fires every due timer at
   * once, this one among them), so one last renewal is tried, for at most a quarter of the margin: it is
   * safe, since validity counts from its send time. Whatever is still due after it is given up.
   */
  async function fenceDue(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const patience = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.floor(fenceMarginMs / 4))));
    await Promise.race([renewOnce(), patience]);
    clearTimeout(timer);
    const now = clock.now();
    for (const [tenantId, entry] of held) {
      if (now >= entry.validUntil - fenceMarginMs) lose(tenantId, 'not renewed in time (self-fencing)', 'renew_failed');
    }
    armFence();
  }

  scheduleRenew(renewEveryMs);

  async function take(tenantId: string): Promise<Lease | null> {
    const session = await opts.sessions.get(tenantId);
    const floor = (session?.leaseEpoch ?? 0) + 1;
    const sentAt = clock.now();
    const epoch = await store.acquire(tenantId, nodeId, ttlMs, floor);
    if (epoch === null) return null;
    try {
      await opts.sessions.claim(tenantId, epoch, nodeId);
    } catch (err) {
      await store.release(tenantId, nodeId, epoch).catch(() => false); // it expires anyway
      if (isAppError(err) && err.code === ErrorCodes.STALE_EPOCH) return null;
      throw err;
    }
    if (closed) {
      await store.release(tenantId, nodeId, epoch).catch(() => false); // it expires anyway
      return null;
    }
    const lease = { tenantId, epoch };
    held.set(tenantId, { lease, validUntil: sentAt + ttlMs });
    armFence();
    log.debug({ tenantId, epoch }, 'lease acquired');
    return lease;
  }

  async function release(tenantId: string): Promise<void> {
    const entry = held.get(tenantId);
    if (entry === undefined) return;
    held.delete(tenantId);
    try {
      await store.release(tenantId, nodeId, entry.lease.epoch);
    } catch (err) {
      log.warn({ err, tenantId }, 'could not release a lease; it expires on its own');
    }
  }

  return {
    acquire(tenantId) {
      const current = held.get(tenantId);
      if (current !== undefined) return Promise.resolve(current.lease);
      if (closed) return Promise.resolve(null);
      // One attempt at a time per tenant: a second one would "reclaim" our own lease with a new epoch
      // and fence the first off.
      let attempt = pending.get(tenantId);
      if (attempt === undefined) {
        attempt = take(tenantId).finally(() => pending.delete(tenantId));
        pending.set(tenantId, attempt);
      }
      return attempt;
    },
    held: (tenantId) => held.get(tenantId)?.lease,
    heldTenants: () => [...held.keys()],
    release,
    holders: (tenantIds) => store.holders(tenantIds),
    onLost(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    validUntil: (tenantId) => held.get(tenantId)?.validUntil,
    async close() {
      closed = true;
      clearTimeout(renewTimer);
      clearTimeout(fenceTimer);
      await Promise.all([...held.keys()].map(release));
    },
  };
}
