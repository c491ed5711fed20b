import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/domain/clock.js';
import {
  backoffDelay,
  defaultRestartPolicy,
  initialActorRestartState,
  initialNodeRestartState,
  onActorFailure,
  onActorReady,
  onNodeRestart,
  type ActorRestartState,
  type RestartDecision,
  type RestartPolicy,
} from '../../../src/supervisor/restart-policy.js';

function fakeClock(start = 1_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance(ms) {
      now += ms;
    },
  };
}

const policy: RestartPolicy = { ...defaultRestartPolicy, intensity: 5, periodMs: 60_000, maxStartFailures: 3, backoffBaseMs: 100, backoffMaxMs: 1_000 };
const half = () => 0.5;

/** Fail the actor `count` times, `everyMs` apart, and return the last state and decisions. */
function failRepeatedly(count: number, everyMs: number, clock: ReturnType<typeof fakeClock>, beforeReady = false) {
  let state: ActorRestartState = initialActorRestartState;
  const decisions: RestartDecision[] = [];
  for (let i = 0; i < count; i += 1) {
    const result = onActorFailure(state, { at: clock.now(), beforeReady, reason: `crash ${i + 1}` }, policy, half);
    state = result.state;
    decisions.push(result.decision);
    clock.advance(everyMs);
  }
  return { state, decisions };
}

describe('backoffDelay', () => {
  it('doubles the ceiling per attempt and never exceeds the maximum', () => {
    const almostOne = () => 0.999_999;
    expect([0, 1, 2, 3, 4, 10].map((attempt) => backoffDelay(attempt, policy, almostOne))).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it('spreads delays over the whole range from zero (full jitter)', () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, half)).toBe(400);
  });
});

describe('onActorFailure', () => {
  it('restarts up to the intensity within the period, then parks with the last reason', () => {
    const { decisions } = failRepeatedly(6, 1_000, fakeClock());
    expect(decisions.slice(0, 5).every((d) => d.action === 'restart')).toBe(true);
    expect(decisions[5]).toEqual({ action: 'park', reason: 'restart intensity exceeded: 6 failures within 60 s; last: crash 6' });
  });

  it('backs off longer with each failure in the period', () => {
    const { decisions } = failRepeatedly(4, 1_000, fakeClock());
    expect(decisions).toEqual([
      { action: 'restart', delayMs: 50 },
      { action: 'restart', delayMs: 100 },
      { action: 'restart', delayMs: 200 },
      { action: 'restart', delayMs: 400 },
    ]);
  });

  it('forgets failures older than the period, so slow crashes never park the actor', () => {
    const clock = fakeClock();
    const { state, decisions } = failRepeatedly(20, 20_000, clock);
    expect(decisions.every((d) => d.action === 'restart')).toBe(true);
    expect(state.failures.length).toBe(3);
    // Back to the first backoff step once the window holds a single failure.
    clock.advance(60_000);
    expect(onActorFailure(state, { at: clock.now(), beforeReady: false, reason: 'x' }, policy, half).decision).toEqual({ action: 'restart', delayMs: 50 });
  });

  it('parks an actor that fails before ready sooner than the intensity', () => {
    const { decisions } = failRepeatedly(3, 1_000, fakeClock(), true);
    expect(decisions.map((d) => d.action)).toEqual(['restart', 'restart', 'park']);
    expect(decisions[2]).toEqual({ action: 'park', reason: 'failed to start 3 times in a row; last: crash 3' });
  });

  it('counts start failures only in a row: becoming ready resets them', () => {
    const clock = fakeClock();
    const { state } = failRepeatedly(2, 1_000, clock, true);
    const ready = onActorReady(state);
    expect(ready.startFailures).toBe(0);
    expect(ready.failures).toEqual(state.failures);
    const next = onActorFailure(ready, { at: clock.now(), beforeReady: true, reason: 'again' }, policy, half);
    expect(next.decision.action).toBe('restart');
    expect(next.state.startFailures).toBe(1);
  });

  it('does not change the state it is given', () => {
    const clock = fakeClock();
    const state = failRepeatedly(2, 1_000, clock).state;
    const before = structuredClone(state);
    onActorFailure(state, { at: clock.now(), beforeReady: true, reason: 'x' }, policy, half);
    expect(state).toEqual(before);
  });
});

describe('onNodeRestart', () => {
  const nodePolicy: RestartPolicy = { ...policy, nodeIntensity: 3, nodePeriodMs: 10_000, nodeCoolDownMs: 30_000 };

  it('lets restarts through at once while under the node intensity', () => {
    const clock = fakeClock();
    let state = initialNodeRestartState;
    for (let i = 0; i < 3; i += 1) {
      const result = onNodeRestart(state, clock.now(), nodePolicy);
      expect(result.notBefore).toBe(clock.now());
      expect(result.fault).toBeUndefined();
      state = result.state;
      clock.advance(1_000);
    }
  });

  it('signals a systemic fault past the node intensity and pauses restarts for the cool-down', () => {
    const clock = fakeClock();
    let state = initialNodeRestartState;
    for (let i = 0; i < 3; i += 1) state = onNodeRestart(state, clock.now(), nodePolicy).state;
    const tripped = onNodeRestart(state, clock.now(), nodePolicy);
    expect(tripped.fault).toEqual({ restarts: 4, periodMs: 10_000, until: clock.now() + 30_000 });
    expect(tripped.notBefore).toBe(clock.now() + 30_000);

    clock.advance(5_000);
    const during = onNodeRestart(tripped.state, clock.now(), nodePolicy);
    expect(during.fault).toBeUndefined();
    expect(during.notBefore).toBe(tripped.notBefore);

    clock.advance(25_000);
    const after = onNodeRestart(during.state, clock.now(), nodePolicy);
    expect(after).toEqual({ state: { restarts: [clock.now()], coolDownUntil: 0 }, notBefore: clock.now() });
  });

  it('counts only the restarts inside the node period', () => {
    const clock = fakeClock();
    let state = initialNodeRestartState;
    for (let i = 0; i < 10; i += 1) {
      const result = onNodeRestart(state, clock.now(), nodePolicy);
      expect(result.fault).toBeUndefined();
      state = result.state;
      clock.advance(4_000);
    }
  });
});
