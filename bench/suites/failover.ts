import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { proc } from '../lib/build.js';
import { dropSchema, numbers, schemaClient, schemaName, sleep, type BenchContext, type Suite } from '../lib/context.js';
import { json } from '../lib/http.js';
import { startProc, type Proc } from '../lib/ipc.js';
import { ratio, type Row } from '../lib/report.js';
import { createPhones, startNodeProc, type NodeInfo } from '../lib/stack.js';

/**
 * Failover: three nodes on one PostgreSQL and one Redis, sandbox sessions spread over them, inbound
 * messages flowing. One node is SIGKILLed: the time until every one of its sessions is connected on
 * another node (against the lease TTL, the floor of any failover: a dead node's lease must expire), and
 * how many messages the network accepted were never stored (must be 0). Then another node gets SIGTERM:
 * the time its drain takes to hand its sessions over (no TTL wait). Redis: BENCH_REDIS_URL or local.
 */

const TTL_MS = 5_000;
const NODES = ['bench-node-1', 'bench-node-2', 'bench-node-3'];
const MESSAGES_PER_S = 50;

interface Connection {
  number: string;
  from: string;
  to: string | null;
}

interface Cluster {
  simUrl: string;
  nodes: Map<string, Proc<NodeInfo>>;
  /** tenant id -> its business phone number */
  phones: Map<string, string>;
  contacts: Map<string, string>;
  sql: ReturnType<typeof schemaClient>;
}

/** Time until every tenant in `moving` is connected on a node other than `gone`, with a connection begun after `since`. */
async function waitMoved(cluster: Cluster, moving: string[], gone: string, since: number, timeoutMs: number): Promise<number | null> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const rows = await cluster.sql<{ tenant_id: string; owner_node: string | null; status: string }[]>`
      SELECT tenant_id, owner_node, status FROM sessions WHERE tenant_id = ANY(${moving})`;
    const { connections } = await json<{ connections: Connection[] }>(`${cluster.simUrl}/stats/connections`);
    const done = moving.every((tenantId) => {
      const row = rows.find((r) => r.tenant_id === tenantId);
      const number = cluster.phones.get(tenantId);
      const live = connections.some((c) => c.number === number && c.to === null && Date.parse(c.from) > since);
      return row !== undefined && row.status === 'connected' && row.owner_node !== gone && live;
    });
    if (done) return Date.now() - since;
    await sleep(50);
  }
  return null;
}

/** Inbound messages at a steady rate from the tenants' contacts until stopped; the ids the network accepted. */
function flow(cluster: Cluster) {
  const accepted: string[] = [];
  let running = true;
  const tenants = [...cluster.phones.keys()];
  const done = (async () => {
    const t0 = performance.now();
    for (let i = 0; running; i++) {
      const tenantId = tenants[i % tenants.length] as string;
      const res = await json<{ id: string }>(`${cluster.simUrl}/phones/${cluster.contacts.get(tenantId)}/messages`, {
        method: 'POST',
        body: { to: cluster.phones.get(tenantId), body: `failover bench ${i}` },
      });
      accepted.push(res.id);
      const wait = ((i + 1) / MESSAGES_PER_S) * 1000 - (performance.now() - t0);
      if (wait > 0) await sleep(wait);
    }
  })();
  return {
    async stop(): Promise<string[]> {
      running = false;
      await done;
      return accepted;
    },
  };
}

async function messagesLost(ctx: BenchContext, cluster: Cluster, ids: string[]): Promise<number> {
  // Delivered means acknowledged by a session, which happens only after the message is stored.
  const deadline = performance.now() + 60_000;
  for (const number of cluster.phones.values()) {
    while (performance.now() < deadline) {
      const phone = await json<{ pendingDeliveries: number }>(`${cluster.simUrl}/phones/${number}`);
      if (phone.pendingDeliveries === 0) break;
      await sleep(100);
    }
  }
  const rows = await cluster.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM messages WHERE wa_message_id = ANY(${ids})`;
  const lost = ids.length - (rows[0]?.n ?? 0);
  if (lost > 0) ctx.note(`failover: ${lost} of ${ids.length} accepted messages not stored`);
  return lost;
}

async function ownersOf(cluster: Cluster): Promise<Map<string, string[]>> {
  const rows = await cluster.sql<{ tenant_id: string; owner_node: string }[]>`SELECT tenant_id, owner_node FROM sessions WHERE owner_node IS NOT NULL`;
  const out = new Map<string, string[]>();
  for (const r of rows) out.set(r.owner_node, [...(out.get(r.owner_node) ?? []), r.tenant_id]);
  return out;
}

/** The run's Redis keys (leases, epoch counters, node registry) go with it. */
async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

export const failoverSuite: Suite = {
  name: 'failover',
  steps: () => 3,
  async run(ctx) {
    const perNode = ctx.quick ? 10 : 30;
    const schema = schemaName('failover');
    const env = {
      REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_PREFIX: `bench:failover:${randomBytes(4).toString('hex')}:`,
      LEASE_TTL_MS: String(TTL_MS),
      LOG_LEVEL: 'warn',
    };
    ctx.step(`failover: 3 nodes, linking ${perNode * NODES.length} sessions`);
    const sim = await startProc<{ url: string }>(proc('sim-proc'));
    const cluster: Cluster = { simUrl: sim.info.url, nodes: new Map(), phones: new Map(), contacts: new Map(), sql: schemaClient(ctx.dbUrl, schema) };
    ctx.defer(async () => {
      for (const node of cluster.nodes.values()) await node.stop(30_000);
      await sim.stop();
      await cluster.sql.end();
      await dropSchema(ctx.dbUrl, schema);
      await deleteKeys(env.REDIS_URL, env.REDIS_PREFIX);
    });
    // restore: with Redis that runs the reconcile loop, which is what takes a lost node's sessions over.
    for (const nodeId of NODES) cluster.nodes.set(nodeId, await startNodeProc(ctx, { schema, simUrl: sim.info.url, restore: true, env: { ...env, NODE_ID: nodeId } }));
    for (const [i, nodeId] of NODES.entries()) {
      const node = cluster.nodes.get(nodeId) as Proc<NodeInfo>;
      const tenants = await node.request<string[]>('createTenants', { count: perNode, prefix: `failover${i}` });
      const phones = numbers(`49${7 + i}`, perNode);
      const contacts = numbers(`48${7 + i}`, perNode);
      await createPhones(sim.info.url, [...phones, ...contacts]);
      tenants.forEach((tenantId, k) => {
        cluster.phones.set(tenantId, phones[k] as string);
        cluster.contacts.set(tenantId, contacts[k] as string);
      });
      // Linked through this node: it owns them.
      await node.request('link', { tenants: tenants.map((tenantId, k) => ({ tenantId, number: phones[k] as string })), simUrl: sim.info.url, concurrency: 16 });
    }

    ctx.step('failover: SIGKILL one node under a message flow');
    const messages = flow(cluster);
    await sleep(2_000);
    const victim = NODES[1] as string;
    const moving = (await ownersOf(cluster)).get(victim) ?? [];
    const killedAt = Date.now();
    (cluster.nodes.get(victim) as Proc<NodeInfo>).child.kill('SIGKILL');
    const killMs = await waitMoved(cluster, moving, victim, killedAt, TTL_MS + 60_000);
    await sleep(2_000);
    const accepted = await messages.stop();
    const lost = await messagesLost(ctx, cluster, accepted);
    cluster.nodes.delete(victim);

    ctx.step('failover: SIGTERM another node (drain)');
    const leaving = NODES[2] as string;
    const handed = (await ownersOf(cluster)).get(leaving) ?? [];
    const stoppedAt = Date.now();
    const stopping = (cluster.nodes.get(leaving) as Proc<NodeInfo>).stop(60_000);
    const drainMs = await waitMoved(cluster, handed, leaving, stoppedAt, 60_000);
    await stopping;
    cluster.nodes.delete(leaving);

    ctx.raw.failover = { ttlMs: TTL_MS, moving: moving.length, killMs, accepted: accepted.length, lost, handed: handed.length, drainMs };
    const ttlS = TTL_MS / 1000;
    const killS = killMs === null ? null : killMs / 1000;
    const drainS = drainMs === null ? null : drainMs / 1000;
    const rows: Row[] = [
      {
        suite: 'failover',
        figure: `node loss (SIGKILL) -> its ${moving.length} sessions connected elsewhere`,
        value: killS,
        unit: 's',
        baseline: { name: 'lease TTL (the floor: a dead node\'s lease must expire)', value: ttlS },
        ratio: ratio(killS, ttlS),
        target: '<= TTL + 5 s',
        met: killS !== null && killS <= ttlS + 5,
      },
      {
        suite: 'failover',
        figure: 'messages lost in a node loss',
        value: lost,
        unit: 'msgs',
        target: '0',
        met: lost === 0,
        note: `${accepted.length} accepted by the network at ${MESSAGES_PER_S}/s during the run`,
      },
      {
        suite: 'failover',
        figure: `SIGTERM drain -> its ${handed.length} sessions connected elsewhere`,
        value: drainS,
        unit: 's',
        baseline: { name: 'lease TTL', value: ttlS },
        ratio: ratio(drainS, ttlS),
        target: '< TTL (leases released, not expired)',
        met: drainS !== null && drainS < ttlS,
      },
    ];
    return rows;
  },
};
