import { Type, type Static } from '@sinclair/typebox';
import { NotFoundError, StaleEpochError, ValidationError } from '../domain/errors.js';
import { DesiredState, SessionStatus } from '../domain/types.js';
import type { Sql, TxSql } from './db.js';
import { sqlState } from './db.js';
import { appendEvents, notifyEvents } from './outbox.js';
import type { EventListener, SessionRecord, SessionRepo, StoredEvent } from './types.js';
import { asOwner, iso, parseRow, parseRows, withTenant } from './with-tenant.js';

const CredentialsRow = Type.Object({ credentials: Type.Union([Type.Uint8Array(), Type.Null()]) });
const TenantIdRow = Type.Object({ tenant_id: Type.String() });

const SessionRow = Type.Object({
  tenant_id: Type.String(),
  desired_state: DesiredState,
  status: SessionStatus,
  status_reason: Type.Union([Type.String(), Type.Null()]),
  owner_node: Type.Union([Type.String(), Type.Null()]),
  lease_epoch: Type.String({ pattern: '^\\d+$' }),
  updated_at: Type.Date(),
});

function toRecord(row: Static<typeof SessionRow>): SessionRecord {
  return {
    tenantId: row.tenant_id,
    desiredState: row.desired_state,
    status: row.status,
    statusReason: row.status_reason,
    ownerNode: row.owner_node,
    leaseEpoch: Number(row.lease_epoch),
    updatedAt: iso(row.updated_at),
  };
}

function assertEpoch(epoch: number): void {
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new ValidationError('lease epoch must be a non-negative integer');
}

/** An insert into sessions naming a tenant that does not exist. */
function translateFenced(err: unknown): unknown {
  return sqlState(err) === '23503' ? new NotFoundError('Tenant') : err;
}

/** `onEvents` hears the `session_status` event of each committed status change (see types.ts EventListener). */
export function createSessionRepo(sql: Sql, onEvents?: EventListener): SessionRepo {
  /**
   * Every fenced write is one upsert whose DO UPDATE has `WHERE stored epoch <= given epoch`: a writer
   * holding an older lease matches nothing and gets StaleEpochError; a newer epoch is remembered, which
   * fences out every older holder from then on (the storage keeps the highest token it has seen).
   */
  async function fenced(tenantId: string, epoch: number, run: (tx: TxSql) => Promise<readonly unknown[]>) {
    assertEpoch(epoch);
    let rows: readonly unknown[];
    try {
      rows = await withTenant(sql, tenantId, run);
    } catch (err) {
      throw translateFenced(err);
    }
    if (rows.length === 0) throw new StaleEpochError(tenantId, epoch);
  }

  return {
    async get(tenantId) {
      return withTenant(sql, tenantId, async (tx) => {
        const rows = await tx`
          SELECT tenant_id, desired_state, status, status_reason, owner_node, lease_epoch, updated_at
          FROM sessions WHERE tenant_id = ${tenantId}`;
        const row = parseRow(SessionRow, rows, 'session');
        return row === null ? null : toRecord(row);
      });
    },

    async setDesired(tenantId, desired) {
      try {
        return await withTenant(sql, tenantId, async (tx) => {
          const rows = await tx`
            INSERT INTO sessions (tenant_id, desired_state) VALUES (${tenantId}, ${desired})
            ON CONFLICT (tenant_id) DO UPDATE SET desired_state = EXCLUDED.desired_state, updated_at = now()
            RETURNING tenant_id, desired_state, status, status_reason, owner_node, lease_epoch, updated_at`;
          const row = parseRow(SessionRow, rows, 'session');
          if (row === null) throw new Error('upsert returned no row');
          return toRecord(row);
        });
      } catch (err) {
        throw translateFenced(err);
      }
    },

    async setStatus(tenantId, epoch, status, reason, opts) {
      let events: StoredEvent[] = [];
      const desired = opts?.desired ?? null;
      await fenced(tenantId, epoch, async (tx) => {
        const rows = await tx`
          INSERT INTO sessions (tenant_id, status, status_reason, lease_epoch, desired_state)
          VALUES (${tenantId}, ${status}, ${reason}, ${epoch}, COALESCE(${desired}::text, 'stopped'))
          ON CONFLICT (tenant_id) DO UPDATE SET
            status = EXCLUDED.status, status_reason = EXCLUDED.status_reason,
            desired_state = COALESCE(${desired}::text, sessions.desired_state),
            lease_epoch = EXCLUDED.lease_epoch, updated_at = now()
          WHERE sessions.tenant_id = ${tenantId} AND sessions.lease_epoch <= EXCLUDED.lease_epoch
          RETURNING 1`;
        // Outbox in the same transaction, only when the fenced write happened.
        if (rows.length > 0) events = await appendEvents(tx, tenantId, [{ name: 'session_status', chatId: null, payload: { status, reason } }]);
        return rows;
      });
      notifyEvents(onEvents, tenantId, events);
    },

    /** Refused with StaleEpochError when a newer epoch is already recorded (the epoch only moves forward). */
    async claim(tenantId, epoch, ownerNode) {
      await fenced(tenantId, epoch, (tx) => tx`
        INSERT INTO sessions (tenant_id, owner_node, lease_epoch) VALUES (${tenantId}, ${ownerNode}, ${epoch})
        ON CONFLICT (tenant_id) DO UPDATE SET
          owner_node = EXCLUDED.owner_node, lease_epoch = EXCLUDED.lease_epoch, updated_at = now()
        WHERE sessions.tenant_id = ${tenantId} AND sessions.lease_epoch <= EXCLUDED.lease_epoch
        RETURNING 1`);
    },

    async saveCredentials(tenantId, epoch, credentials) {
      const bytes = credentials === null ? null : Buffer.from(credentials.buffer, credentials.byteOffset, credentials.byteLength);
      await fenced(tenantId, epoch, (tx) => tx`
        INSERT INTO sessions (tenant_id, credentials, lease_epoch) VALUES (${tenantId}, ${bytes}, ${epoch})
        ON CONFLICT (tenant_id) DO UPDATE SET
          credentials = EXCLUDED.credentials, lease_epoch = EXCLUDED.lease_epoch, updated_at = now()
        WHERE sessions.tenant_id = ${tenantId} AND sessions.lease_epoch <= EXCLUDED.lease_epoch
        RETURNING 1`);
    },

    async loadCredentials(tenantId) {
      return withTenant(sql, tenantId, async (tx) => {
        const rows = await tx`SELECT credentials FROM sessions WHERE tenant_id = ${tenantId}`;
        const row = parseRow(CredentialsRow, rows, 'session');
        return row?.credentials ?? null;
      });
    },

    async listActive() {
      // Cross-tenant by design: a node restoring sessions does not know the tenants yet. Ids only.
      return asOwner(async () => {
        const rows = await sql`SELECT tenant_id FROM sessions WHERE desired_state = 'active' ORDER BY tenant_id`;
        return parseRows(TenantIdRow, rows, 'session').map((r) => r.tenant_id);
      });
    },
  };
}
