import { Type, type Static } from '@sinclair/typebox';
import { NotFoundError } from '../domain/errors.js';
import type { Sql } from './db.js';
import { sqlState } from './db.js';
import type { PermissionRepo } from './types.js';
import { iso, isUuid, parseRows, withTenant } from './with-tenant.js';

const UserIdRow = Type.Object({ user_id: Type.String() });

const PermissionRow = Type.Object({ user_id: Type.String(), chat_id: Type.String(), granted_at: Type.Date() });

function toPermission(row: Static<typeof PermissionRow>) {
  return { employeeId: row.user_id, chatId: row.chat_id, grantedAt: iso(row.granted_at) };
}

/** `changed` hears every committed assign and revoke (the chat-list cache of this node forgets the tenant). */
export function createPermissionRepo(sql: Sql, changed: (tenantId: string) => void = () => undefined): PermissionRepo {
  return {
    /**
     * Idempotent. Only an active employee of the tenant can be assigned: an unknown id, an admin or a
     * disabled employee -> NotFoundError('Employee'); an unknown chat -> NotFoundError('Chat').
     */
    async assign(tenantId, userId, chatId) {
      if (!isUuid(userId)) throw new NotFoundError('Employee');
      try {
        await withTenant(sql, tenantId, async (tx) => {
          const employee = await tx`
            SELECT 1 FROM users
            WHERE tenant_id = ${tenantId} AND id = ${userId} AND role = 'employee' AND disabled_at IS NULL
            FOR SHARE`;
          if (employee.length === 0) throw new NotFoundError('Employee');
          const chat = await tx`SELECT 1 FROM chats WHERE tenant_id = ${tenantId} AND id = ${chatId}`;
          if (chat.length === 0) throw new NotFoundError('Chat');
          await tx`
            INSERT INTO chat_permissions (tenant_id, user_id, chat_id) VALUES (${tenantId}, ${userId}, ${chatId})
            ON CONFLICT (tenant_id, user_id, chat_id) DO NOTHING`;
        });
        changed(tenantId);
      } catch (err) {
        // A chat deleted between the check and the insert.
        if (sqlState(err) === '23503') throw new NotFoundError('Chat');
        throw err;
      }
    },

    async revoke(tenantId, userId, chatId) {
      if (!isUuid(userId)) return false;
      const removed = await withTenant(sql, tenantId, async (tx) => {
        const rows = await tx`
          DELETE FROM chat_permissions
          WHERE tenant_id = ${tenantId} AND user_id = ${userId} AND chat_id = ${chatId}
          RETURNING 1`;
        return rows.length > 0;
      });
      if (removed) changed(tenantId);
      return removed;
    },

    async listForUser(tenantId, userId) {
      if (!isUuid(userId)) return [];
      return withTenant(sql, tenantId, async (tx) => {
        const rows = await tx`
          SELECT user_id, chat_id, granted_at FROM chat_permissions
          WHERE tenant_id = ${tenantId} AND user_id = ${userId}
          ORDER BY chat_id`;
        return parseRows(PermissionRow, rows, 'permission').map(toPermission);
      });
    },

    async listAll(tenantId) {
      return withTenant(sql, tenantId, async (tx) => {
        const rows = await tx`
          SELECT user_id, chat_id, granted_at FROM chat_permissions
          WHERE tenant_id = ${tenantId}
          ORDER BY user_id, chat_id`;
        return parseRows(PermissionRow, rows, 'permission').map(toPermission);
      });
    },

    async has(tenantId, userId, chatId) {
      if (!isUuid(userId)) return false;
      return withTenant(sql, tenantId, async (tx) => {
        const rows = await tx`
          SELECT 1 FROM chat_permissions
          WHERE tenant_id = ${tenantId} AND user_id = ${userId} AND chat_id = ${chatId}`;
        return rows.length > 0;
      });
    },

    /** Active employees allowed on a chat (disabled users lose their permissions, this double-checks). */
    async usersForChat(tenantId, chatId) {
      return withTenant(sql, tenantId, async (tx) => {
        const rows = await tx`
          SELECT p.user_id FROM chat_permissions p
          JOIN users u ON u.tenant_id = p.tenant_id AND u.id = p.user_id
          WHERE p.tenant_id = ${tenantId} AND u.tenant_id = ${tenantId} AND p.chat_id = ${chatId}
            AND u.disabled_at IS NULL
          ORDER BY p.user_id`;
        return parseRows(UserIdRow, rows, 'permission').map((r) => r.user_id);
      });
    },
  };
}
