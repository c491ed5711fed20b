import { proc } from '../lib/build.js';
import { dropSchema, schemaName, sleep, type BenchContext, type Suite } from '../lib/context.js';
import { json, load } from '../lib/http.js';
import { startProc, type Proc } from '../lib/ipc.js';
import { ratio, type Row } from '../lib/report.js';
import { registerAdmin, startNodeProc, type NodeInfo } from '../lib/stack.js';
import { median, medianOf, quantile } from '../lib/stats.js';

/**
 * Webhook delivery from the outbox: a node stores inbound messages (batches of 50, through the store, as
 * ingest does) for one tenant with one endpoint subscribed to `message`; a receiver process answers 200.
 * Throughput = distinct events received / (last receipt - start of the writes), with the endpoint in
 * strict order (1 in flight) and with a window of 16. Latency = commit (`createdAt`) to receipt, at a
 * paced 100 events/s. Baseline: autocannon POSTing a body of the same size to the same receiver at the
 * same concurrency: what the receiver and the loopback take with no gateway at all.
 */

interface Report {
  distinct: number;
  duplicates: number;
  outOfOrder: number;
  firstReceipt: number;
  lastReceipt: number;
  latencies: number[];
}

interface Setup {
  node: Proc<NodeInfo>;
  receiver: Proc<{ url: string }>;
  tenants: { ordered: string; window: string; paced: string };
}

const BODY_BYTES = 400;

async function tenantWithEndpoint(node: Proc<NodeInfo>, url: string, name: string, maxConcurrency: number): Promise<string> {
  const admin = await registerAdmin(node.info.url, name);
  await json(`${node.info.url}/api/webhooks`, { method: 'POST', token: admin.accessToken, body: { url, events: ['message'], maxConcurrency } });
  return admin.user.tenantId;
}

async function setup(ctx: BenchContext): Promise<Setup> {
  const schema = schemaName('webhooks');
  ctx.defer(() => dropSchema(ctx.dbUrl, schema));
  const receiver = await startProc<{ url: string }>(proc('webhook-receiver'));
  ctx.defer(() => receiver.stop());
  const node = await startNodeProc(ctx, { schema, env: { WEBHOOK_ALLOW_PRIVATE_URLS: 'true' } });
  ctx.defer(() => node.stop());
  const url = receiver.info.url;
  return {
    node,
    receiver,
    tenants: {
      ordered: await tenantWithEndpoint(node, url, 'Hooks ordered', 1),
      window: await tenantWithEndpoint(node, url, 'Hooks window', 16),
      paced: await tenantWithEndpoint(node, url, 'Hooks paced', 1),
    },
  };
}

/** Writes `count` messages and waits for their deliveries (or 10 s without progress). */
async function deliver(s: Setup, tenantId: string, count: number, opts: { batch: number; ratePerS: number | null; tag: string }): Promise<Report & { start: number }> {
  await s.receiver.request('reset');
  const start = Date.now();
  await s.node.request('storeMessages', { tenantId, count, batch: opts.batch, ratePerS: opts.ratePerS, tag: opts.tag });
  let last = -1;
  for (let idle = 0; idle < 40; ) {
    const r = await s.receiver.request<Report>('report');
    if (r.distinct >= count) return { ...r, start };
    idle = r.distinct === last ? idle + 1 : 0;
    last = r.distinct;
    await sleep(250);
  }
  return { ...(await s.receiver.request<Report>('report')), start };
}

function rate(r: Report & { start: number }): number {
  return r.distinct / Math.max(0.001, (r.lastReceipt - r.start) / 1000);
}

export const webhooksSuite: Suite = {
  name: 'webhooks',
  steps: (quick) => 1 + (quick ? 3 : 5),
  async run(ctx): Promise<Row[]> {
    const count = ctx.quick ? 500 : 2_000;
    ctx.step('webhooks: a node, a receiver process, three tenants with an endpoint each');
    const s = await setup(ctx);
    await deliver(s, s.tenants.ordered, 200, { batch: 50, ratePerS: null, tag: 'warm' }); // warm-up
    const body = JSON.stringify({ id: 'baseline', pad: 'x'.repeat(BODY_BYTES) });
    const runs: { ordered: number; window: number; bare1: number; bare16: number; latencies: number[]; lost: number; duplicates: number; outOfOrder: number }[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      ctx.step(`webhooks: run ${run + 1}/${ctx.runs}`);
      const ordered = await deliver(s, s.tenants.ordered, count, { batch: 50, ratePerS: null, tag: `o${run}` });
      const windowed = await deliver(s, s.tenants.window, count, { batch: 50, ratePerS: null, tag: `w${run}` });
      const paced = await deliver(s, s.tenants.paced, ctx.quick ? 100 : 400, { batch: 1, ratePerS: 100, tag: `p${run}` });
      const bareOpts = { url: s.receiver.info.url, method: 'POST' as const, headers: { 'content-type': 'application/json' }, body, durationS: ctx.quick ? 1 : 3 };
      const bare1 = await load({ ...bareOpts, connections: 1 });
      const bare16 = await load({ ...bareOpts, connections: 16 });
      runs.push({
        ordered: rate(ordered),
        window: rate(windowed),
        bare1: bare1.rps,
        bare16: bare16.rps,
        latencies: paced.latencies,
        lost: Math.max(count - ordered.distinct, count - windowed.distinct, (ctx.quick ? 100 : 400) - paced.distinct),
        duplicates: ordered.duplicates + windowed.duplicates + paced.duplicates,
        outOfOrder: ordered.outOfOrder + paced.outOfOrder,
      });
    }
    ctx.raw.webhooks = { count, runs: runs.map(({ latencies, ...r }) => ({ ...r, latencyP50: quantile(latencies, 0.5), latencyP99: quantile(latencies, 0.99) })) };
    const ordered = medianOf(runs, (r) => r.ordered);
    const windowed = medianOf(runs, (r) => r.window);
    const bare1 = medianOf(runs, (r) => r.bare1);
    const bare16 = medianOf(runs, (r) => r.bare16);
    const p50 = median(runs.map((r) => quantile(r.latencies, 0.5)));
    const p99 = median(runs.map((r) => quantile(r.latencies, 0.99)));
    const lost = Math.max(...runs.map((r) => r.lost));
    const duplicates = Math.max(...runs.map((r) => r.duplicates));
    const outOfOrder = Math.max(...runs.map((r) => r.outOfOrder));
    const note = lost + duplicates + outOfOrder > 0 ? `worst run: ${lost} lost, ${duplicates} repeated, ${outOfOrder} out of order` : undefined;
    return [
      {
        suite: 'webhooks',
        figure: `delivered/s, one endpoint in strict order (${count} events, signed, claimed and recorded one by one)`,
        value: ordered,
        unit: 'ev/s',
        baseline: { name: 'bare POST loop, 1 connection', value: bare1 },
        ratio: ratio(ordered, bare1),
        note,
      },
      {
        suite: 'webhooks',
        figure: 'delivered/s, one endpoint with a window of 16',
        value: windowed,
        unit: 'ev/s',
        baseline: { name: 'bare POST, 16 connections', value: bare16 },
        ratio: ratio(windowed, bare16),
      },
      { suite: 'webhooks', figure: 'commit -> receipt p50 at 100 ev/s (strict order)', value: p50, unit: 'ms' },
      {
        suite: 'webhooks',
        figure: 'commit -> receipt p99 at 100 ev/s',
        value: p99,
        unit: 'ms',
        target: 'lost 0, repeated 0, out of order 0',
        met: lost === 0 && duplicates === 0 && outOfOrder === 0,
      },
    ];
  },
};
