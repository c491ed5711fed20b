import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { createLogger } from '../../../src/domain/log.js';
import { createSimulator, type Simulator } from '../../../src/simulator/server.js';
import { buildServerForTests } from '../../helpers/built-server.js';
import { phone } from '../../helpers/client.js';
import { clusterEnv, linkTenant, type LinkedTenant } from '../../helpers/cluster.js';
import { TEST_DATABASE_URL, uniqueSchemaName } from '../../helpers/db.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../../helpers/redis.js';
import { killNodeProcess, spawnNodeProcess, type NodeProcess } from './process-cluster.js';

/**
 * Node processes (the JavaScript build of the server) sharing the real PostgreSQL (own schema) and Redis
 * (own prefix), with the simulator in the test process.
 */
export interface ProcessCluster {
  sim: Simulator;
  simUrl: string;
  sql: postgres.Sql;
  nodes: Map<string, NodeProcess>;
  node(id: string): NodeProcess;
  /** Links `count` tenants, through the nodes in turn, a few at a time. */
  linkTenants(count: number): Promise<LinkedTenant[]>;
  /** Owner node and status of every session, from PostgreSQL. */
  sessions(): Promise<Map<string, { owner: string | null; status: string }>>;
  /**
   * Whether each tenant runs on a node other than `gone`, connected, with a live network connection
   * that began after `since` (the store alone could show the new owner before it connected).
   */
  connectedElsewhere(tenants: readonly LinkedTenant[], gone: string, since: number): Promise<boolean>;
  /** Ids of `ids` not stored, and of those stored more than once. */
  storedOnce(ids: readonly string[]): Promise<{ missing: string[]; duplicated: string[] }>;
  close(): Promise<void>;
}

interface ConnectionEntry {
  number: string;
  from: string;
  to: string | null;
}

export async function startProcessCluster(opts: { nodeIds: string[]; ttlMs: number; env?: Record<string, string> }): Promise<ProcessCluster> {
  const sim = createSimulator({ port: 0, log: createLogger({ level: 'warn' }) });
  const simUrl = await sim.listen();
  const schema = uniqueSchemaName('proc');
  const prefix = uniquePrefix('proc');
  const sql = postgres(TEST_DATABASE_URL, { max: 2, onnotice: () => undefined, connection: { search_path: schema } });
  const redis = new Redis(TEST_REDIS_URL);
  const build = await buildServerForTests(['tests/e2e/scale/node-process.ts']);
  const entry = join(build.dir, 'tests', 'e2e', 'scale', 'node-process.js');
  const nodes = new Map<string, NodeProcess>();
  const env = {
    ...clusterEnv({ simUrl, prefix, ttlMs: opts.ttlMs }),
    TEST_SCHEMA: schema,
    DATABASE_POOL_SIZE: '6',
    // SCALE_TEST_LOG_LEVEL=info with SCALE_TEST_LOGS=<file> keeps the nodes' story of a run.
    ...(process.env.SCALE_TEST_LOG_LEVEL === undefined ? {} : { LOG_LEVEL: process.env.SCALE_TEST_LOG_LEVEL }),
    ...opts.env,
  };
  const cluster: ProcessCluster = {
    sim,
    simUrl,
    sql,
    nodes,
    node(id) {
      const n = nodes.get(id);
      if (n === undefined) throw new Error(`no node ${id}`);
      return n;
    },
    async linkTenants(count) {
      const urls = [...nodes.values()].map((n) => n.url);
      const out: LinkedTenant[] = [];
      try {
        for (let i = 0; i < count; i += 6) {
          const batch = Array.from({ length: Math.min(6, count - i) }, (_, j) => linkTenant(urls[(i + j) % urls.length] as string, simUrl, `T${i + j}`));
          out.push(...(await Promise.all(batch)));
        }
      } catch (err) {
        for (const t of out) t.socket.close();
        throw err;
      }
      return out;
    },
    async sessions() {
      const rows = await sql<{ tenant_id: string; owner_node: string | null; status: string }[]>`SELECT tenant_id, owner_node, status FROM sessions`;
      return new Map(rows.map((r) => [r.tenant_id, { owner: r.owner_node, status: r.status }]));
    },
    async connectedElsewhere(tenants, gone, since) {
      const now = await cluster.sessions();
      const log = (await phone(simUrl, 'GET', '/stats/connections')).body as { connections: ConnectionEntry[] };
      return tenants.every((t) => {
        const row = now.get(t.tenantId);
        const live = log.connections.some((c) => c.number === t.number && c.to === null && Date.parse(c.from) > since);
        return row?.status === 'connected' && row.owner !== gone && live;
      });
    },
    async storedOnce(ids) {
      const rows = await sql<{ id: string; n: number }[]>`
        SELECT wa_message_id AS id, count(*)::int AS n FROM messages WHERE wa_message_id = ANY(${ids as string[]}) GROUP BY wa_message_id`;
      const stored = new Map(rows.map((r) => [r.id, r.n]));
      return { missing: ids.filter((id) => !stored.has(id)), duplicated: rows.filter((r) => r.n > 1).map((r) => r.id) };
    },
    async close() {
      // The node logs stay for whoever investigates a failure (SCALE_TEST_LOGS=<file>).
      const logFile = process.env.SCALE_TEST_LOGS;
      if (logFile !== undefined) writeFileSync(logFile, [...nodes.values()].map((n) => `=== ${n.nodeId}\n${n.logTail()}`).join('\n'));
      for (const node of nodes.values()) await killNodeProcess(node);
      await sim.close();
      await deleteKeys(redis, prefix);
      await redis.quit();
      await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
      await sql.end();
      await build.cleanup();
    },
  };
  try {
    // One after the other: the first one creates the schema and runs the migrations.
    for (const id of opts.nodeIds) nodes.set(id, await spawnNodeProcess({ ...env, NODE_ID: id }, { entry }));
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}

/** Inbound messages from the tenants' contacts, round robin, paced, until stopped (bounded by the test). */
export function startFlow(tenants: readonly LinkedTenant[], simUrl: string) {
  const sent: string[] = [];
  const waiters: { n: number; resolve(): void }[] = [];
  let running = true;
  let i = 0;
  const loop = async (): Promise<void> => {
    while (running) {
      const t = tenants[i % tenants.length] as LinkedTenant;
      const seq = i++;
      const res = await phone(simUrl, 'POST', `/phones/${t.contact}/messages`, { to: t.number, body: `flow-${seq}` });
      if (res.status === 201) sent.push((res.body as { id: string }).id);
      for (const w of waiters.filter((x) => sent.length >= x.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      // About 30 messages a second across the tenants: steady, well below what a node absorbs.
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
  };
  const done = loop();
  return {
    count: () => sent.length,
    sentAtLeast: (n: number) => (sent.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }))),
    /** Stops sending; resolves with the ids of every message the network accepted. */
    async stop() {
      running = false;
      await done;
      return sent;
    },
  };
}

/** Resolves once the network has delivered (and had acknowledged) everything to these accounts. */
export async function allDelivered(sim: Simulator, numbers: readonly string[], timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    sim.until(() => numbers.every((n) => sim.phone(n)?.pendingDeliveries === 0)),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('deliveries still pending')), timeoutMs))),
  ]);
  clearTimeout(timer);
}
