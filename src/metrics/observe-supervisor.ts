import { Counter, Gauge, type Registry } from 'prom-client';
import type { ActorStatus, Supervisor } from '../supervisor/supervisor-types.js';

/** What the metrics read from a supervisor: its status stream and, at scrape time, its actors. */
export type SupervisorSource = Pick<Supervisor, 'onStatus' | 'onSystemicFault' | 'inspect' | 'stats'>;

const ACTOR_STATUSES: readonly ActorStatus[] = ['starting', 'running', 'restarting', 'stopping', 'failed'];

/**
 * Why the supervisor gave up on an actor, as a small closed set (the full reason is in the session
 * status and the logs). Matches the park reasons of restart-policy.ts and supervisor.ts.
 */
export function giveUpReason(reason: string): 'restart_intensity' | 'start_failures' | 'spawn_error' | 'other' {
  if (reason.startsWith('restart intensity exceeded')) return 'restart_intensity';
  if (reason.startsWith('failed to start')) return 'start_failures';
  if (reason.startsWith('could not spawn')) return 'spawn_error';
  return 'other';
}

/**
 * Registers the actor metrics on `registers` and feeds them from the supervisor's status stream.
 * Statuses are tracked per tenant here (the supervisor lists no actors), which also gives the tenants
 * whose mailbox depth is read at scrape time.
 */
export function observeSupervisor(
  supervisor: SupervisorSource,
  opts: { registers: Registry[]; onStopped(tenantId: string): void },
): () => void {
  const { registers } = opts;
  const statuses = new Map<string, ActorStatus>();

  const actors = new Gauge({
    name: 'wa_actors',
    help: 'Tenant actors on this node, by supervisor status.',
    labelNames: ['status'],
    registers,
    collect() {
      const counts = new Map<string, number>(ACTOR_STATUSES.map((s) => [s, 0]));
      for (const status of statuses.values()) counts.set(status, (counts.get(status) ?? 0) + 1);
      for (const [status, n] of counts) actors.set({ status }, n);
    },
  });
  const starts = new Counter({
    name: 'wa_actor_starts_total',
    help: 'Actor spawns, by kind: first (start or restore) or restart (after a failure).',
    labelNames: ['kind'],
    registers,
  });
  const restarts = new Counter({
    name: 'wa_actor_restarts_total',
    help: 'Actor failures that led to a restart, by exit cause (crashed, out-of-memory, hung, start-timeout, killed).',
    labelNames: ['reason'],
    registers,
  });
  const giveUps = new Counter({
    name: 'wa_actor_give_ups_total',
    help: 'Actors parked as failed instead of restarted again, by reason.',
    labelNames: ['reason'],
    registers,
  });
  const faults = new Counter({
    name: 'wa_supervisor_systemic_faults_total',
    help: 'Node-wide restart storms that paused every restart.',
    registers,
  });
  const compiles = new Counter({
    name: 'wa_actor_code_compiles_total',
    help: 'Actor workers by how they compiled the actor code: from the node\'s V8 code cache, or from source (before the node had a cache, or V8 refused it). Built servers with worker isolation only.',
    labelNames: ['from'],
    registers,
    collect() {
      const cache = supervisor.stats().codeCache;
      if (cache === undefined) return;
      // Counts kept by the node's code cache: copied at scrape time.
      compiles.reset();
      compiles.inc({ from: 'cache' }, cache.hits);
      compiles.inc({ from: 'source' }, cache.misses + cache.rejected);
    },
  });
  const cacheBytes = new Gauge({
    name: 'wa_actor_code_cache_bytes',
    help: 'Size of the V8 code cache this node shares with its actor workers (0 until the first worker offers one).',
    registers,
    collect() {
      cacheBytes.set(supervisor.stats().codeCache?.bytes ?? 0);
    },
  });
  const mailboxTotal = new Gauge({
    name: 'wa_actor_mailbox_messages',
    help: 'Commands queued or running in all actor mailboxes of this node.',
    registers,
    collect() {
      const [total] = mailboxes();
      mailboxTotal.set(total);
    },
  });
  const mailboxMax = new Gauge({
    name: 'wa_actor_mailbox_depth_max',
    help: 'Deepest single actor mailbox on this node.',
    registers,
    collect() {
      const [, max] = mailboxes();
      mailboxMax.set(max);
    },
  });

  function mailboxes(): [total: number, max: number] {
    let total = 0;
    let max = 0;
    for (const tenantId of statuses.keys()) {
      const depth = supervisor.inspect(tenantId)?.actor?.stats.mailboxDepth ?? 0;
      total += depth;
      max = Math.max(max, depth);
    }
    return [total, max];
  }

  const offStatus = supervisor.onStatus((tenantId, status, reason) => {
    if (status === 'stopped') {
      statuses.delete(tenantId);
      opts.onStopped(tenantId);
      return;
    }
    statuses.set(tenantId, status);
    if (status === 'starting') starts.inc({ kind: reason === 'start' ? 'first' : 'restart' });
    else if (status === 'restarting') restarts.inc({ reason: supervisor.inspect(tenantId)?.lastExit?.cause ?? 'unknown' });
    else if (status === 'failed') giveUps.inc({ reason: giveUpReason(reason) });
  });
  const offFault = supervisor.onSystemicFault(() => faults.inc());
  return () => {
    offStatus();
    offFault();
  };
}
