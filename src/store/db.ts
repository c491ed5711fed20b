import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import postgres from 'postgres';
import type { Logger } from '../domain/log.js';
import { StoreUnavailableError, ValidationError } from '../domain/errors.js';

/** The postgres.js client every repository takes. Bigint columns arrive as strings (postgres.js default). */
export type Sql = postgres.Sql;
export type TxSql = postgres.TransactionSql;
/** One query not yet awaited (postgres.js sends it when it is awaited or `.execute()`d). */
export type Statement = postgres.PendingQuery<postgres.Row[]>;

export interface Database {
  sql: Sql;
  /** `'server'` for DATABASE_URL, `'embedded'` for PGlite behind a local socket. */
  mode: 'server' | 'embedded';
  /** Ends the pool, then (embedded) stops the socket server and PGlite. Idempotent. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL URL. Unset: embedded PGlite with its data in `<dataDir>/pglite`. */
  url?: string | undefined;
  dataDir: string;
  poolSize: number;
  /** Schema for every connection's search_path, created when missing (tests use one schema each). */
  schema?: string | undefined;
  log: Logger;
}

/** Why: a server that is down should fail a request in seconds, not after postgres.js' 30 s default. */
const CONNECT_TIMEOUT_S = 10;
/** Why: sql.end() waits for running queries; a hung query must not hang shutdown forever. */
const END_TIMEOUT_S = 5;

/**
 * Opens the database. With `url` it connects to that server. Without it starts an embedded PostgreSQL
 * (PGlite, PostgreSQL 18) and serves it on 127.0.0.1 through pglite-socket, so the same postgres.js client
 * and the same SQL run in both modes. See src/store/README.md for the embedded mode's limits.
 */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  const log = opts.log.child({ component: 'store' });
  if (opts.schema !== undefined) assertSchemaName(opts.schema);
  if (opts.url !== undefined) {
    const sql = createClient(opts.url, opts.poolSize, opts.schema, log);
    await prepareSchema(sql, opts.schema);
    let closed: Promise<void> | undefined;
    return { sql, mode: 'server', close: () => (closed ??= sql.end({ timeout: END_TIMEOUT_S })) };
  }
  return openEmbedded(opts, log);
}

async function openEmbedded(opts: OpenDatabaseOptions, log: Logger): Promise<Database> {
  // Imported lazily: PGlite's WASM module is large and a server deployment never needs it.
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const dir = join(opts.dataDir, 'pglite');
  await mkdir(dir, { recursive: true });
  const started = Date.now();
  const pglite = await PGlite.create(dir);
  // Why +2: pglite-socket refuses connections past maxConnections, and a pool reconnecting after an error
  // may briefly open one more before the server notices the old socket closed.
  const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: opts.poolSize + 2 });
  try {
    await server.start();
  } catch (err) {
    await pglite.close();
    throw err;
  }
  const port = Number(server.getServerConn().split(':').pop());
  log.info({ dir, port, ms: Date.now() - started }, 'embedded database started');
  // PGlite has a single backend session shared by every socket: see README, "embedded mode". Its
  // extended-protocol state (unnamed statements and portals) is shared too, so two sockets with queries
  // in flight corrupt each other ("portal does not exist", then a crash in postgres.js). One connection
  // serializes them; the embedded mode is for the demo and a first run, not for load.
  const sql = createClient(`postgres://postgres@127.0.0.1:${port}/postgres`, 1, opts.schema, log);
  try {
    await prepareSchema(sql, opts.schema);
    // PGlite ignores the search_path startup parameter, but it has one session for all sockets, so one
    // session-level SET reaches every connection of the pool.
    if (opts.schema !== undefined) await sql`SELECT set_config('search_path', ${opts.schema}, false)`;
  } catch (err) {
    await sql.end({ timeout: END_TIMEOUT_S });
    await server.stop();
    await pglite.close();
    throw err;
  }
  let closed: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    await sql.end({ timeout: END_TIMEOUT_S });
    await server.stop();
    await pglite.close();
    log.info({ dir }, 'embedded database stopped');
  };
  return { sql, mode: 'embedded', close: () => (closed ??= close()) };
}

function createClient(url: string, poolSize: number, schema: string | undefined, log: Logger): Sql {
  return postgres(url, {
    max: poolSize,
    connect_timeout: CONNECT_TIMEOUT_S,
    // Notices (e.g. "schema already exists, skipping") go to the debug log, not to stdout.
    onnotice: (notice) => log.debug({ notice: notice.message }, 'postgres notice'),
    ...(schema === undefined ? {} : { connection: { search_path: schema } }),
  });
}

/** The schema unqualified tables resolve to on this pool (the search_path's first). */
export async function currentSchema(sql: Sql): Promise<string> {
  try {
    const rows = await sql<{ schema: string }[]>`SELECT current_schema() AS schema`;
    const schema = rows[0]?.schema;
    if (schema === undefined) throw new Error('the database named no current schema');
    return schema;
  } catch (err) {
    throw translateDbError(err);
  }
}

async function prepareSchema(sql: Sql, schema: string | undefined): Promise<void> {
  try {
    if (schema === undefined) {
      await sql`SELECT 1`;
      return;
    }
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql(schema)}`;
  } catch (err) {
    throw translateDbError(err);
  }
}

function assertSchemaName(schema: string): void {
  // Why: the name goes into search_path as a startup parameter, where quoting rules differ from SQL.
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name: ${schema}`);
}

/** postgres.js and Node socket error codes that mean "the database cannot be reached right now". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  // SQLSTATEs: admin/crash shutdown, cannot connect now, too many connections.
  '57P01',
  '57P02',
  '57P03',
  '53300',
  // Disk full, out of memory: the server cannot take writes right now, but may again shortly (space
  // freed): retried by the ingest, 503 to clients, like an outage.
  '53100',
  '53200',
]);

/** True for errors that mean the database is unreachable rather than that a statement failed. */
export function isUnavailableError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code: unknown = (err as Error & { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  // SQLSTATE class 08: connection exception.
  return UNAVAILABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code);
}

/**
 * Maps connection failures to StoreUnavailableError, and text PostgreSQL cannot hold (U+0000, SQLSTATE
 * 22021 / 22P05) to ValidationError: that is the caller's input (an id, a name), never a server fault.
 * Returns any other error unchanged.
 */
export function translateDbError(err: unknown): unknown {
  if (isUnavailableError(err)) return new StoreUnavailableError(err);
  const state = sqlState(err);
  if (state === '22021' || state === '22P05') return new ValidationError('Text must not contain the NUL character (U+0000)');
  return err;
}

/** `text` with U+0000 (which PostgreSQL text cannot hold) replaced by U+FFFD, for text from the network. */
export function storableText(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

/** SQLSTATE of a PostgreSQL error, or undefined. */
export function sqlState(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const code: unknown = (err as Error & { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Name of the constraint a PostgreSQL error names, or undefined. */
export function constraintName(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const name: unknown = (err as Error & { constraint_name?: unknown }).constraint_name;
  return typeof name === 'string' ? name : undefined;
}
