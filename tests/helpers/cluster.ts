import postgres from 'postgres';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/domain/log.js';
import { startNode, type RunningNode } from '../../src/node.js';
import { createSimulator, type Simulator } from '../../src/simulator/server.js';
import { api, connectSocket, decodeQrDataUrl, phone, register, type Account, type RecordedSocket } from './client.js';
import { TEST_DATABASE_URL, uniqueSchemaName } from './db.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from './redis.js';
import { testNodeEnv } from './stack.js';

/**
 * Several nodes in this process on one PostgreSQL schema and one Redis key prefix, with the simulator:
 * a cluster for integration tests. Each node may reach Redis through its own URL (a cuttable proxy).
 */
export interface TestCluster {
  sim: Simulator;
  simUrl: string;
  schema: string;
  prefix: string;
  /** A Redis client of the test's own, straight to Redis. */
  redis: Redis;
  nodes: Map<string, RunningNode>;
  node(nodeId: string): RunningNode;
  startNode(nodeId: string, env?: Record<string, string>): Promise<RunningNode>;
  /** Direct SQL on the cluster's schema. */
  sql: postgres.Sql;
  close(): Promise<void>;
}

export function clusterEnv(opts: { simUrl: string; prefix: string; ttlMs: number }): Record<string, string> {
  return testNodeEnv({
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: opts.prefix,
    LEASE_TTL_MS: String(opts.ttlMs),
    WA_ENGINE: 'sandbox',
    SIM_URL: opts.simUrl,
    LOG_LEVEL: 'warn',
    ACTOR_CALL_TIMEOUT_MS: '5000',
  });
}

export async function startTestCluster(opts: { ttlMs: number; log?: Logger }): Promise<TestCluster> {
  // Quiet by default (a Redis cut logs warnings on purpose); SCALE_TEST_LOG_LEVEL=info tells the story.
  const level = process.env.SCALE_TEST_LOG_LEVEL === 'info' || process.env.SCALE_TEST_LOG_LEVEL === 'debug' ? process.env.SCALE_TEST_LOG_LEVEL : 'silent';
  const log = opts.log ?? createLogger({ level });
  const sim = createSimulator({ port: 0, log });
  const simUrl = await sim.listen();
  const schema = uniqueSchemaName('scale');
  const prefix = uniquePrefix('scale');
  const redis = new Redis(TEST_REDIS_URL);
  const sql = postgres(TEST_DATABASE_URL, { max: 2, onnotice: () => undefined, connection: { search_path: schema } });
  const nodes = new Map<string, RunningNode>();
  const base = clusterEnv({ simUrl, prefix, ttlMs: opts.ttlMs });
  return {
    sim,
    simUrl,
    schema,
    prefix,
    redis,
    nodes,
    sql,
    node(nodeId) {
      const n = nodes.get(nodeId);
      if (n === undefined) throw new Error(`no node ${nodeId}`);
      return n;
    },
    async startNode(nodeId, env = {}) {
      const config: Config = loadConfig({ ...base, NODE_ID: nodeId, ...env });
      const node = await startNode({ config, log, schema });
      nodes.set(nodeId, node);
      return node;
    },
    async close() {
      try {
        for (const node of nodes.values()) await node.close();
        await sim.close();
      } finally {
        await deleteKeys(redis, prefix);
        await redis.quit();
        await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
        await sql.end();
      }
    },
  };
}

let seq = 0;
export const newNumber = (): string => `4960${String(Date.now() % 1_000_000).padStart(6, '0')}${String(seq++ % 100).padStart(2, '0')}`;

export interface LinkedTenant {
  admin: Account;
  tenantId: string;
  number: string;
  contact: string;
  socket: RecordedSocket;
}

/**
 * An admin registered on `url`, its socket there, init there, the QR read from the socket's PNG and
 * scanned by a simulated phone; resolves once the session is connected. Also creates a contact phone.
 */
export async function linkTenant(url: string, simUrl: string, name = 'Admin'): Promise<LinkedTenant> {
  const number = newNumber();
  const contact = newNumber();
  await phone(simUrl, 'POST', '/phones', { number, name: `${name} Business` });
  await phone(simUrl, 'POST', '/phones', { number: contact, name: `${name} Contact` });
  const admin = await register(url, name);
  const socket = await connectSocket(url, admin.accessToken);
  const init = await api(url, 'POST', '/api/whatsapp/init', { token: admin.accessToken });
  if (init.status !== 200) throw new Error(`init answered ${init.status}: ${init.text}`);
  const qr = decodeQrDataUrl(await socket.next<string>('qr'));
  const link = await phone(simUrl, 'POST', `/phones/${number}/link`, { qr });
  if (link.status !== 200) throw new Error(`link answered ${link.status}`);
  await socket.next<{ status: string }>('session_status', (s) => s.status === 'connected');
  return { admin, tenantId: admin.user.tenantId, number, contact, socket };
}

/** Resolves when `check` holds, polling every `everyMs` (for state that has no event to wait on). */
export async function until(check: () => Promise<boolean> | boolean, opts: { timeoutMs: number; everyMs?: number; what: string }): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}`);
    await new Promise((resolve) => setTimeout(resolve, opts.everyMs ?? 50));
  }
}

interface ConnectionEntry {
  connectionId: string;
  number: string;
  from: string;
  to: string | null;
  endReason: string | null;
}

/**
 * From the simulator's connection log: for each account, the connections that overlapped in time (one
 * began before the previous one ended). Empty when every account had one connection at a time.
 */
export async function overlappingConnections(simUrl: string, numbers: readonly string[]): Promise<string[]> {
  const log = (await phone(simUrl, 'GET', '/stats/connections')).body as { connections: ConnectionEntry[] };
  const wanted = new Set(numbers);
  const byNumber = new Map<string, ConnectionEntry[]>();
  for (const c of log.connections) {
    if (!wanted.has(c.number)) continue;
    byNumber.set(c.number, [...(byNumber.get(c.number) ?? []), c]);
  }
  const overlaps: string[] = [];
  for (const [number, list] of byNumber) {
    list.sort((x, y) => Date.parse(x.from) - Date.parse(y.from));
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1] as ConnectionEntry;
      const cur = list[i] as ConnectionEntry;
      if (prev.to === null || Date.parse(prev.to) > Date.parse(cur.from)) overlaps.push(`${number}: ${prev.connectionId} still open when ${cur.connectionId} began`);
    }
  }
  return overlaps;
}

/** How many connections the simulator logged per account. */
export async function connectionCounts(simUrl: string): Promise<Map<string, number>> {
  const log = (await phone(simUrl, 'GET', '/stats/connections')).body as { connections: ConnectionEntry[] };
  const counts = new Map<string, number>();
  for (const c of log.connections) counts.set(c.number, (counts.get(c.number) ?? 0) + 1);
  return counts;
}
