import { Type } from '@sinclair/typebox';
import { ValidationError } from '../domain/errors.js';
import { EventName } from '../domain/types.js';
import type { Sql, TxSql } from './db.js';
import { checkFence } from './fence.js';
import type { EventListener, NewEvent, OutboxRepo, StoredEvent } from './types.js';
import { asOwner, iso, parseRow, parseRows, withTenant } from './with-tenant.js';

const LastSeqRow = Type.Object({ last_seq: Type.String({ pattern: '^\\d+$' }) });
const PrunedCountRow = Type.Object({ n: Type.Integer() });

/**
 * The outbox (migration 004). Repositories append the events a write causes with `appendEvents`, inside
 * the write's own transaction and as its last statement: the tenant's counter row stays locked from there
 * to the commit, so the tenant's events commit in seq order and the committed seqs are a gapless prefix.
 * That is what makes a cursor (`seq > n`) a safe way to resume: no event can appear later below it.
 */

/** Largest page of events a caller may ask for. */
export const MAX_EVENT_PAGE = 1000;

const SEQ = /^(0|[1-9]\d{0,15})$/;

/** The global id of a tenant's event: `<tenantId>:<seq>`. */
export function formatEventId(tenantId: string, seq: number): string {
  return `${tenantId}:${seq}`;
}

/**
 * The seq a caller's cursor names: an event id of this tenant, or a bare seq (`0`: from the start).
 * Anything else, an id of another tenant included, is a ValidationError.
 */
export function parseEventCursor(tenantId: string, value: string): number {
  const invalid = new ValidationError('Invalid event id: pass the id of an event you received, or 0');
  if (value === '0') return 0;
  const colon = value.lastIndexOf(':');
  const seqText = colon === -1 ? value : value.slice(colon + 1);
  if (colon !== -1 && value.slice(0, colon).toLowerCase() !== tenantId.toLowerCase()) throw invalid;
  if (!SEQ.test(seqText)) throw invalid;
  const seq = Number(seqText);
  if (!Number.isSafeInteger(seq)) throw invalid;
  return seq;
}

const AppendedRow = Type.Object({ seq: Type.String({ pattern: '^\\d+$' }), created_at: Type.Date() });

/**
 * Appends `events` to the tenant's outbox inside `tx`, numbered in array order. Call it last in the
 * transaction (it takes the tenant's counter lock, held until commit; taking it last keeps the lock
 * order the same everywhere: no deadlock, shortest wait).
 */
export async function appendEvents(tx: TxSql, tenantId: string, events: NewEvent[]): Promise<StoredEvent[]> {
  if (events.length === 0) return [];
  const counter = await tx`
    INSERT INTO event_counters (tenant_id, last_seq) VALUES (${tenantId}, ${events.length})
    ON CONFLICT (tenant_id) DO UPDATE SET last_seq = event_counters.last_seq + EXCLUDED.last_seq
    RETURNING last_seq::text AS last_seq`;
  const last = parseRow(LastSeqRow, counter, 'event counter');
  if (last === null) throw new Error('event counter upsert returned no row');
  const first = Number(last.last_seq) - events.length + 1;
  const json = JSON.stringify(events.map((e, ord) => ({ ord, name: e.name, chatId: e.chatId, payload: e.payload ?? null })));
  // clock_timestamp(), not now(): taken under the counter lock, so created_at follows seq within a tenant
  // and the retention job, which deletes by age, always deletes a prefix.
  const rows = await tx`
    INSERT INTO events (tenant_id, seq, name, chat_id, payload, created_at)
    SELECT ${tenantId}, ${first} + r.ord, r.name, r."chatId", r.payload, clock_timestamp()
    FROM jsonb_to_recordset(${json}::text::jsonb) AS r(ord integer, name text, "chatId" text, payload jsonb)
    ORDER BY r.ord
    RETURNING seq::text AS seq, created_at`;
  const createdAt = new Map(parseRows(AppendedRow, rows, 'event').map((r) => [Number(r.seq), iso(r.created_at)]));
  return events.map((e, ord) => {
    const seq = first + ord;
    return { id: formatEventId(tenantId, seq), tenantId, seq, name: e.name, chatId: e.chatId, payload: e.payload ?? null, createdAt: createdAt.get(seq) ?? '' };
  });
}

/** Tells the listener of committed events. A listener's failure must not make a committed write look failed. */
export function notifyEvents(listener: EventListener | undefined, tenantId: string, events: StoredEvent[]): void {
  if (listener === undefined || events.length === 0) return;
  try {
    listener(tenantId, events);
  } catch {
    // Deliberately ignored: the data and its events are committed; live delivery catches up from the
    // outbox (sockets on their next event, webhooks on the worker's next poll). Listeners log their own errors.
  }
}

export const EventRow = Type.Object({
  seq: Type.String({ pattern: '^\\d+$' }),
  name: EventName,
  chat_id: Type.Union([Type.String(), Type.Null()]),
  payload: Type.Unknown(),
  created_at: Type.Date(),
});

/** Maps an `events` row (with seq as text) to a StoredEvent. */
export function toStoredEvent(tenantId: string, row: { seq: string; name: EventName; chat_id: string | null; payload: unknown; created_at: Date }): StoredEvent {
  const seq = Number(row.seq);
  return { id: formatEventId(tenantId, seq), tenantId, seq, name: row.name, chatId: row.chat_id, payload: row.payload, createdAt: iso(row.created_at) };
}

const CounterRow = Type.Object({ last_seq: Type.String({ pattern: '^\\d+$' }), pruned_seq: Type.String({ pattern: '^\\d+$' }) });

async function readCounter(tx: TxSql, tenantId: string): Promise<{ head: number; pruned: number }> {
  const rows = await tx`SELECT last_seq::text AS last_seq, pruned_seq::text AS pruned_seq FROM event_counters WHERE tenant_id = ${tenantId}`;
  const row = parseRow(CounterRow, rows, 'event counter');
  return row === null ? { head: 0, pruned: 0 } : { head: Number(row.last_seq), pruned: Number(row.pruned_seq) };
}

export function createOutboxRepo(sql: Sql, onEvents?: EventListener): OutboxRepo {
  return {
    async append(tenantId, events, fence) {
      const stored = await withTenant(sql, tenantId, async (tx) => {
        await checkFence(tx, tenantId, fence);
        return appendEvents(tx, tenantId, events);
      });
      notifyEvents(onEvents, tenantId, stored);
      return stored;
    },

    async read(tenantId, opts) {
      if (!Number.isSafeInteger(opts.after) || opts.after < 0) throw new ValidationError('after must be a non-negative integer');
      if (!Number.isInteger(opts.limit) || opts.limit < 1 || opts.limit > MAX_EVENT_PAGE) {
        throw new ValidationError(`limit must be an integer from 1 to ${MAX_EVENT_PAGE}`);
      }
      const { chatIds } = opts;
      return withTenant(sql, tenantId, async (tx) => {
        // The counter first, the events second (read committed: a later statement sees at least as
        // much). Every seq up to the head read first is committed, so the second read returns every
        // event up to it that matches: past those the cursor may move even when a filter returned none.
        const { head, pruned } = await readCounter(tx, tenantId);
        const filter = chatIds === undefined ? tx`` : tx`AND e.chat_id = ANY(${chatIds}::text[])`;
        // ORDER BY e.seq, the bigint: the output column named seq is text and would sort '10' before '9'.
        const rows = await tx`
          SELECT e.seq::text AS seq, e.name, e.chat_id, e.payload, e.created_at FROM events e
          WHERE e.tenant_id = ${tenantId} AND e.seq > ${opts.after} ${filter}
          ORDER BY e.seq LIMIT ${opts.limit}`;
        const events = parseRows(EventRow, rows, 'event').map((r) => toStoredEvent(tenantId, r));
        const last = events[events.length - 1]?.seq ?? opts.after;
        const cursor = events.length === opts.limit ? last : Math.max(head, last, opts.after);
        return { events, cursor, truncated: opts.after < pruned };
      });
    },

    async head(tenantId) {
      return withTenant(sql, tenantId, async (tx) => (await readCounter(tx, tenantId)).head);
    },

    async prune(olderThanMs, batch) {
      if (!Number.isSafeInteger(olderThanMs) || olderThanMs < 0) throw new ValidationError('olderThanMs must be a non-negative integer');
      // Cross-tenant system job, as the owner role. SKIP LOCKED: nodes pruning at once take different rows.
      return asOwner(async () => {
        const rows = await sql`
          WITH doomed AS (
            SELECT tenant_id, seq FROM events
            WHERE created_at < now() - make_interval(secs => ${olderThanMs / 1000})
            ORDER BY created_at LIMIT ${batch} FOR UPDATE SKIP LOCKED
          ), gone AS (
            DELETE FROM events e USING doomed d WHERE e.tenant_id = d.tenant_id AND e.seq = d.seq
            RETURNING e.tenant_id, e.seq
          ), marked AS (
            UPDATE event_counters c SET pruned_seq = GREATEST(c.pruned_seq, g.top)
            FROM (SELECT tenant_id, max(seq) AS top FROM gone GROUP BY tenant_id) g
            WHERE c.tenant_id = g.tenant_id
            RETURNING 1
          )
          SELECT count(*)::integer AS n FROM gone`;
        return parseRow(PrunedCountRow, rows, 'prune count')?.n ?? 0;
      });
    },
  };
}
