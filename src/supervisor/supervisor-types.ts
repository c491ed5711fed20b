import type { Clock } from '../domain/clock.js';
import type { Logger } from '../domain/log.js';
import type { ActorExit } from './actor-exit.js';
import type { ActorRef, ActorRefOptions, ActorSpec } from './actor-ref.js';
import type { CodeCacheStats } from './code-cache.js';
import type { HostOptions } from './host.js';
import type { Random, RestartPolicy, SystemicFault } from './restart-policy.js';

/**
 * Status of one tenant's actor as the supervisor sees it:
 * `starting` (spawned, start() running) -> `running` (ready) -> on a failure `restarting` (backoff) ->
 * `starting` ... or `failed` (parked: restart intensity exceeded); `stopping` -> `stopped` on a stop
 * asked by the supervisor's owner or by the actor itself.
 */
export type ActorStatus = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped' | 'failed';

/** Where and how actors run: isolation and memory (host), plus the ActorRef timings. */
export type SpawnOptions = HostOptions & Partial<ActorRefOptions>;

export interface SupervisorOptions {
  clock: Clock;
  log: Logger;
  spawn: SpawnOptions;
  /** Overrides of `defaultRestartPolicy`. */
  policy?: Partial<RestartPolicy>;
  /** Source of backoff jitter. Default Math.random. */
  random?: Random;
}

/** What to run for a tenant (the tenant id is given alongside). */
export type ActorSpecInput = Omit<ActorSpec, 'tenantId'>;

export interface TenantActorInfo {
  status: ActorStatus;
  /** Why the actor is in this status: the crash, the stop reason, the park reason... */
  reason: string;
  /** Restarts since the last `ensure` from scratch. */
  restarts: number;
  /** The live actor, absent while restarting or failed. */
  actor: ActorRef | undefined;
  lastExit: ActorExit | undefined;
}

/** Plain numbers, read by the metrics layer. */
export interface SupervisorStats {
  /** Tenants known to the supervisor (every status but stopped). */
  actors: number;
  running: number;
  failed: number;
  restartsTotal: number;
  lateRepliesTotal: number;
  systemicFaultsTotal: number;
  /** How actor workers compiled their code (built server, worker isolation); undefined otherwise. */
  codeCache: CodeCacheStats | undefined;
}

export type StatusListener = (tenantId: string, status: ActorStatus, reason: string) => void;
export type ActorEventListener = (tenantId: string, event: unknown) => void;
export type SystemicFaultListener = (fault: SystemicFault) => void;

export interface Supervisor {
  /**
   * Make sure the tenant's actor runs: start it unless it is starting, running or restarting; a failed
   * one starts again from a clean restart history. Resolves when it is running; rejects with
   * WA_ACTOR_FAILED if it gets parked first, or WA_ACTOR_STOPPED if it is stopped first.
   */
  ensure(tenantId: string, spec: ActorSpecInput): Promise<void>;
  /** Graceful stop (killed after the stop timeout); never restarted. Idempotent. */
  stop(tenantId: string, reason?: string): Promise<void>;
  /**
   * Send a command to the tenant's actor. Rejects with WA_SESSION_NOT_RUNNING (none, restarting or
   * stopping), WA_ACTOR_FAILED (parked), or any error of `ActorRef.call`.
   */
  call<R = unknown>(tenantId: string, command: unknown, opts?: { timeoutMs?: number }): Promise<R>;
  /** A one-way notice to the tenant's actor (`ActorRef.tell`); false when no actor runs to take it. */
  tell(tenantId: string, notice: unknown): boolean;
  inspect(tenantId: string): TenantActorInfo | undefined;
  stats(): SupervisorStats;
  /** Each listener returns its unsubscribe function. */
  onEvent(listener: ActorEventListener): () => void;
  onStatus(listener: StatusListener): () => void;
  onSystemicFault(listener: SystemicFaultListener): () => void;
  /** Stop every actor; no restart after this. */
  close(reason?: string): Promise<void>;
}
