import type { Static, TSchema } from '@sinclair/typebox';
import { compiledCheck } from '../domain/compiled-check.js';
import { AppError, ErrorCodes, ValidationError } from '../domain/errors.js';
import type { Sql, Statement, TxSql } from './db.js';
import { translateDbError } from './db.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a canonical UUID string (ids that reach SQL `uuid` columns are checked first: no 22P02). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Transaction-local settings (name -> value) set with the tenant's, e.g. DEFERRED_CHAT_LIST_NOTIFY. */
export type TransactionSettings = Readonly<Record<string, string>>;

/**
 * Runs `fn` in a transaction as role `wa_app` with `app.tenant_id` set for that transaction only, so the
 * row-level security policies of 001_init.sql apply on top of the explicit `tenant_id` filter every query
 * carries. Both settings are transaction-local (set_config(..., true), i.e. SET LOCAL): nothing leaks to the
 * next user of the pooled connection. Never use the outer `sql` inside `fn` (embedded mode deadlocks).
 * A tenant id that is not a UUID names no tenant: ValidationError. Connection failures become
 * StoreUnavailableError. `settings`: more transaction-local settings, in the same statement.
 */
export async function withTenant<T>(sql: Sql, tenantId: string, fn: (tx: TxSql) => Promise<T>, settings: TransactionSettings = {}): Promise<T> {
  if (!isUuid(tenantId)) throw new ValidationError('Invalid tenant id');
  try {
    const result = await sql.begin(async (tx) => {
      // The setup is sent without waiting: fn's first query follows it on the same connection and runs
      // after it, so a read costs BEGIN, one round trip, COMMIT. If the setup fails the transaction is
      // aborted and fn's queries fail.
      const setup = tenantSetup(tx, tenantId, settings).execute();
      setup.catch(() => undefined); // awaited below; this only keeps an early failure from being unhandled
      const value = await fn(tx);
      await setup;
      // Boxed: postgres.js' begin() type unwraps arrays in a way that does not round-trip generics.
      return { value };
    });
    return result.value as T;
  } catch (err) {
    throw translateDbError(err);
  }
}

/**
 * The one statement that makes the rest of a transaction act for `tenantId`: `app.tenant_id` and role
 * `wa_app` (set_config('role', ..., true) is SET LOCAL ROLE), plus `settings`, all transaction-local.
 * A transaction may switch tenants with it between statements (group-commit.ts); `tenantId` must be a
 * checked UUID.
 */
export function tenantSetup(tx: TxSql, tenantId: string, settings: TransactionSettings = {}): Statement {
  const names = Object.keys(settings);
  return names.length === 0
    ? tx`SELECT set_config('app.tenant_id', ${tenantId}, true), set_config('role', 'wa_app', true)`
    : tx`SELECT set_config('app.tenant_id', ${tenantId}, true), set_config('role', 'wa_app', true),
           (SELECT count(set_config(k, v, true)) FROM unnest(${names}::text[], ${names.map((n) => settings[n] ?? '')}::text[]) AS s(k, v))`;
}

/**
 * Runs a cross-tenant system read as the owner role (no RLS). Only for the reads types.ts names as
 * cross-tenant (login by email, refresh token by hash, active sessions); keep those queries narrow.
 */
export async function asOwner<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw translateDbError(err);
  }
}

/**
 * Narrows database rows (unknown at the boundary) with a TypeBox schema, compiled once (a page of 50
 * messages is checked per request); a mismatch is a bug.
 */
export function parseRows<S extends TSchema>(schema: S, rows: readonly unknown[], what: string): Static<S>[] {
  const checker = compiledCheck(schema);
  return rows.map((row) => {
    if (!checker.Check(row)) {
      const first = checker.Errors(row).First();
      throw new AppError(ErrorCodes.INTERNAL, `unexpected ${what} row: ${first ? `${first.path} ${first.message}` : 'invalid'}`);
    }
    return row;
  });
}

/** The first row narrowed, or null. */
export function parseRow<S extends TSchema>(schema: S, rows: readonly unknown[], what: string): Static<S> | null {
  const first = rows[0];
  return first === undefined ? null : (parseRows(schema, [first], what)[0] ?? null);
}

export function iso(date: Date): string {
  return date.toISOString();
}

export function isoOrNull(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}
