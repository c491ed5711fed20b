import { Type } from '@sinclair/typebox';
import { StaleEpochError } from '../domain/errors.js';
import { Chat, type Message } from '../domain/types.js';
import type { Sql, Statement, TxSql } from './db.js';
import { assertEpoch } from './fence.js';
import type { Fence, StoredEvent } from './types.js';
import { formatEventId } from './outbox.js';
import { iso, parseRows } from './with-tenant.js';

/** Characters of a message body kept as its chat's preview. */
const PREVIEW_CHARS = 200;

const WrittenRow = Type.Object({
  refused: Type.Boolean(),
  seq: Type.Union([Type.String({ pattern: '^\\d+$' }), Type.Null()]),
  message_id: Type.Union([Type.String(), Type.Null()]),
  chat: Type.Union([Chat, Type.Null()]),
  created_at: Type.Union([Type.Date(), Type.Null()]),
});

export interface WrittenBatch {
  /** The messages that were new, in input order. */
  stored: Message[];
  /** Their outbox events: one `message` per new message, then one `chat_updated` per touched chat. */
  events: StoredEvent[];
}

/**
 * A batch of messages as ONE statement: fence check, new messages (redeliveries skipped), their chats
 * created or moved forward, and the outbox events with the tenant's counter, all as data-modifying CTEs.
 * An ingest batch used to be ten statements in six round trips; each round trip wakes a PostgreSQL
 * backend and waits for the node's event loop. Now it is the tenant's settings and this statement, inside
 * a transaction shared with other tenants' batches (group-commit.ts) or its own (withTenant: a batch with
 * media). One round trip per batch (BEGIN, settings, statement, COMMIT pipelined on a reserved connection)
 * measured no better under load, and postgres.js 3.4.9's reserve() strands the pool after a lost
 * connection (porsager/postgres#1195, #1199), which the PostgreSQL restart test caught.
 *
 * What the statement keeps from the step-by-step version:
 * - the fence: the session row is read FOR SHARE before anything is written, and a newer epoch writes
 *   nothing (the statement answers `refused`: StaleEpochError);
 * - messages get their seq in batch order (ORDER BY ord), chats exist before the commit checks the
 *   messages' foreign key (checked at the end of the statement, when the chats CTE has run);
 * - a chat's last message only moves forward, new inbound messages add to its unread count;
 * - events are numbered under the counter row's lock, taken after the rows are written (the counter
 *   CTE needs the events, which need the inserted rows), and `created_at` is read after it.
 * `batch` must hold distinct ids and storable text (insertMany does both).
 */
export function messageBatchStatement(q: Sql | TxSql, tenantId: string, batch: readonly Message[], fence: Fence | undefined): Statement {
  assertEpoch(fence);
  const epoch = fence === undefined ? null : fence.epoch;
  return q`
    WITH input AS (
      SELECT e.value AS payload, e.ord::integer AS ord,
             e.value->>'id' AS id, e.value->>'chatId' AS chat_id, (e.value->>'fromMe')::boolean AS from_me,
             e.value->>'from' AS sender, e.value->>'body' AS body, e.value->>'type' AS type,
             (e.value->>'hasMedia')::boolean AS has_media, (e.value->>'ack')::smallint AS ack,
             (e.value->>'timestamp')::timestamptz AS sent_at
      FROM jsonb_array_elements(${JSON.stringify(batch)}::text::jsonb) WITH ORDINALITY AS e(value, ord)
    ), allowed AS (
      SELECT ${epoch}::bigint IS NULL OR NOT EXISTS (
        SELECT 1 FROM (SELECT lease_epoch FROM sessions WHERE tenant_id = ${tenantId} FOR SHARE) s
        WHERE s.lease_epoch > ${epoch}::bigint
      ) AS ok
    ), m AS (
      INSERT INTO messages (tenant_id, wa_message_id, chat_id, from_me, sender, body, type, has_media, ack, sent_at)
      SELECT ${tenantId}, id, chat_id, from_me, sender, body, type, has_media, ack, sent_at
      FROM input WHERE (SELECT ok FROM allowed)
      ORDER BY ord
      ON CONFLICT (tenant_id, wa_message_id) DO NOTHING
      RETURNING wa_message_id, chat_id, sent_at, seq, body, type, from_me
    ), latest AS (
      SELECT DISTINCT ON (chat_id) chat_id, sent_at,
             CASE WHEN body <> '' THEN left(body, ${PREVIEW_CHARS}) ELSE '[' || type || ']' END AS preview
      FROM m ORDER BY chat_id, sent_at DESC, seq DESC
    ), counts AS (
      SELECT chat_id, count(*) FILTER (WHERE NOT from_me)::integer AS inbound FROM m GROUP BY chat_id
    ), c AS (
      INSERT INTO chats AS c (tenant_id, id, unread_count, last_message_at, last_message_preview)
      SELECT ${tenantId}, l.chat_id, n.inbound, l.sent_at, l.preview FROM latest l JOIN counts n USING (chat_id)
      ON CONFLICT (tenant_id, id) DO UPDATE SET
        last_message_at = CASE WHEN c.last_message_at IS NULL OR c.last_message_at <= EXCLUDED.last_message_at
                               THEN EXCLUDED.last_message_at ELSE c.last_message_at END,
        last_message_preview = CASE WHEN c.last_message_at IS NULL OR c.last_message_at <= EXCLUDED.last_message_at
                                    THEN EXCLUDED.last_message_preview ELSE c.last_message_preview END,
        unread_count = c.unread_count + EXCLUDED.unread_count,
        updated_at = now()
      RETURNING c.id, jsonb_build_object(
        'id', c.id, 'name', c.name, 'isGroup', c.is_group, 'unreadCount', c.unread_count,
        'lastMessageAt', to_char(c.last_message_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'lastMessagePreview', c.last_message_preview) AS payload
    ), ev AS (
      SELECT i.ord AS k, 'message' AS name, i.chat_id, i.payload FROM m JOIN input i ON i.id = m.wa_message_id
      UNION ALL
      SELECT ${batch.length} + row_number() OVER (ORDER BY c.id), 'chat_updated', c.id, c.payload FROM c
    ), numbered AS (
      SELECT row_number() OVER (ORDER BY k) AS n, count(*) OVER () AS total, name, chat_id, payload FROM ev
    ), counter AS (
      INSERT INTO event_counters (tenant_id, last_seq)
      SELECT ${tenantId}, count(*) FROM numbered HAVING count(*) > 0
      ON CONFLICT (tenant_id) DO UPDATE SET last_seq = event_counters.last_seq + EXCLUDED.last_seq
      RETURNING last_seq
    ), e AS (
      INSERT INTO events (tenant_id, seq, name, chat_id, payload, created_at)
      SELECT ${tenantId}, counter.last_seq - n.total + n.n, n.name, n.chat_id, n.payload, clock_timestamp()
      FROM numbered n CROSS JOIN counter ORDER BY n.n
      RETURNING seq, created_at,
                CASE WHEN name = 'message' THEN payload->>'id' END AS message_id,
                CASE WHEN name = 'chat_updated' THEN payload END AS chat
    )
    SELECT false AS refused, seq::text AS seq, message_id, chat, created_at FROM e
    UNION ALL
    SELECT true, NULL, NULL, NULL, NULL FROM allowed WHERE NOT ok`;
}

/** The batch statement run in `tx` (which acts for `tenantId`), read: what `readMessageBatch` returns. */
export async function writeMessageBatch(tx: TxSql, tenantId: string, batch: readonly Message[], fence: Fence | undefined): Promise<WrittenBatch> {
  return readMessageBatch(tenantId, batch, fence, await messageBatchStatement(tx, tenantId, batch, fence));
}

/** What `messageBatchStatement` answered: the new messages and their events, or StaleEpochError. */
export function readMessageBatch(tenantId: string, batch: readonly Message[], fence: Fence | undefined, rows: readonly unknown[]): WrittenBatch {
  const written = parseRows(WrittenRow, rows, 'written batch');
  if (written.some((r) => r.refused)) throw new StaleEpochError(tenantId, fence?.epoch ?? 0);
  const byId = new Map(batch.map((m) => [m.id, m]));
  const stored: Message[] = [];
  const events: StoredEvent[] = [];
  for (const row of written.sort((a, b) => Number(a.seq) - Number(b.seq))) {
    const seq = Number(row.seq);
    const createdAt = row.created_at === null ? '' : iso(row.created_at);
    const message = row.message_id === null ? undefined : byId.get(row.message_id);
    if (message !== undefined) {
      stored.push(message);
      events.push({ id: formatEventId(tenantId, seq), tenantId, seq, name: 'message', chatId: message.chatId, payload: message, createdAt });
    } else if (row.chat !== null) {
      events.push({ id: formatEventId(tenantId, seq), tenantId, seq, name: 'chat_updated', chatId: row.chat.id, payload: row.chat, createdAt });
    }
  }
  return { stored, events };
}
