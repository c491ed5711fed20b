import { Type } from '@sinclair/typebox';
import { StaleEpochError, ValidationError } from '../domain/errors.js';
import type { TxSql } from './db.js';
import type { Fence } from './types.js';
import { parseRow } from './with-tenant.js';

const EpochRow = Type.Object({ lease_epoch: Type.String({ pattern: '^\\d+$' }) });

/** A writer's epoch must be a non-negative integer: anything else is a bug of the caller (ValidationError). */
export function assertEpoch(fence: Fence | undefined): void {
  if (fence !== undefined && (!Number.isSafeInteger(fence.epoch) || fence.epoch < 0)) throw new ValidationError('lease epoch must be a non-negative integer');
}

/**
 * The fencing check of a session write, inside the write's own transaction: refused (StaleEpochError)
 * when the session row records a newer lease epoch than the writer's. The row is read FOR SHARE, so a
 * claim of a newer epoch (an UPDATE of that row) waits for this transaction to commit, and no write of
 * an older holder can commit after a newer claim did. No session row: no lease was ever recorded.
 */
export async function checkFence(tx: TxSql, tenantId: string, fence: Fence | undefined): Promise<void> {
  assertEpoch(fence);
  if (fence === undefined) return;
  const rows = await tx`SELECT lease_epoch FROM sessions WHERE tenant_id = ${tenantId} FOR SHARE`;
  const row = parseRow(EpochRow, rows, 'session');
  if (row !== null && Number(row.lease_epoch) > fence.epoch) throw new StaleEpochError(tenantId, fence.epoch);
}
