import postgres from 'postgres';
import { ConflictError } from '../domain/errors.js';
import type { Logger } from '../domain/log.js';

export interface NodeLock {
  /** Gives the lock up (ends its connection). Idempotent. */
  release(): Promise<void>;
}

/**
 * Who runs on this database (per schema): a node without Redis holds an exclusive session-level advisory
 * lock, a node with Redis a shared one, each on a connection of its own kept for the node's lifetime. So
 * a second node without Redis, or a node with Redis beside one without, is refused at start with a clear
 * message instead of running the same tenants twice. PostgreSQL drops the lock when the connection or the
 * process dies, so a crashed node never blocks the next start.
 */
export async function acquireNodeLock(opts: {
  url: string;
  schema: string | undefined;
  mode: 'exclusive' | 'shared';
  log: Logger;
}): Promise<NodeLock> {
  const sql = postgres(opts.url, { max: 1, connect_timeout: 10, onnotice: () => undefined });
  const key = `wa-tenants.node:${opts.schema ?? 'default'}`;
  let taken: boolean;
  try {
    const rows =
      opts.mode === 'exclusive'
        ? await sql`SELECT pg_try_advisory_lock(hashtext(${key})) AS ok`
        : await sql`SELECT pg_try_advisory_lock_shared(hashtext(${key})) AS ok`;
    taken = rows[0]?.ok === true;
  } catch (err) {
    await sql.end({ timeout: 1 });
    throw err;
  }
  if (!taken) {
    await sql.end({ timeout: 1 });
    throw new ConflictError(
      opts.mode === 'exclusive'
        ? 'Another wa-tenants node is running on this database. Without REDIS_URL a node runs alone; set REDIS_URL (the same Redis) on every node to run several.'
        : 'A wa-tenants node without REDIS_URL is running on this database and runs every session alone. Stop it, or give it REDIS_URL, before starting nodes with Redis.',
    );
  }
  opts.log.debug({ mode: opts.mode }, 'node lock taken');
  let released: Promise<void> | undefined;
  return {
    release: () => (released ??= sql.end({ timeout: 1 })),
  };
}
