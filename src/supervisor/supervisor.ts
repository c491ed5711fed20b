import type { Logger } from '../domain/log.js';
import { isNormalExit, type ActorExit } from './actor-exit.js';
import { spawnActor, type ActorRef, type ActorRefOptions } from './actor-ref.js';
import { ActorFailedError, ActorStoppedError, SessionNotRunningError } from './errors.js';
import { createActorHost, type ActorHost } from './host.js';
import {
  defaultRestartPolicy,
  initialActorRestartState,
  initialNodeRestartState,
  onActorFailure,
  onActorReady,
  onNodeRestart,
  type ActorRestartState,
  type NodeRestartState,
  type Random,
  type RestartPolicy,
  type SystemicFault,
} from './restart-policy.js';
import type {
  ActorEventListener,
  ActorSpecInput,
  ActorStatus,
  StatusListener,
  Supervisor,
  SupervisorOptions,
  SupervisorStats,
  SystemicFaultListener,
  TenantActorInfo,
} from './supervisor-types.js';
import { withDefaults } from './with-defaults.js';

interface Entry {
  readonly tenantId: string;
  spec: ActorSpecInput;
  status: ActorStatus;
  reason: string;
  actor: ActorRef | undefined;
  restartTimer: NodeJS.Timeout | undefined;
  restartState: ActorRestartState;
  restarts: number;
  lastExit: ActorExit | undefined;
  /** Set once a stop was asked: whatever the exit, no restart. */
  stopping: Promise<void> | undefined;
  waiters: Array<{ resolve(): void; reject(err: Error): void }>;
}

/** Listeners whose exceptions are logged, never allowed to break supervision. */
class Listeners<A extends unknown[]> {
  private readonly set = new Set<(...args: A) => void>();
  constructor(private readonly log: Logger) {}
  add(listener: (...args: A) => void): () => void {
    this.set.add(listener);
    return () => this.set.delete(listener);
  }
  emit(...args: A): void {
    for (const listener of this.set) {
      try {
        listener(...args);
      } catch (err) {
        this.log.error({ err }, 'supervisor listener threw');
      }
    }
  }
}

/**
 * One actor per tenant, restarted one-for-one when it fails (never after a normal stop), parked as
 * `failed` past its restart intensity, all restarts paused on a node-wide systemic fault. The rules are
 * in restart-policy.ts; this class keeps the state, the timers and the actors.
 */
class ActorSupervisor implements Supervisor {
  private readonly entries = new Map<string, Entry>();
  private readonly host: ActorHost;
  private readonly actorOptions: Partial<ActorRefOptions>;
  private readonly policy: RestartPolicy;
  private readonly random: Random;
  private readonly log: Logger;
  private readonly events: Listeners<[string, unknown]>;
  private readonly statuses: Listeners<[string, ActorStatus, string]>;
  private readonly faults: Listeners<[SystemicFault]>;
  private nodeState: NodeRestartState = initialNodeRestartState;
  private closed = false;
  private restartsTotal = 0;
  private retiredLateReplies = 0;
  private systemicFaultsTotal = 0;

  constructor(private readonly opts: SupervisorOptions) {
    const { isolation, memoryMb, execArgv, env, ...actorOptions } = opts.spawn;
    this.host = createActorHost({ isolation, memoryMb, execArgv, env });
    this.actorOptions = actorOptions;
    this.policy = withDefaults(defaultRestartPolicy, opts.policy);
    this.random = opts.random ?? Math.random;
    this.log = opts.log.child({ component: 'supervisor' });
    this.events = new Listeners(this.log);
    this.statuses = new Listeners(this.log);
    this.faults = new Listeners(this.log);
  }

  async ensure(tenantId: string, spec: ActorSpecInput): Promise<void> {
    for (;;) {
      if (this.closed) throw new ActorStoppedError(tenantId, 'supervisor closed');
      const entry = this.entries.get(tenantId);
      if (entry === undefined || entry.status === 'failed') return this.startFresh(tenantId, spec);
      // On its way out (stop asked by us or by the actor): wait until it is gone, then start anew.
      const leaving = entry.stopping ?? (entry.actor?.state === 'stopping' ? entry.actor.exited : undefined);
      if (leaving === undefined) {
        entry.spec = spec;
        return this.whenRunning(entry);
      }
      await leaving;
    }
  }

  stop(tenantId: string, reason = 'stopped'): Promise<void> {
    const entry = this.entries.get(tenantId);
    if (entry === undefined) return Promise.resolve();
    if (entry.stopping !== undefined) return entry.stopping;
    clearTimeout(entry.restartTimer);
    const actor = entry.actor;
    if (actor === undefined) {
      entry.stopping = Promise.resolve();
      this.finishStopped(entry, reason);
      return entry.stopping;
    }
    // The exit handler (registered at spawn, so it runs first) sees `stopping` and does not restart.
    entry.stopping = actor.stop(reason).then(() => undefined);
    this.setStatus(entry, 'stopping', reason);
    return entry.stopping;
  }

  call<R = unknown>(tenantId: string, command: unknown, opts?: { timeoutMs?: number }): Promise<R> {
    const entry = this.entries.get(tenantId);
    if (entry === undefined) return Promise.reject(new SessionNotRunningError(tenantId, 'stopped'));
    if (entry.status === 'failed') return Promise.reject(new ActorFailedError(tenantId, entry.reason));
    if (entry.actor === undefined || entry.stopping !== undefined) return Promise.reject(new SessionNotRunningError(tenantId, entry.status));
    return entry.actor.call(command, opts) as Promise<R>;
  }

  tell(tenantId: string, notice: unknown): boolean {
    const entry = this.entries.get(tenantId);
    if (entry?.actor === undefined || entry.stopping !== undefined || entry.status === 'failed') return false;
    return entry.actor.tell(notice);
  }

  inspect(tenantId: string): TenantActorInfo | undefined {
    const entry = this.entries.get(tenantId);
    if (entry === undefined) return undefined;
    const { status, reason, restarts, actor, lastExit } = entry;
    return { status, reason, restarts, actor, lastExit };
  }

  stats(): SupervisorStats {
    let running = 0;
    let failed = 0;
    let lateReplies = this.retiredLateReplies;
    for (const entry of this.entries.values()) {
      if (entry.status === 'running') running += 1;
      if (entry.status === 'failed') failed += 1;
      lateReplies += entry.actor?.stats.lateReplies ?? 0;
    }
    return {
      actors: this.entries.size,
      running,
      failed,
      restartsTotal: this.restartsTotal,
      lateRepliesTotal: lateReplies,
      systemicFaultsTotal: this.systemicFaultsTotal,
      codeCache: this.host.codeCache(),
    };
  }

  onEvent(listener: ActorEventListener): () => void {
    return this.events.add(listener);
  }

  onStatus(listener: StatusListener): () => void {
    return this.statuses.add(listener);
  }

  onSystemicFault(listener: SystemicFaultListener): () => void {
    return this.faults.add(listener);
  }

  async close(reason = 'shutdown'): Promise<void> {
    this.closed = true;
    await Promise.all([...this.entries.keys()].map((tenantId) => this.stop(tenantId, reason)));
  }

  private startFresh(tenantId: string, spec: ActorSpecInput): Promise<void> {
    const entry: Entry = {
      tenantId,
      spec,
      status: 'starting',
      reason: 'start',
      actor: undefined,
      restartTimer: undefined,
      restartState: initialActorRestartState,
      restarts: 0,
      lastExit: undefined,
      stopping: undefined,
      waiters: [],
    };
    this.entries.set(tenantId, entry);
    const running = this.whenRunning(entry);
    this.spawn(entry);
    return running;
  }

  private whenRunning(entry: Entry): Promise<void> {
    if (entry.status === 'running') return Promise.resolve();
    return new Promise((resolve, reject) => entry.waiters.push({ resolve, reject }));
  }

  private spawn(entry: Entry): void {
    let actor: ActorRef;
    try {
      actor = spawnActor({ spawn: this.host.spawn, clock: this.opts.clock, log: this.opts.log }, { tenantId: entry.tenantId, ...entry.spec }, this.actorOptions);
    } catch (err) {
      // The spec itself is unusable (options that cannot be cloned, no thread available): retrying the
      // same spec cannot help.
      this.park(entry, `could not spawn: ${(err as Error).message}`);
      return;
    }
    entry.actor = actor;
    this.setStatus(entry, 'starting', entry.restarts === 0 ? 'start' : `restart ${entry.restarts}`);
    actor.onEvent((event) => this.events.emit(entry.tenantId, event));
    actor.ready.then(
      () => this.onReady(entry, actor),
      () => {
        // Reported through `exited`, handled in onExit.
      },
    );
    void actor.exited.then((exit) => this.onExit(entry, actor, exit));
  }

  private onReady(entry: Entry, actor: ActorRef): void {
    if (entry.actor !== actor || entry.stopping !== undefined) return;
    entry.restartState = onActorReady(entry.restartState);
    this.setStatus(entry, 'running', 'ready');
    for (const waiter of entry.waiters.splice(0)) waiter.resolve();
  }

  private onExit(entry: Entry, actor: ActorRef, exit: ActorExit): void {
    if (entry.actor !== actor) return;
    entry.actor = undefined;
    entry.lastExit = exit;
    this.retiredLateReplies += actor.stats.lateReplies;
    if (isNormalExit(exit) || entry.stopping !== undefined || this.closed) {
      this.finishStopped(entry, exit.reason);
      return;
    }
    const now = this.opts.clock.now();
    const failure = { at: now, beforeReady: !exit.wasReady, reason: exit.reason };
    const { state, decision } = onActorFailure(entry.restartState, failure, this.policy, this.random);
    entry.restartState = state;
    if (decision.action === 'park') {
      this.park(entry, decision.reason);
      return;
    }
    const node = onNodeRestart(this.nodeState, now, this.policy);
    this.nodeState = node.state;
    if (node.fault !== undefined) this.signalSystemicFault(node.fault);
    const paused = node.notBefore > now;
    this.setStatus(entry, 'restarting', paused ? `${exit.reason}; restarts paused after a systemic fault` : exit.reason);
    entry.restartTimer = setTimeout(() => this.restart(entry), node.notBefore - now + decision.delayMs);
  }

  private restart(entry: Entry): void {
    entry.restartTimer = undefined;
    if (this.entries.get(entry.tenantId) !== entry || entry.stopping !== undefined) return;
    entry.restarts += 1;
    this.restartsTotal += 1;
    this.spawn(entry);
  }

  private signalSystemicFault(fault: SystemicFault): void {
    this.systemicFaultsTotal += 1;
    this.log.error({ restarts: fault.restarts, periodMs: fault.periodMs, until: fault.until }, 'systemic fault: restarts paused');
    this.faults.emit(fault);
  }

  private park(entry: Entry, reason: string): void {
    this.setStatus(entry, 'failed', reason);
    for (const waiter of entry.waiters.splice(0)) waiter.reject(new ActorFailedError(entry.tenantId, reason));
  }

  private finishStopped(entry: Entry, reason: string): void {
    this.entries.delete(entry.tenantId);
    this.setStatus(entry, 'stopped', reason);
    for (const waiter of entry.waiters.splice(0)) waiter.reject(new ActorStoppedError(entry.tenantId, reason));
  }

  private setStatus(entry: Entry, status: ActorStatus, reason: string): void {
    entry.status = status;
    entry.reason = reason;
    const level = status === 'failed' ? 'error' : status === 'restarting' ? 'warn' : 'info';
    this.log[level]({ tenantId: entry.tenantId, status, reason }, 'actor status');
    this.statuses.emit(entry.tenantId, status, reason);
  }
}

/** Create a supervisor; nothing runs until `ensure`. Actor timings default to `defaultActorRefOptions`. */
export function createSupervisor(opts: SupervisorOptions): Supervisor {
  return new ActorSupervisor(opts);
}
