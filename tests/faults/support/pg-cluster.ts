import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL 15 cluster of the test's own (initdb in a temp folder, its own port and socket folder),
 * so a fault test can stop and restart a database server without touching the shared one on 5432 that
 * other test files use at the same time. As root, the server runs as the `postgres` user.
 */
export interface PgCluster {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust auth). */
  url: string;
  port: number;
  /** `pg_ctl stop -m fast`: open connections are terminated (SQLSTATE 57P01), new ones refused. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and deletes the folder. Idempotent. */
  destroy(): Promise<void>;
}

async function asOwner(cmd: string, args: string[]): Promise<void> {
  const root = process.getuid?.() === 0;
  const [file, argv] = root ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  await run(file, argv, { timeout: 60_000 });
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export async function startPgCluster(): Promise<PgCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'wa-faults-pg-'));
  if (process.getuid?.() === 0) {
    const { uid, gid } = await postgresIds();
    await chown(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const port = await freePort();
  // No fsync and a small footprint: the data lives as long as the test.
  await asOwner(`${BIN}/initdb`, ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB -c max_connections=40`;
  const ctl = (...args: string[]) => asOwner(`${BIN}/pg_ctl`, ['-D', data, '-w', '-t', '30', ...args]);
  const start = () => ctl('-o', options, '-l', join(dir, 'log'), 'start');
  await start();
  let destroyed: Promise<void> | undefined;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop: () => ctl('-m', 'fast', 'stop'),
    start,
    destroy: () =>
      (destroyed ??= (async () => {
        await ctl('-m', 'immediate', 'stop').catch(() => undefined); // already stopped is fine
        await rm(dir, { recursive: true, force: true });
      })()),
  };
}
