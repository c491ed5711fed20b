import { proc } from '../lib/build.js';
import { dropSchema, schemaName, sleep, type BenchContext, type Suite } from '../lib/context.js';
import { startProc, type Proc } from '../lib/ipc.js';
import { ratio, type Row } from '../lib/report.js';
import { registerAdmin, startNodeProc, type NodeInfo } from '../lib/stack.js';
import { medianOf } from '../lib/stats.js';
import { cpuSeconds } from '../lib/sys.js';

/**
 * Socket.IO fan-out: one tenant's admin room with 100 sockets (in two client processes); the node emits
 * message events at a fixed rate from inside; server CPU (every thread of the node process, from /proc)
 * divided by the events the clients received. Same node on uWebSockets.js and on node:http, runs
 * interleaved.
 */

const SOCKETS = 100;
const RATE = 400;

type Kind = 'uws' | 'node';

interface Server {
  kind: Kind;
  node: Proc<NodeInfo>;
  clients: Proc[];
  tenantId: string;
}

async function startServer(ctx: BenchContext, kind: Kind): Promise<Server> {
  const schema = schemaName(`fanout_${kind}`);
  ctx.defer(() => dropSchema(ctx.dbUrl, schema));
  const node = await startNodeProc(ctx, { schema, env: { HTTP_SERVER: kind } });
  ctx.defer(() => node.stop());
  const admin = await registerAdmin(node.info.url, `Fanout ${kind}`);
  const clients = await Promise.all([0, 1].map(() => startProc(proc('socket-clients'))));
  for (const c of clients) ctx.defer(() => c.stop());
  await Promise.all(clients.map((c) => c.request('connect', { url: node.info.url, tokens: Array.from({ length: SOCKETS / 2 }, () => admin.accessToken) })));
  return { kind, node, clients, tenantId: admin.user.tenantId };
}

async function received(clients: Proc[]): Promise<number> {
  const reports = await Promise.all(clients.map((c) => c.request<{ received: number }>('report')));
  return reports.reduce((n, r) => n + r.received, 0);
}

async function runOnce(s: Server, events: number): Promise<{ cpuUsPerDelivery: number; delivered: number; expected: number }> {
  await Promise.all(s.clients.map((c) => c.request('reset', { tag: '' })));
  const cpu0 = cpuSeconds(s.node.pid);
  await s.node.request('publishLoop', { tenantId: s.tenantId, count: events, ratePerS: RATE, bytes: 200 });
  const expected = events * SOCKETS;
  // Deliveries still in flight when the loop ends are part of the cost: wait for them (or 3 s of silence).
  let last = -1;
  for (let idle = 0; idle < 12; ) {
    const n = await received(s.clients);
    if (n >= expected) break;
    idle = n === last ? idle + 1 : 0;
    last = n;
    await sleep(250);
  }
  const cpu = cpuSeconds(s.node.pid) - cpu0;
  const delivered = await received(s.clients);
  return { cpuUsPerDelivery: (cpu * 1e6) / delivered, delivered, expected };
}

export const fanoutSuite: Suite = {
  name: 'fanout',
  steps: (quick) => 1 + (quick ? 3 : 5),
  async run(ctx): Promise<Row[]> {
    const seconds = ctx.quick ? 1 : 4;
    ctx.step(`fanout: two nodes (uWS, node:http) with ${SOCKETS} sockets each`);
    const servers = [await startServer(ctx, 'uws'), await startServer(ctx, 'node')];
    for (const s of servers) await runOnce(s, RATE); // warm-up
    const results: Record<Kind, Awaited<ReturnType<typeof runOnce>>[]> = { uws: [], node: [] };
    for (let run = 0; run < ctx.runs; run++) {
      ctx.step(`fanout: run ${run + 1}/${ctx.runs}`);
      for (const s of servers) results[s.kind].push(await runOnce(s, RATE * seconds));
    }
    ctx.raw.fanout = { sockets: SOCKETS, ratePerS: RATE, seconds, results };
    const uws = medianOf(results.uws, (r) => r.cpuUsPerDelivery);
    const node = medianOf(results.node, (r) => r.cpuUsPerDelivery);
    const r = ratio(uws, node);
    const lost = Math.max(...[...results.uws, ...results.node].map((x) => x.expected - x.delivered));
    return [
      {
        suite: 'fanout',
        figure: `server CPU per delivered event, uWS (${SOCKETS} sockets, ${RATE * SOCKETS}/s deliveries)`,
        value: uws,
        unit: 'µs',
        baseline: { name: 'node:http', value: node },
        ratio: r,
        target: '<= 0.6x node:http (about half measured before)',
        met: r !== null && r <= 0.6,
        note: lost > 0 ? `${lost} deliveries missing in the worst run` : undefined,
      },
    ];
  },
};
