/** Injected time source so policies and timers are testable without real time. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
