import { Type, type Static } from '@sinclair/typebox';
import { ValidationError } from '../domain/errors.js';
import { Ack, MessageType, type Message } from '../domain/types.js';
import { storableText, type Sql, type TxSql } from './db.js';
import { checkFence } from './fence.js';
import { writeMedia } from './media.js';
import { appendEvents, notifyEvents } from './outbox.js';
import { readChatAccess } from './chats.js';
import type { EventListener, MessagePage, MessageRepo, NewEvent } from './types.js';
import { DEFERRED_CHAT_LIST_NOTIFY } from './chat-list-notifier.js';
import { createGroupWriter } from './group-commit.js';
import { writeMessageBatch } from './message-batch.js';
import { iso, parseRow, parseRows, withTenant } from './with-tenant.js';

const MessageRow = Type.Object({
  wa_message_id: Type.String(),
  chat_id: Type.String(),
  sender: Type.String(),
  from_me: Type.Boolean(),
  body: Type.String(),
  type: MessageType,
  has_media: Type.Boolean(),
  ack: Ack,
  sent_at: Type.Date(),
});
const PageRow = Type.Composite([MessageRow, Type.Object({ seq_text: Type.String(), sent_exact: Type.String() })]);

function toMessage(row: Static<typeof MessageRow>): Message {
  return {
    id: row.wa_message_id,
    chatId: row.chat_id,
    from: row.sender,
    fromMe: row.from_me,
    body: row.body,
    timestamp: iso(row.sent_at),
    type: row.type,
    hasMedia: row.has_media,
    ack: row.ack,
  };
}

/** Largest page a caller may ask for. */
export const MAX_PAGE_LIMIT = 500;

const AckRow = Type.Object({
  wa_message_id: Type.String(),
  chat_id: Type.String(),
  ack: Ack,
});

interface Cursor {
  /** sent_at to the microsecond, UTC (JS Dates keep only milliseconds, so the cursor carries text). */
  t: string;
  /** messages.seq (bigint as a decimal string). */
  s: string;
}

const EXACT_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.t, cursor.s]), 'utf8').toString('base64url');
}

/** Decodes an opaque page cursor; anything we did not produce -> ValidationError. */
export function decodeCursor(value: string): Cursor {
  const invalid = new ValidationError('Invalid cursor', { before: value });
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(value)) throw invalid;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalid;
  const [t, s]: unknown[] = parsed;
  if (typeof t !== 'string' || typeof s !== 'string' || !EXACT_TS.test(t) || !/^[1-9]\d{0,17}$/.test(s)) throw invalid;
  if (Number.isNaN(Date.parse(t))) throw invalid;
  return { t, s };
}

async function selectPage(tx: TxSql, tenantId: string, chatId: string, cursor: Cursor | null, limit: number) {
  // One row more than asked tells whether an older page exists. The row-value comparison matches the
  // (tenant_id, chat_id, sent_at DESC, seq DESC) index, so each page is an index range scan. The text copy
  // of seq is aliased seq_text: an output column named seq would make ORDER BY sort text ('9' > '10').
  const after = cursor === null ? tx`` : tx`AND (sent_at, seq) < (${cursor.t}::timestamptz, ${cursor.s}::bigint)`;
  const rows = await tx`
    SELECT wa_message_id, chat_id, sender, from_me, body, type, has_media, ack, sent_at, seq::text AS seq_text,
           to_char(sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS sent_exact
    FROM messages
    WHERE tenant_id = ${tenantId} AND chat_id = ${chatId} ${after}
    ORDER BY sent_at DESC, seq DESC
    LIMIT ${limit + 1}`;
  return parseRows(PageRow, rows, 'message');
}

/** The page's cursor, after checking the limit: ValidationError for either out of bounds. */
function pageCursor(opts: { before?: string; limit: number }): Cursor | null {
  if (!Number.isInteger(opts.limit) || opts.limit < 1 || opts.limit > MAX_PAGE_LIMIT) {
    throw new ValidationError(`limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  }
  return opts.before === undefined ? null : decodeCursor(opts.before);
}

/** `selectPage`'s rows (one more than the limit when an older page exists) as the page. */
function toPage(rows: Awaited<ReturnType<typeof selectPage>>, limit: number): MessagePage {
  const pageRows = rows.slice(0, limit);
  const last = pageRows[pageRows.length - 1];
  const nextCursor = rows.length > limit && last ? encodeCursor({ t: last.sent_exact, s: last.seq_text }) : null;
  return { messages: pageRows.map(toMessage), nextCursor };
}

/**
 * `onEvents` hears the outbox events of each committed write (see types.ts EventListener).
 * `chatListsChanged`, when given, announces an ingest batch's chat list change after its commit instead
 * of the chats trigger inside it (migration 006, chat-list-notifier.ts).
 */
export function createMessageRepo(sql: Sql, onEvents?: EventListener, chatListsChanged?: (tenantId: string) => void): MessageRepo {
  // The chats trigger stays silent for a batch when `chatListsChanged` announces the change after the commit.
  const batchSettings = chatListsChanged === undefined ? {} : DEFERRED_CHAT_LIST_NOTIFY;
  const groupWriter = createGroupWriter(sql, batchSettings);
  return {
    async page(tenantId, chatId, opts) {
      const cursor = pageCursor(opts);
      return toPage(await withTenant(sql, tenantId, (tx) => selectPage(tx, tenantId, chatId, cursor, opts.limit)), opts.limit);
    },

    async pageWithAccess(tenantId, chatId, userId, opts) {
      const cursor = pageCursor(opts);
      return withTenant(sql, tenantId, async (tx) => {
        // Both sent before either answers: postgres.js pipelines them on the transaction's connection.
        const [access, rows] = await Promise.all([readChatAccess(tx, tenantId, chatId, userId), selectPage(tx, tenantId, chatId, cursor, opts.limit)]);
        return { access, page: toPage(rows, opts.limit) };
      });
    },

    async find(tenantId, waMessageId) {
      return withTenant(sql, tenantId, async (tx) => {
        const rows = await tx`
          SELECT wa_message_id, chat_id, sender, from_me, body, type, has_media, ack, sent_at
          FROM messages WHERE tenant_id = ${tenantId} AND wa_message_id = ${waMessageId}`;
        const row = parseRow(MessageRow, rows, 'message');
        return row === null ? null : toMessage(row);
      });
    },

    /**
     * Idempotent on (tenant, id): returns only the messages that were new, in input order (a message
     * repeated within the batch counts once, first wins). Creates missing chats, moves each chat's last
     * message forward and adds new inbound (not fromMe) messages to its unread count.
     */
    async insertMany(tenantId, messages, fence, media = []) {
      if (messages.length === 0) return [];
      const firstById = new Map<string, Message>();
      // Text from the network may hold U+0000, which PostgreSQL text and jsonb cannot: one such message
      // would fail its whole batch again and again, so it is stored (and published) with U+FFFD instead.
      for (const m of messages) if (!firstById.has(m.id)) firstById.set(m.id, { ...m, body: storableText(m.body), from: storableText(m.from) });
      const batch = [...firstById.values()];
      // Without media the batch joins other tenants' in one transaction (group-commit.ts). With media, the
      // bytes go in the batch's own transaction, after the messages they belong to.
      const { stored, events } =
        media.length === 0
          ? await groupWriter.write(tenantId, batch, fence)
          : await withTenant(
              sql,
              tenantId,
              async (tx) => {
                const written = await writeMessageBatch(tx, tenantId, batch, fence);
                const fresh = new Set(written.stored.map((m) => m.id));
                for (const file of media) if (fresh.has(file.messageId)) await writeMedia(tx, tenantId, file);
                return written;
              },
              batchSettings,
            );
      if (stored.length > 0) chatListsChanged?.(tenantId);
      notifyEvents(onEvents, tenantId, events);
      return stored;
    },

    async updateAcks(tenantId, acks, fence) {
      if (acks.length === 0) return [];
      // Last write per id wins within the batch; GREATEST keeps acks monotonic across batches.
      const latest = new Map<string, number>();
      for (const a of acks) latest.set(a.id, Math.max(latest.get(a.id) ?? -1, a.ack));
      const ids = [...latest.keys()];
      const levels = ids.map((id) => latest.get(id) ?? 0);
      const result = await withTenant(sql, tenantId, async (tx) => {
        await checkFence(tx, tenantId, fence);
        const rows = await tx`
          UPDATE messages m SET ack = u.ack
          FROM unnest(${ids}::text[], ${levels}::smallint[]) AS u(id, ack)
          WHERE m.tenant_id = ${tenantId} AND m.wa_message_id = u.id AND m.ack < u.ack
          RETURNING m.wa_message_id, m.chat_id, m.ack`;
        const changed = parseRows(AckRow, rows, 'ack').map((r) => ({ id: r.wa_message_id, chatId: r.chat_id, ack: r.ack }));
        const events = await appendEvents(tx, tenantId, changed.map((c): NewEvent => ({ name: 'message_ack', chatId: c.chatId, payload: c })));
        return { changed, events };
      });
      notifyEvents(onEvents, tenantId, result.events);
      return result.changed;
    },
  };
}
