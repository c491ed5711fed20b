import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { AuthStore } from '../domain/auth-store.js';
import { NotFoundError, StaleEpochError, ValidationError } from '../domain/errors.js';
import type { Sql, TxSql } from './db.js';
import { sqlState } from './db.js';
import { parseRow, withTenant } from './with-tenant.js';

/**
 * The PostgreSQL side of whatsapp-web.js' RemoteAuth (table `remote_auth_sessions`, migration 003): one
 * row per (tenant, session) holding the zipped browser profile as `bytea`.
 *
 * It runs in the parent (supervisor side): actors never import the store. The session actor's engine
 * reaches it through the `AuthStore` port (src/domain/auth-store.ts): see docs/wwebjs.md, "Where the
 * session lives".
 *
 * Fencing: an instance is made for one lease epoch. `save` and `delete` first lock the tenant's
 * `sessions` row (FOR SHARE, so a concurrent claim waits for this transaction) and refuse with
 * StaleEpochError when its `lease_epoch` is newer than ours. A tenant without a `sessions` row has never
 * been claimed: lease epoch 0, so any writer passes. The row's own `lease_epoch` additionally keeps an
 * older writer from overwriting a blob a newer one wrote.
 */

/** Largest zip accepted (a WhatsApp Web profile's IndexedDB + Local Storage is a few MB to a few tens). */
export const REMOTE_AUTH_MAX_BYTES = 256 * 1024 * 1024;

const SESSION_NAME = /^[-_A-Za-z0-9]{1,128}$/;

function assertSession(session: string): void {
  if (!SESSION_NAME.test(session)) throw new ValidationError('Invalid RemoteAuth session name');
}

function assertEpoch(epoch: number): void {
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new ValidationError('lease epoch must be a non-negative integer');
}

const EpochRow = Type.Object({ lease_epoch: Type.String({ pattern: '^\\d+$' }) });
const DataRow = Type.Object({ data: Type.Uint8Array() });

/** Throws StaleEpochError when the tenant's lease moved past `epoch`. Locks the sessions row until commit. */
async function checkFence(tx: TxSql, tenantId: string, epoch: number): Promise<void> {
  const rows = await tx`SELECT lease_epoch FROM sessions WHERE tenant_id = ${tenantId} FOR SHARE`;
  const row = parseRow(EpochRow, rows, 'sessions');
  if (row !== null && Number(row.lease_epoch) > epoch) throw new StaleEpochError(tenantId, epoch);
}

export function createRemoteAuthStore(sql: Sql, tenantId: string, epoch: number): AuthStore {
  assertEpoch(epoch);
  return {
    async sessionExists(session) {
      assertSession(session);
      return withTenant(sql, tenantId, async (tx) => {
        const rows = await tx`SELECT 1 FROM remote_auth_sessions WHERE tenant_id = ${tenantId} AND session = ${session}`;
        return rows.length > 0;
      });
    },

    async extract(session) {
      assertSession(session);
      return withTenant(sql, tenantId, async (tx) => {
        const rows = await tx`SELECT data FROM remote_auth_sessions WHERE tenant_id = ${tenantId} AND session = ${session}`;
        return parseRow(DataRow, rows, 'remote_auth_sessions')?.data ?? null;
      });
    },

    async save(session, zip) {
      assertSession(session);
      if (zip.byteLength > REMOTE_AUTH_MAX_BYTES) throw new ValidationError(`RemoteAuth zip larger than ${REMOTE_AUTH_MAX_BYTES} bytes`);
      const data = Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength);
      const sha256 = createHash('sha256').update(data).digest('hex');
      await withTenant(sql, tenantId, async (tx) => {
        await checkFence(tx, tenantId, epoch);
        const rows = await tx`
          INSERT INTO remote_auth_sessions (tenant_id, session, data, size_bytes, sha256, lease_epoch)
          VALUES (${tenantId}, ${session}, ${data}, ${data.byteLength}, ${sha256}, ${epoch})
          ON CONFLICT (tenant_id, session) DO UPDATE SET
            data = EXCLUDED.data, size_bytes = EXCLUDED.size_bytes, sha256 = EXCLUDED.sha256,
            lease_epoch = EXCLUDED.lease_epoch, updated_at = now()
          WHERE remote_auth_sessions.lease_epoch <= EXCLUDED.lease_epoch
          RETURNING 1`;
        if (rows.length === 0) throw new StaleEpochError(tenantId, epoch);
      }).catch((err: unknown) => {
        // The only foreign key: the tenant must exist.
        throw sqlState(err) === '23503' ? new NotFoundError('Tenant') : err;
      });
    },

    async delete(session) {
      assertSession(session);
      await withTenant(sql, tenantId, async (tx) => {
        await checkFence(tx, tenantId, epoch);
        await tx`DELETE FROM remote_auth_sessions WHERE tenant_id = ${tenantId} AND session = ${session}`;
      });
    },
  };
}
