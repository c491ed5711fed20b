import { ErrorCodes, isAppError, StaleEpochError, ValidationError } from '../domain/errors.js';
import type { Message } from '../domain/types.js';
import { translateDbError, type Sql } from './db.js';
import { assertEpoch } from './fence.js';
import { messageBatchStatement, readMessageBatch, writeMessageBatch, type WrittenBatch } from './message-batch.js';
import type { Fence } from './types.js';
import { isUuid, tenantSetup, withTenant, type TransactionSettings } from './with-tenant.js';

/**
 * Message batches of several tenants written in one transaction (group commit across tenants).
 *
 * Why: a transaction costs more than its statement. BEGIN and COMMIT are round trips, each a socket write
 * and a backend wake-up, and COMMIT waits for a WAL flush. With one transaction per tenant and batch, ten
 * tenants at 5,000 msgs/s paid that ten times per turn. Measured with a scratch script on this machine
 * (10 tenants, batches of 3 messages each, node and PostgreSQL CPU from /proc): 670 -> 290 us of CPU per
 * message, and 2.4k -> 4.1k msgs/s through one transaction at a time.
 *
 * How: `write` queues a batch. A group is BEGIN, then per batch the tenant's setup statement
 * (app.tenant_id, role wa_app: row-level security holds for each statement) and its batch statement, all
 * pipelined, then COMMIT. The group's batches are taken when BEGIN has answered, not when it is sent:
 * whatever was queued during that round trip goes too, and no second group opens meanwhile (it would
 * only split them). Instrumented at 5,000 msgs/s, the BEGIN round trip was a quarter of a group's time
 * (3.2 of 12.5 ms on a busy machine), and batches that came in during it opened groups of their own.
 * Taking after BEGIN, npm run bench -- --only inbound (3 runs, two rounds alternated with the version that
 * took before): CPU per message (node + PostgreSQL) 273-297 -> 253-265 us, fewer and larger groups; the
 * latencies within the noise.
 *
 * Up to four groups are in flight at a time, each on its own connection, and never more than half the
 * pool (the rest serves reads). With one, the database sat idle while the node answered (BEGIN's reply
 * waited for the node's event loop, busy publishing the group before) and the node sat idle while the
 * database worked: sampled from pg_stat_activity at 3,000 msgs/s, the backend spent a third of each group
 * waiting for the node after BEGIN. npm run bench -- --only inbound at 5,000/s on one machine, 3 runs
 * each: p50 237 ms with one group, 133-176 with two, 84 with three, 77 with four, 85 with six (p99 ~700,
 * ~500, 326, 254, 244); the CPU per message the same. Two groups never hold the same tenant: a tenant
 * with a batch in flight keeps its queued batches (in order) for a later group. Every row a batch locks
 * (its session, chats, counter) is its tenant's, so the groups in flight lock disjoint rows: they cannot
 * deadlock, and one tenant's batches commit in the order they were written.
 *
 * Failures stay with their batch:
 * - a stale epoch is an answer, not an error: that batch writes nothing and gets StaleEpochError, the
 *   others commit;
 * - any other error aborts the group; each of its batches is then written alone (withTenant), so only
 *   the batch at fault fails;
 * - an unreachable database (BEGIN included) fails every batch of the group with StoreUnavailableError
 *   (the callers retry).
 */
export interface GroupWriter {
  write(tenantId: string, batch: readonly Message[], fence: Fence | undefined): Promise<WrittenBatch>;
}

interface Pending {
  tenantId: string;
  batch: readonly Message[];
  fence: Fence | undefined;
  resolve(written: WrittenBatch): void;
  reject(err: unknown): void;
}

/** Most messages in one group; a larger batch still goes, alone. */
const MAX_GROUP_MESSAGES = 2_000;

/** Most groups committing at once (each on its own connection); at most half the pool. */
const MAX_GROUPS_IN_FLIGHT = 4;

type Outcome = { ok: true; written: WrittenBatch } | { ok: false; err: StaleEpochError };

export function createGroupWriter(sql: Sql, settings: TransactionSettings): GroupWriter {
  const groupsInFlight = Math.max(1, Math.min(MAX_GROUPS_IN_FLIGHT, Math.floor(sql.options.max / 2)));
  let queue: Pending[] = [];
  let scheduled = false;
  let inFlight = 0;
  /** A group's BEGIN is on its way; it takes the eligible batches when it answers. */
  let collecting = false;
  /** Tenants with a batch in a group in flight. */
  const busy = new Set<string>();

  function schedule(): void {
    if (scheduled || collecting || inFlight >= groupsInFlight || !anyEligible()) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      startGroup();
    });
  }

  /** A queued batch whose tenant has none in flight. */
  function anyEligible(): boolean {
    return queue.some((p) => !busy.has(p.tenantId));
  }

  /**
   * Opens a group's transaction; the group is taken when BEGIN has answered, so batches queued during
   * that round trip go in it. While one group collects, no other starts: it would only split them.
   */
  function startGroup(): void {
    if (collecting || inFlight >= groupsInFlight || !anyEligible()) return;
    inFlight++;
    collecting = true;
    let group: Pending[] = [];
    let took = false;
    const take = (): Pending[] => {
      took = true;
      collecting = false;
      group = takeGroup();
      for (const p of group) busy.add(p.tenantId);
      schedule();
      return group;
    };
    // writeGroup settles every batch itself; the catch only guards against a bug leaving callers waiting.
    void writeGroup(take)
      .catch((err: unknown) => {
        for (const p of group) p.reject(err);
      })
      .finally(() => {
        if (!took) collecting = false; // a bug stopped it before it took its group
        inFlight--;
        for (const p of group) busy.delete(p.tenantId);
        schedule();
      });
  }

  /**
   * The queued batches of tenants not busy, oldest first, up to MAX_GROUP_MESSAGES (one batch at least), in
   * tenant order. A tenant passed over once (busy, or the group full) has all its later batches passed
   * over too, so its batches keep their order.
   */
  function takeGroup(): Pending[] {
    const group: Pending[] = [];
    const rest: Pending[] = [];
    const held = new Set<string>();
    let messages = 0;
    for (const p of queue) {
      const fits = group.length === 0 || messages + p.batch.length <= MAX_GROUP_MESSAGES;
      if (busy.has(p.tenantId) || held.has(p.tenantId) || !fits) {
        held.add(p.tenantId);
        rest.push(p);
      } else {
        group.push(p);
        messages += p.batch.length;
      }
    }
    queue = rest;
    // Array.prototype.sort is stable: one tenant's batches keep their order.
    return group.sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0));
  }

  /** BEGIN, then `take()` the group, pipeline its batches, COMMIT; every batch is settled here. */
  async function writeGroup(take: () => Pending[]): Promise<void> {
    // Set once BEGIN has answered (a holder: TypeScript does not follow assignments in the callback).
    const slot: { group?: Pending[] } = {};
    let outcomes: Outcome[];
    try {
      outcomes = await sql.begin(async (tx) => {
        const taken = take();
        slot.group = taken;
        const answers = taken.map((p) => {
          const setup = tenantSetup(tx, p.tenantId, settings).execute();
          setup.catch(() => undefined); // the statement after it fails too, and is awaited
          return messageBatchStatement(tx, p.tenantId, p.batch, p.fence).execute();
        });
        const results: Outcome[] = [];
        for (const [i, answer] of answers.entries()) results.push(readOutcome(taken[i] as Pending, await answer));
        return results;
      });
    } catch (err) {
      // A failed BEGIN never took its group: take it now, so those batches fail with it (their callers
      // retry) instead of waiting for a group that never comes.
      const failed = slot.group ?? take();
      const error = translateDbError(err);
      if (slot.group === undefined || (isAppError(error) && error.code === ErrorCodes.STORE_UNAVAILABLE)) {
        for (const p of failed) p.reject(error);
        return;
      }
      for (const p of failed) await writeAlone(p);
      return;
    }
    const group = slot.group ?? [];
    for (const [i, outcome] of outcomes.entries()) {
      const p = group[i] as Pending;
      if (outcome.ok) p.resolve(outcome.written);
      else p.reject(outcome.err);
    }
  }

  async function writeAlone(p: Pending): Promise<void> {
    try {
      p.resolve(await withTenant(sql, p.tenantId, (tx) => writeMessageBatch(tx, p.tenantId, p.batch, p.fence), settings));
    } catch (err) {
      p.reject(err);
    }
  }

  return {
    write(tenantId, batch, fence) {
      // Checked here, not in the group: bad input fails alone and before anything is sent.
      if (!isUuid(tenantId)) return Promise.reject(new ValidationError('Invalid tenant id'));
      try {
        assertEpoch(fence);
      } catch (err) {
        return Promise.reject(err);
      }
      return new Promise<WrittenBatch>((resolve, reject) => {
        queue.push({ tenantId, batch, fence, resolve, reject });
        schedule();
      });
    },
  };
}

/** A refused batch (stale epoch) is its own outcome; any other failure aborts the group. */
function readOutcome(p: Pending, rows: readonly unknown[]): Outcome {
  try {
    return { ok: true, written: readMessageBatch(p.tenantId, p.batch, p.fence, rows) };
  } catch (err) {
    if (err instanceof StaleEpochError) return { ok: false, err };
    throw err;
  }
}
