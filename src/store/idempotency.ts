import { Type } from '@sinclair/typebox';
import type { Sql } from './db.js';
import type { IdempotencyRepo } from './types.js';
import { parseRow, withTenant } from './with-tenant.js';

const Row = Type.Object({ request_hash: Type.String(), response: Type.Unknown() });

export function createIdempotencyRepo(sql: Sql): IdempotencyRepo {
  return {
    async begin(tenantId, key, requestHash) {
      return withTenant(sql, tenantId, async (tx) => {
        // The insert decides the race: of two requests with one key, exactly one gets the row.
        const claimed = await tx`
          INSERT INTO idempotency_keys (tenant_id, key, request_hash) VALUES (${tenantId}, ${key}, ${requestHash})
          ON CONFLICT (tenant_id, key) DO NOTHING RETURNING key`;
        if (claimed.length === 1) return { state: 'new' as const };
        const rows = await tx`
          SELECT request_hash, response FROM idempotency_keys WHERE tenant_id = ${tenantId} AND key = ${key}`;
        const row = parseRow(Row, rows, 'idempotency key');
        if (row === null) return { state: 'pending' as const }; // released between the two statements
        if (row.request_hash !== requestHash) return { state: 'mismatch' as const };
        if (row.response === null) return { state: 'pending' as const };
        return { state: 'done' as const, response: row.response };
      });
    },

    async complete(tenantId, key, response) {
      await withTenant(sql, tenantId, async (tx) => {
        await tx`
          UPDATE idempotency_keys SET response = ${JSON.stringify(response)}::text::jsonb
          WHERE tenant_id = ${tenantId} AND key = ${key}`;
      });
    },

    async release(tenantId, key) {
      await withTenant(sql, tenantId, async (tx) => {
        await tx`DELETE FROM idempotency_keys WHERE tenant_id = ${tenantId} AND key = ${key} AND response IS NULL`;
      });
    },
  };
}
