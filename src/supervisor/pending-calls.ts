import { AppError, type ErrorData } from '../domain/errors.js';

interface Waiter {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export type SettleResult = 'settled' | 'late' | 'unknown';

/**
 * Calls sent to one actor and not yet answered, by correlation id.
 *
 * A call that passes its deadline is rejected at once but stays counted in `depth` until its late reply
 * arrives (or the actor dies): the command still sits in the actor's mailbox, and the bound the sender
 * enforces must match what the actor really holds.
 */
export class PendingCalls {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiter>();
  private readonly expired = new Set<number>();
  /** Replies that arrived after their call's deadline and were dropped. */
  lateReplies = 0;

  /** Commands the actor holds: queued, running, or timed out here but not yet answered. */
  get depth(): number {
    return this.waiting.size + this.expired.size;
  }

  /** Register a call; `send` must post it and may throw (the call then fails with that error). */
  open(timeoutMs: number, onTimeout: () => Error, send: (id: number) => void): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        this.expired.add(id);
        reject(onTimeout());
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      try {
        send(id);
      } catch (err) {
        clearTimeout(timer);
        this.waiting.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  settle(id: number, result: { ok: true; value?: unknown } | { ok: false; error: ErrorData }): SettleResult {
    const waiter = this.waiting.get(id);
    if (waiter === undefined) {
      if (!this.expired.delete(id)) return 'unknown';
      this.lateReplies += 1;
      return 'late';
    }
    clearTimeout(waiter.timer);
    this.waiting.delete(id);
    if (result.ok) waiter.resolve(result.value);
    else waiter.reject(AppError.fromData(result.error));
    return 'settled';
  }

  /** The actor is gone: every call still waiting fails with `error`, and nothing is owed any more. */
  failAll(error: () => Error): void {
    for (const waiter of this.waiting.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(error());
    }
    this.waiting.clear();
    this.expired.clear();
  }
}
