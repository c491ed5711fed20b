import { Type, type Static } from '@sinclair/typebox';
import type { Sql, TxSql } from './db.js';
import type { RefreshTokenRecord, RefreshTokenRepo } from './types.js';
import { asOwner, isUuid, parseRow, withTenant } from './with-tenant.js';

const TokenRow = Type.Object({
  id: Type.String(),
  tenant_id: Type.String(),
  user_id: Type.String(),
  family_id: Type.String(),
  expires_at: Type.Date(),
  revoked_at: Type.Union([Type.Date(), Type.Null()]),
  replaced_by: Type.Union([Type.String(), Type.Null()]),
});

function toRecord(row: Static<typeof TokenRow>): RefreshTokenRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    userId: row.user_id,
    familyId: row.family_id,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    replacedBy: row.replaced_by,
  };
}

interface NewToken {
  id: string;
  tenantId: string;
  userId: string;
  familyId: string;
  tokenHash: string;
  expiresAt: Date;
}

async function insertToken(tx: TxSql, t: NewToken): Promise<void> {
  await tx`
    INSERT INTO refresh_tokens (id, tenant_id, user_id, family_id, token_hash, expires_at)
    VALUES (${t.id}, ${t.tenantId}, ${t.userId}, ${t.familyId}, ${t.tokenHash}, ${t.expiresAt})`;
}

export function createRefreshTokenRepo(sql: Sql): RefreshTokenRepo {
  return {
    async insert(input) {
      await withTenant(sql, input.tenantId, (tx) => insertToken(tx, input));
    },

    async findByHash(tokenHash) {
      // Cross-tenant by design: the token itself is the credential. The hash column is never returned.
      return asOwner(async () => {
        const rows = await sql`
          SELECT id, tenant_id, user_id, family_id, expires_at, revoked_at, replaced_by
          FROM refresh_tokens WHERE token_hash = ${tokenHash}`;
        const row = parseRow(TokenRow, rows, 'refresh token');
        return row === null ? null : toRecord(row);
      });
    },

    async rotate(oldId, next) {
      if (!isUuid(oldId)) return false;
      return withTenant(sql, next.tenantId, async (tx) => {
        // The conditional UPDATE is the atomic step: of two concurrent rotations of one token, the second
        // waits on the row lock, re-reads revoked_at after the first commits, matches nothing, and loses.
        const revoked = await tx`
          UPDATE refresh_tokens SET revoked_at = now(), replaced_by = ${next.id}
          WHERE id = ${oldId} AND tenant_id = ${next.tenantId} AND user_id = ${next.userId}
            AND revoked_at IS NULL
          RETURNING id`;
        if (revoked.length === 0) return false;
        await insertToken(tx, next);
        return true;
      });
    },

    async revokeFamily(tenantId, familyId) {
      if (!isUuid(familyId)) return;
      await withTenant(sql, tenantId, async (tx) => {
        await tx`
          UPDATE refresh_tokens SET revoked_at = now()
          WHERE tenant_id = ${tenantId} AND family_id = ${familyId} AND revoked_at IS NULL`;
      });
    },

    async revokeAllForUser(tenantId, userId) {
      if (!isUuid(userId)) return;
      await withTenant(sql, tenantId, async (tx) => {
        await tx`
          UPDATE refresh_tokens SET revoked_at = now()
          WHERE tenant_id = ${tenantId} AND user_id = ${userId} AND revoked_at IS NULL`;
      });
    },
  };
}
