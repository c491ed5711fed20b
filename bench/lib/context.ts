import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import type { Row } from './report.js';

/** What every suite gets from bench/run.ts. */
export interface BenchContext {
  quick: boolean;
  /** Runs behind every median (3 quick, 5 full). */
  runs: number;
  /** PostgreSQL server the nodes use (each suite in its own schema, dropped at the end). */
  dbUrl: string;
  jwtSecret: string;
  /** Advances the progress bar by one step, naming what runs next. */
  step(label: string): void;
  /** A line printed above the progress bar. */
  note(text: string): void;
  /** Per-suite raw measurements, stored in the JSON file. */
  raw: Record<string, unknown>;
  /** Run at the end, in reverse order, even after a failure. */
  defer(cleanup: () => Promise<void>): void;
}

export interface Suite {
  name: string;
  /** Progress steps this suite will report (for the bar's total). */
  steps(quick: boolean): number;
  run(ctx: BenchContext): Promise<Row[]>;
}

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** A fresh schema name; the node creates it, `dropSchema` removes it. */
export function schemaName(suite: string): string {
  return `bench_${suite}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export async function dropSchema(dbUrl: string, schema: string): Promise<void> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => undefined });
  try {
    await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
  } finally {
    await sql.end();
  }
}

/** A short-lived postgres.js client on a bench schema (counts stored messages). */
export function schemaClient(dbUrl: string, schema: string): postgres.Sql {
  return postgres(dbUrl, { max: 1, onnotice: () => undefined, connection: { search_path: schema } });
}

/** Phone numbers unique to this run: prefix + a counter. */
export function numbers(prefix: string, count: number): string[] {
  const base = `${prefix}${String(Date.now() % 100_000).padStart(5, '0')}`;
  return Array.from({ length: count }, (_, i) => `${base}${String(i).padStart(4, '0')}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Waits until PostgreSQL runs no query but this one (at most `maxMs`): a load that queued more queries
 * than it waited for (the seed stack's 64 connections on the long chat) must not slow the next one.
 */
export async function waitForIdleDatabase(dbUrl: string, maxMs = 15_000): Promise<void> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => undefined });
  try {
    const until = performance.now() + maxMs;
    while (performance.now() < until) {
      const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'`;
      if ((row?.n ?? 0) === 0) return;
      await sleep(100);
    }
  } finally {
    await sql.end();
  }
}
