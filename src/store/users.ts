import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import { Role, type User } from '../domain/types.js';
import type { Sql, TxSql } from './db.js';
import { constraintName, sqlState } from './db.js';
import type { NewUser, UserRecord, UserRepo } from './types.js';
import { asOwner, iso, isUuid, parseRow, parseRows, withTenant } from './with-tenant.js';

export const UserRow = Type.Object({
  id: Type.String(),
  tenant_id: Type.String(),
  role: Role,
  name: Type.String(),
  email: Type.String(),
  disabled_at: Type.Union([Type.Date(), Type.Null()]),
  created_at: Type.Date(),
});
const UserRecordRow = Type.Composite([UserRow, Type.Object({ password_hash: Type.String() })]);

function toUser(row: Static<typeof UserRow>): User {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    email: row.email,
    role: row.role,
    disabled: row.disabled_at !== null,
    createdAt: iso(row.created_at),
  };
}

/**
 * Inserts a user inside the caller's tenant transaction. A taken email (case-insensitive, service-wide)
 * -> ConflictError; an unknown tenant -> NotFoundError.
 */
export async function insertUser(tx: TxSql, input: NewUser): Promise<User> {
  try {
    const rows = await tx`
      INSERT INTO users (id, tenant_id, role, name, email, password_hash)
      VALUES (${randomUUID()}, ${input.tenantId}, ${input.role}, ${input.name}, ${input.email}, ${input.passwordHash})
      RETURNING id, tenant_id, role, name, email, disabled_at, created_at`;
    const row = parseRow(UserRow, rows, 'user');
    if (row === null) throw new Error('INSERT ... RETURNING returned no row');
    return toUser(row);
  } catch (err) {
    if (sqlState(err) === '23505' && constraintName(err) === 'users_email_key') {
      throw new ConflictError('Email already registered');
    }
    if (sqlState(err) === '23503') throw new NotFoundError('Tenant');
    throw err;
  }
}

/** `changed` hears a committed disable (its chat permissions are gone: the chat-list cache forgets the tenant). */
export function createUserRepo(sql: Sql, changed: (tenantId: string) => void = () => undefined): UserRepo {
  return {
    async findByEmailForLogin(email) {
      // Cross-tenant by design (login knows only the email); the unique index on lower(email) serves it.
      return asOwner(async () => {
        const rows = await sql`
          SELECT id, tenant_id, role, name, email, password_hash, disabled_at, created_at
          FROM users WHERE lower(email) = lower(${email})`;
        const row = parseRow(UserRecordRow, rows, 'user');
        if (row === null) return null;
        const record: UserRecord = { ...toUser(row), passwordHash: row.password_hash };
        return record;
      });
    },

    async findById(tenantId, userId) {
      if (!isUuid(userId)) return null;
      return withTenant(sql, tenantId, async (tx) => {
        const rows = await tx`
          SELECT id, tenant_id, role, name, email, disabled_at, created_at
          FROM users WHERE tenant_id = ${tenantId} AND id = ${userId}`;
        const row = parseRow(UserRow, rows, 'user');
        return row === null ? null : toUser(row);
      });
    },

    async createEmployee(input) {
      return withTenant(sql, input.tenantId, (tx) => insertUser(tx, { ...input, role: 'employee' }));
    },

    async listEmployees(tenantId) {
      return withTenant(sql, tenantId, async (tx) => {
        const rows = await tx`
          SELECT id, tenant_id, role, name, email, disabled_at, created_at
          FROM users WHERE tenant_id = ${tenantId} AND role = 'employee'
          ORDER BY created_at, id`;
        return parseRows(UserRow, rows, 'user').map(toUser);
      });
    },

    async disableEmployee(tenantId, userId) {
      if (!isUuid(userId)) return false;
      const disabled = await withTenant(sql, tenantId, async (tx) => {
        const rows = await tx`
          UPDATE users SET disabled_at = COALESCE(disabled_at, now())
          WHERE tenant_id = ${tenantId} AND id = ${userId} AND role = 'employee'
          RETURNING id`;
        if (rows.length === 0) return false;
        await tx`
          UPDATE refresh_tokens SET revoked_at = now()
          WHERE tenant_id = ${tenantId} AND user_id = ${userId} AND revoked_at IS NULL`;
        await tx`DELETE FROM chat_permissions WHERE tenant_id = ${tenantId} AND user_id = ${userId}`;
        return true;
      });
      if (disabled) changed(tenantId);
      return disabled;
    },
  };
}
