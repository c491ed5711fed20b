import { Type, type Static } from '@sinclair/typebox';
import type { Chat } from '../domain/types.js';
import { storableText, type Sql, type TxSql } from './db.js';
import { appendEvents, notifyEvents } from './outbox.js';
import type { ChatAccess, ChatRepo, EventListener, NewEvent } from './types.js';
import type { ChatListCache } from './chat-list-cache.js';
import { isoOrNull, isUuid, parseRow, parseRows, withTenant } from './with-tenant.js';

const AccessRow = Type.Object({ exists: Type.Boolean(), assigned: Type.Boolean() });

const ChatRow = Type.Object({
  id: Type.String(),
  name: Type.String(),
  is_group: Type.Boolean(),
  unread_count: Type.Integer({ minimum: 0 }),
  last_message_at: Type.Union([Type.Date(), Type.Null()]),
  last_message_preview: Type.Union([Type.String(), Type.Null()]),
});

function toChat(row: Static<typeof ChatRow>): Chat {
  return {
    id: row.id,
    name: row.name,
    isGroup: row.is_group,
    unreadCount: row.unread_count,
    lastMessageAt: isoOrNull(row.last_message_at),
    lastMessagePreview: row.last_message_preview,
  };
}

/** The chats named, as they are now in `tx` (for their `chat_updated` events). */
export async function chatsByIds(tx: TxSql, tenantId: string, ids: string[]): Promise<Chat[]> {
  const rows = await tx`
    SELECT id, name, is_group, unread_count, last_message_at, last_message_preview
    FROM chats WHERE tenant_id = ${tenantId} AND id = ANY(${ids}::text[])
    ORDER BY id`;
  return parseRows(ChatRow, rows, 'chat').map(toChat);
}

/**
 * What the access rule needs, read in `tx` (which acts for `tenantId`): whether the chat exists, and
 * whether it is assigned to `userId` (an employee; null for an admin: never assigned).
 */
export async function readChatAccess(tx: TxSql, tenantId: string, chatId: string, userId: string | null): Promise<ChatAccess> {
  // A user id that is not a UUID names nobody: never assigned (and no 22P02 from the uuid column).
  const user = userId !== null && isUuid(userId) ? userId : null;
  const rows = await tx`
    SELECT
      EXISTS (SELECT 1 FROM chats WHERE tenant_id = ${tenantId} AND id = ${chatId}) AS exists,
      (${user}::uuid IS NOT NULL AND EXISTS (
        SELECT 1 FROM chat_permissions WHERE tenant_id = ${tenantId} AND chat_id = ${chatId} AND user_id = ${user}::uuid
      )) AS assigned`;
  const row = parseRow(AccessRow, rows, 'chat access');
  return { exists: row?.exists ?? false, assigned: row?.assigned ?? false };
}

/** One `chat_updated` event per chat, carrying the chat as it is after the write. */
export function chatUpdatedEvents(chats: Chat[]): NewEvent[] {
  return chats.map((chat) => ({ name: 'chat_updated', chatId: chat.id, payload: chat }));
}

/**
 * `onEvents` hears the outbox events of each committed write (see types.ts EventListener). With `cache`,
 * the two list reads answer from memory until the database notifies a change (chat-list-cache.ts); the
 * lists they return are then shared and frozen.
 */
export function createChatRepo(sql: Sql, onEvents?: EventListener, cache?: ChatListCache): ChatRepo {
  return {
    async listAll(tenantId) {
      const read = () =>
        withTenant(sql, tenantId, async (tx) => {
          const rows = await tx`
            SELECT id, name, is_group, unread_count, last_message_at, last_message_preview
            FROM chats WHERE tenant_id = ${tenantId}
            ORDER BY last_message_at DESC NULLS LAST, id`;
          return parseRows(ChatRow, rows, 'chat').map(toChat);
        });
      return cache === undefined ? read() : cache.get(tenantId, '*', read);
    },

    async listForUser(tenantId, userId) {
      if (!isUuid(userId)) return [];
      const read = () =>
        withTenant(sql, tenantId, async (tx) => {
          const rows = await tx`
            SELECT c.id, c.name, c.is_group, c.unread_count, c.last_message_at, c.last_message_preview
            FROM chats c
            JOIN chat_permissions p ON p.tenant_id = c.tenant_id AND p.chat_id = c.id
            WHERE c.tenant_id = ${tenantId} AND p.tenant_id = ${tenantId} AND p.user_id = ${userId}
            ORDER BY c.last_message_at DESC NULLS LAST, c.id`;
          return parseRows(ChatRow, rows, 'chat').map(toChat);
        });
      return cache === undefined ? read() : cache.get(tenantId, userId, read);
    },

    async find(tenantId, chatId) {
      return withTenant(sql, tenantId, async (tx) => {
        const rows = await tx`
          SELECT id, name, is_group, unread_count, last_message_at, last_message_preview
          FROM chats WHERE tenant_id = ${tenantId} AND id = ${chatId}`;
        const row = parseRow(ChatRow, rows, 'chat');
        return row === null ? null : toChat(row);
      });
    },

    async access(tenantId, chatId, userId) {
      return withTenant(sql, tenantId, (tx) => readChatAccess(tx, tenantId, chatId, userId));
    },

    async upsertMany(tenantId, chats) {
      if (chats.length === 0) return;
      // One statement for the batch: jsonb_to_recordset turns the array into rows (PG 9.4+, so PG15 and
      // PGlite alike). A chat listed twice keeps its last entry; ON CONFLICT DO UPDATE cannot touch a row twice.
      // Names and previews come from the network: U+0000 would fail the statement (see storableText).
      const byId = new Map(chats.map((c) => [c.id, { ...c, name: storableText(c.name), lastMessagePreview: c.lastMessagePreview === null ? null : storableText(c.lastMessagePreview) }]));
      const json = JSON.stringify([...byId.values()]);
      const events = await withTenant(sql, tenantId, async (tx) => {
        await tx`
          INSERT INTO chats (tenant_id, id, name, is_group, unread_count, last_message_at, last_message_preview)
          SELECT ${tenantId}, r.id, r.name, r."isGroup", r."unreadCount", r."lastMessageAt", r."lastMessagePreview"
          FROM jsonb_to_recordset(${json}::text::jsonb) AS r(
            id text, name text, "isGroup" boolean, "unreadCount" integer,
            "lastMessageAt" timestamptz, "lastMessagePreview" text)
          ON CONFLICT (tenant_id, id) DO UPDATE SET
            name = EXCLUDED.name,
            is_group = EXCLUDED.is_group,
            unread_count = EXCLUDED.unread_count,
            last_message_at = EXCLUDED.last_message_at,
            last_message_preview = EXCLUDED.last_message_preview,
            updated_at = now()`;
        return appendEvents(tx, tenantId, chatUpdatedEvents(await chatsByIds(tx, tenantId, [...byId.keys()])));
      });
      notifyEvents(onEvents, tenantId, events);
    },
  };
}
