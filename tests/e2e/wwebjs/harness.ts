import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { loadConfig, wwebjsDataDir, type Config } from '../../../src/config.js';
import { createLogger, type Logger } from '../../../src/domain/log.js';
import { startNode, type RunningNode, type StartNodeOptions } from '../../../src/node.js';
import { TEST_DATABASE_URL, uniqueSchemaName } from '../../helpers/db.js';
import { testNodeEnv } from '../../helpers/stack.js';

/** Debian's Chromium (.ci/run installs it); CHROMIUM_PATH overrides. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface WwebjsNode {
  node: RunningNode;
  /** Base URL of the current node (a restarted node listens on a new port). */
  url: string;
  config: Config;
  schema: string;
  /** DATA_DIR of the node (a fresh temporary folder); the wwebjs profiles live in `wwebjsDir`. */
  dataDir: string;
  wwebjsDir: string;
  /** Every log line the node wrote (JSON). */
  logs: string[];
  /** The browser profile folder of a tenant (RemoteAuth's naming), which names its Chromium processes. */
  profileDir(tenantId: string): string;
  /** Stops the node and starts a new one on the same database schema and data folder (`between` runs in between). */
  restart(between?: () => Promise<void>): Promise<RunningNode>;
  close(): Promise<void>;
}

export interface WwebjsNodeOptions {
  env?: Record<string, string>;
  actors?: StartNodeOptions['actors'];
  /** A built web console to serve at / (default: none built here). */
  consoleDir?: string;
}

/**
 * One node on the wwebjs engine (WA_ENGINE=wwebjs, RemoteAuth in PostgreSQL by default) on the real
 * PostgreSQL in a fresh schema, with a fresh DATA_DIR. No simulator: whatsapp-web.js is the network side.
 */
export async function startWwebjsNode(opts: WwebjsNodeOptions = {}): Promise<WwebjsNode> {
  const logs: string[] = [];
  const log: Logger = createLogger({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const dataDir = await mkdtemp(join(tmpdir(), 'wa-wwebjs-e2e-'));
  const schema = uniqueSchemaName('wwebjs');
  const config = loadConfig(
    testNodeEnv({
      JWT_SECRET: 'wwebjs-e2e-secret-0123456789abcdef0123456789',
      WA_ENGINE: 'wwebjs',
      CHROMIUM_PATH: CHROMIUM,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'debug',
      ...opts.env,
    }),
  );
  const start = (): Promise<RunningNode> =>
    startNode({
      config,
      log,
      schema,
      ...(opts.actors === undefined ? {} : { actors: opts.actors }),
      ...(opts.consoleDir === undefined ? {} : { consoleDir: opts.consoleDir }),
    });
  let node = await start();
  const wwebjsDir = wwebjsDataDir(config);
  return {
    get node() {
      return node;
    },
    get url() {
      return node.url;
    },
    config,
    schema,
    dataDir,
    wwebjsDir,
    logs,
    profileDir: (tenantId) => join(wwebjsDir, `RemoteAuth-${tenantId}`),
    async restart(between) {
      await node.close();
      await between?.();
      node = await start();
      return node;
    },
    async close() {
      try {
        await node.close();
      } finally {
        const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });
        await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
        await sql.end();
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** A session_status event as Socket.IO delivers it, with the time the test saw it. */
export interface SeenStatus {
  status: string;
  reason: string | null;
  at: number;
}
