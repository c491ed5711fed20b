import type { Logger } from '../domain/log.js';
import type { OutboxRepo } from '../store/types.js';

export interface RetentionJob {
  /** Runs once now (tests), then on the interval once started. Resolves with the events deleted. */
  runOnce(): Promise<number>;
  start(): void;
  /** Stops the interval and waits for a run in progress. Idempotent. */
  close(): Promise<void>;
}

/** Events deleted per statement: short transactions, no long lock on a busy table. */
const BATCH = 5000;
/** Statements per run: a large backlog is worked off over several runs instead of one long one. */
const MAX_BATCHES = 100;

/**
 * Deletes outbox events older than the retention (their webhook deliveries and attempts go with them).
 * Every node runs it; concurrent runs take different rows (SKIP LOCKED), so no coordination is needed.
 */
export function createRetentionJob(deps: { outbox: OutboxRepo; retentionMs: number; intervalMs: number; log: Logger }): RetentionJob {
  const log = deps.log.child({ component: 'outbox-retention' });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | null = null;
  let closed = false;

  async function run(): Promise<number> {
    let total = 0;
    for (let i = 0; i < MAX_BATCHES && !closed; i++) {
      const n = await deps.outbox.prune(deps.retentionMs, BATCH);
      total += n;
      if (n < BATCH) break;
    }
    if (total > 0) log.info({ deleted: total }, 'outbox events past retention deleted');
    return total;
  }

  function runOnce(): Promise<number> {
    running ??= run().finally(() => {
      running = null;
    });
    return running;
  }

  return {
    runOnce,
    start() {
      if (timer !== undefined || closed) return;
      timer = setInterval(() => {
        runOnce().catch((err: unknown) => log.warn({ err }, 'outbox retention run failed'));
      }, deps.intervalMs);
      timer.unref();
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await running?.catch(() => undefined); // its failure was logged by the interval's handler
    },
  };
}
