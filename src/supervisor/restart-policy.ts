/*
 * When to restart a failed actor, and how soon: pure functions of (state, time, random), so that every
 * rule is tested with a fake clock. The supervisor keeps the state and the timers.
 *
 * Rules (after Erlang/OTP supervisors, adapted to sessions that talk to a remote service):
 * - one-for-one: only the failed actor is restarted, after an exponential backoff with full jitter;
 * - restart intensity: more than `intensity` failures within `periodMs` parks the actor as failed;
 * - failures before the actor was ever ready (bad credentials, broken module) park it sooner:
 *   `maxStartFailures` in a row;
 * - node-wide intensity: more than `nodeIntensity` restarts on this node within `nodePeriodMs` is a
 *   systemic fault (database down, out of file descriptors...). Restarting harder would not help:
 *   restarts pause for `nodeCoolDownMs`.
 */

export interface RestartPolicy {
  /** Most failures of one actor within `periodMs` that are still restarted. Default 5. */
  intensity: number;
  /** Default 60 000. */
  periodMs: number;
  /** Consecutive failures before ready that park the actor. Default 3. */
  maxStartFailures: number;
  /** First backoff ceiling; doubles per failure in the period. Default 500. */
  backoffBaseMs: number;
  /** Ceiling of any backoff. Default 30 000. */
  backoffMaxMs: number;
  /** Most restarts on the node within `nodePeriodMs` before a systemic fault. Default 50. */
  nodeIntensity: number;
  /** Default 60 000. */
  nodePeriodMs: number;
  /** Pause of all restarts after a systemic fault. Default 30 000. */
  nodeCoolDownMs: number;
}

export const defaultRestartPolicy: Readonly<RestartPolicy> = Object.freeze({
  intensity: 5,
  periodMs: 60_000,
  maxStartFailures: 3,
  backoffBaseMs: 500,
  backoffMaxMs: 30_000,
  nodeIntensity: 50,
  nodePeriodMs: 60_000,
  nodeCoolDownMs: 30_000,
});

/** A uniform random number in [0, 1). */
export type Random = () => number;

export interface ActorRestartState {
  /** Times of recent failures (within the period). */
  readonly failures: readonly number[];
  /** Failures before ready since the actor was last ready. */
  readonly startFailures: number;
}

export const initialActorRestartState: ActorRestartState = Object.freeze({ failures: [], startFailures: 0 });

export interface Failure {
  at: number;
  /** The actor had not become ready. */
  beforeReady: boolean;
  reason: string;
}

export type RestartDecision = { action: 'restart'; delayMs: number } | { action: 'park'; reason: string };

/** Full jitter: uniform in [0, min(max, base * 2^attempt)). Attempt 0 is the first restart. */
export function backoffDelay(attempt: number, policy: Pick<RestartPolicy, 'backoffBaseMs' | 'backoffMaxMs'>, random: Random): number {
  const ceiling = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/** Record a failure of one actor and decide whether to restart it (after how long) or park it. */
export function onActorFailure(
  state: ActorRestartState,
  failure: Failure,
  policy: RestartPolicy,
  random: Random,
): { state: ActorRestartState; decision: RestartDecision } {
  const failures = [...state.failures.filter((at) => at > failure.at - policy.periodMs), failure.at];
  const startFailures = failure.beforeReady ? state.startFailures + 1 : 0;
  const next: ActorRestartState = { failures, startFailures };
  if (startFailures >= policy.maxStartFailures) {
    return { state: next, decision: { action: 'park', reason: `failed to start ${startFailures} times in a row; last: ${failure.reason}` } };
  }
  if (failures.length > policy.intensity) {
    const seconds = Math.round(policy.periodMs / 1000);
    return {
      state: next,
      decision: { action: 'park', reason: `restart intensity exceeded: ${failures.length} failures within ${seconds} s; last: ${failure.reason}` },
    };
  }
  return { state: next, decision: { action: 'restart', delayMs: backoffDelay(failures.length - 1, policy, random) } };
}

/** The actor became ready: it can start, so earlier start failures no longer count. */
export function onActorReady(state: ActorRestartState): ActorRestartState {
  return state.startFailures === 0 ? state : { failures: state.failures, startFailures: 0 };
}

export interface NodeRestartState {
  /** Times of recent restarts on this node (within the node period). */
  readonly restarts: readonly number[];
  /** No restart happens before this time (0: no cool-down). */
  readonly coolDownUntil: number;
}

export const initialNodeRestartState: NodeRestartState = Object.freeze({ restarts: [], coolDownUntil: 0 });

export interface SystemicFault {
  /** Restarts within the node period that tripped the fault. */
  restarts: number;
  periodMs: number;
  /** Restarts resume at this time. */
  until: number;
}

/**
 * Account for one restart about to be scheduled on this node. Returns the earliest time it may happen,
 * and the fault when this restart is the one that trips the node intensity. Restarts asked for during a
 * cool-down wait for its end and are not counted: the next window starts clean.
 */
export function onNodeRestart(
  state: NodeRestartState,
  at: number,
  policy: RestartPolicy,
): { state: NodeRestartState; notBefore: number; fault?: SystemicFault } {
  if (at < state.coolDownUntil) return { state, notBefore: state.coolDownUntil };
  const restarts = [...state.restarts.filter((t) => t > at - policy.nodePeriodMs), at];
  if (restarts.length <= policy.nodeIntensity) return { state: { restarts, coolDownUntil: 0 }, notBefore: at };
  const until = at + policy.nodeCoolDownMs;
  return {
    state: { restarts: [], coolDownUntil: until },
    notBefore: until,
    fault: { restarts: restarts.length, periodMs: policy.nodePeriodMs, until },
  };
}
