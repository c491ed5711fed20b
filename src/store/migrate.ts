import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Logger } from '../domain/log.js';
import type { Sql } from './db.js';
import { translateDbError } from './db.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export interface MigrateOptions {
  /** Folder of `NNN_name.sql` files; default: src/store/migrations beside this module. */
  dir?: string;
  log: Logger;
}

const FILE_PATTERN = /^(\d{3})_([a-z0-9_]+)\.sql$/;

/**
 * Key of the advisory lock every migration transaction takes. One key for the whole database (not per
 * schema) on purpose: the migrations also create the cluster-wide role wa_app, and two schemas migrating at
 * once (parallel test files) would otherwise race on it.
 */
const LOCK_KEY = 'wa-tenants.migrate';

export function defaultMigrationsDir(): string {
  return fileURLToPath(new URL('./migrations/', import.meta.url));
}

/** Reads the migration files in version order. Duplicate versions are an error. */
export async function loadMigrations(dir = defaultMigrationsDir()): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new Error(`migration file name must look like 001_name.sql: ${file}`);
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version)) throw new Error(`duplicate migration version ${version}`);
    migrations.push({ version, name: match[2] ?? '', sql: await readFile(join(dir, file), 'utf8') });
  }
  return migrations.sort((a, b) => a.version - b.version);
}

/**
 * Applies every migration not yet recorded in `schema_migrations` (in the connection's search_path), each
 * in its own transaction that first takes a transaction-scoped advisory lock and then re-checks the table:
 * two nodes starting together apply each migration exactly once. Returns the versions applied by this call
 * (empty on a second run).
 */
export async function migrate(sql: Sql, opts: MigrateOptions): Promise<number[]> {
  const log = opts.log.child({ component: 'migrate' });
  const migrations = await loadMigrations(opts.dir);
  try {
    await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(hashtext(${LOCK_KEY}))`;
      await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
        version     integer PRIMARY KEY,
        name        text NOT NULL,
        applied_at  timestamptz NOT NULL DEFAULT now()
      )`;
    });
    const applied: number[] = [];
    for (const m of migrations) {
      const started = Date.now();
      const done = await sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(hashtext(${LOCK_KEY}))`;
        const seen = await tx`SELECT 1 FROM schema_migrations WHERE version = ${m.version}`;
        if (seen.length > 0) return false;
        // Simple protocol: a migration file holds several statements and no parameters.
        await tx.unsafe(m.sql).simple();
        await tx`INSERT INTO schema_migrations (version, name) VALUES (${m.version}, ${m.name})`;
        return true;
      });
      if (done) {
        applied.push(m.version);
        log.info({ version: m.version, name: m.name, ms: Date.now() - started }, 'migration applied');
      }
    }
    return applied;
  } catch (err) {
    throw translateDbError(err);
  }
}
