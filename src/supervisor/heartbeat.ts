export interface HeartbeatOptions {
  intervalMs: number;
  /** Consecutive unanswered pings that make the actor count as hung. */
  maxMissed: number;
  ping(seq: number): void;
  onHung(missed: number): void;
}

export interface Heartbeat {
  /** Start counting misses (the actor is ready: its runtime answers pings from now on). */
  arm(): void;
  /** Record an answer; it also arms the monitor. */
  pong(seq: number): void;
  stop(): void;
}

/**
 * Pings the actor every `intervalMs`. The actor answers from its system lane, so only a thread blocked by
 * CPU work (or dead without an exit) falls silent. Misses are counted once armed (first pong or ready):
 * the time to boot the thread and load modules is covered by the start timeout instead.
 */
export function startHeartbeat(opts: HeartbeatOptions): Heartbeat {
  let sent = 0;
  let answered = 0;
  let missed = 0;
  let armed = false;
  const timer = setInterval(() => {
    if (armed && answered < sent) missed += 1;
    if (missed >= opts.maxMissed) {
      clearInterval(timer);
      opts.onHung(missed);
      return;
    }
    sent += 1;
    opts.ping(sent);
  }, opts.intervalMs);
  // Heartbeats alone must not keep the process alive.
  timer.unref();

  return {
    arm() {
      armed = true;
    },
    pong(seq) {
      armed = true;
      if (seq > answered) answered = seq;
      if (answered === sent) missed = 0;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
