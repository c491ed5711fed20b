import { proc } from '../lib/build.js';
import { numbers, schemaClient, sleep, type BenchContext, type Suite } from '../lib/context.js';
import { load, type LoadResult } from '../lib/http.js';
import { startProc, type Proc } from '../lib/ipc.js';
import { startMessagingStack } from '../lib/messaging-stack.js';
import { ratio, type Row } from '../lib/report.js';
import { createPhones } from '../lib/stack.js';
import { cpuSeconds, processesCpuSeconds } from '../lib/sys.js';
import { median, medianOf, quantile } from '../lib/stats.js';

/**
 * Inbound: contacts write to N tenants through the simulator at a target rate; the gateway stores and
 * delivers to each tenant's admin socket. Baseline: the same sender, simulator and rate with the same
 * number of phones linked by bare protocol clients (no gateway). Outbound: POST send through the gateway
 * vs the simulator's own send API, at the same concurrency.
 */

const TARGET_RATE = 5_000;
/**
 * BENCH_INBOUND_RATE: offer another rate (where the latency knee is on a machine); the targets are then
 * not judged, they are for 5,000/s.
 */
const OFFERED_RATE = Number(process.env.BENCH_INBOUND_RATE ?? TARGET_RATE);
if (!Number.isInteger(OFFERED_RATE) || OFFERED_RATE < 1) throw new Error(`BENCH_INBOUND_RATE must be a positive integer, got ${process.env.BENCH_INBOUND_RATE}`);
/** BENCH_INBOUND_SECONDS: a longer load per run (to profile a steady state); the default keeps the suite short. */
const SECONDS = process.env.BENCH_INBOUND_SECONDS === undefined ? undefined : Number(process.env.BENCH_INBOUND_SECONDS);
if (SECONDS !== undefined && !(Number.isInteger(SECONDS) && SECONDS >= 1)) {
  throw new Error(`BENCH_INBOUND_SECONDS must be a positive integer, got ${process.env.BENCH_INBOUND_SECONDS}`);
}
const judged = OFFERED_RATE === TARGET_RATE;
const CONTACTS_PER_TENANT = 10;

interface Receipts {
  received: number;
  duplicates: number;
  latencies: number[];
  seqs: number[];
  lastReceipt: number;
}

interface Blast {
  sent: number;
  accepted: number;
  failed: number;
  firstSend: number;
  lastSend: number;
}

interface InboundRun {
  accepted: number;
  delivered: number;
  stored: number;
  lost: number;
  duplicated: number;
  ratePerS: number;
  storedPerS: number;
  sendRatePerS: number;
  p50: number;
  p99: number;
  /** Send -> published by the node (stored, handed to Socket.IO): the gateway's own share of the latency. */
  publishedP50: number;
  publishedP99: number;
  /** CPU per delivered message over the run (us): the node (every thread) and PostgreSQL's processes. */
  nodeCpuUs: number;
  postgresCpuUs: number;
}

interface CpuWindow {
  node: number;
  postgres: number;
}

function cpuNow(nodePid: number): CpuWindow {
  return { node: cpuSeconds(nodePid), postgres: processesCpuSeconds('postgres') };
}

/** Polls the receivers until every accepted message arrived or nothing new came for `idleMs`. */
async function collect(receivers: Proc[], expected: number, idleMs: number): Promise<Receipts> {
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    const reports = await Promise.all(receivers.map((r) => r.request<Receipts>('report')));
    const merged: Receipts = {
      received: reports.reduce((n, r) => n + r.received, 0),
      duplicates: reports.reduce((n, r) => n + r.duplicates, 0),
      latencies: reports.flatMap((r) => r.latencies),
      seqs: reports.flatMap((r) => r.seqs),
      lastReceipt: Math.max(...reports.map((r) => r.lastReceipt)),
    };
    if (merged.seqs.length >= expected) return merged;
    if (merged.seqs.length !== last) {
      last = merged.seqs.length;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > idleMs) return merged;
    await sleep(250);
  }
}

function summarize(blast: Blast, r: Receipts, stored: number, published: number[] = [], cpu?: { before: CpuWindow; after: CpuWindow }): InboundRun {
  const unique = new Set(r.seqs).size;
  const perMessageUs = (seconds: number) => (unique === 0 ? 0 : (seconds * 1e6) / unique);
  const windowS = Math.max(blast.lastSend - blast.firstSend, r.lastReceipt - blast.firstSend) / 1000;
  return {
    accepted: blast.accepted,
    delivered: unique,
    stored,
    lost: blast.accepted - unique,
    duplicated: r.seqs.length - unique + r.duplicates,
    ratePerS: unique / windowS,
    storedPerS: stored / windowS,
    sendRatePerS: blast.accepted / ((blast.lastSend - blast.firstSend) / 1000),
    p50: quantile(r.latencies, 0.5),
    p99: quantile(r.latencies, 0.99),
    publishedP50: quantile(published, 0.5),
    publishedP99: quantile(published, 0.99),
    nodeCpuUs: cpu === undefined ? 0 : perMessageUs(cpu.after.node - cpu.before.node),
    postgresCpuUs: cpu === undefined ? 0 : perMessageUs(cpu.after.postgres - cpu.before.postgres),
  };
}

export const inboundSuite: Suite = {
  name: 'inbound',
  steps: (quick) => 2 + (quick ? 3 : 5),
  async run(ctx) {
    const tenants = ctx.quick ? 5 : 10;
    const seconds = SECONDS ?? (ctx.quick ? 2 : 8);
    ctx.step(`inbound: linking ${tenants} tenants`);
    const stack = await startMessagingStack(ctx, 'inbound', tenants);
    const simUrl = stack.sim.info.url;
    const contacts = numbers('492', tenants * CONTACTS_PER_TENANT);
    const bareNumbers = numbers('493', tenants);
    await createPhones(simUrl, [...contacts, ...bareNumbers]);
    // Interleaved so consecutive messages go to different tenants.
    const routesTo = (targets: string[]) => contacts.map((from, i) => ({ from, to: targets[i % targets.length] as string }));
    const gatewayRoutes = routesTo(stack.tenants.map((t) => t.number));
    const bareRoutes = routesTo(bareNumbers);

    const clients = await Promise.all([0, 1].map(() => startProc(proc('socket-clients'))));
    for (const c of clients) ctx.defer(() => c.stop());
    await Promise.all(clients.map((c, i) => c.request('connect', { url: stack.node.info.url, tokens: stack.tenants.filter((_, k) => k % 2 === i).map((t) => t.admin.accessToken) })));
    const bare = await startProc(proc('bare-receivers'));
    ctx.defer(() => bare.stop());
    await bare.request('link', { simUrl, numbers: bareNumbers });
    const sender = await startProc(proc('sender'));
    ctx.defer(() => sender.stop());
    const sql = schemaClient(ctx.dbUrl, stack.schema);
    ctx.defer(() => sql.end());

    const blast = (routes: unknown, tag: string, count: number, rate: number) =>
      sender.request<Blast>('blast', { simUrl, routes, count, ratePerS: rate, tag, maxInFlight: 256 });
    ctx.step('inbound: warm-up');
    await Promise.all(clients.map((c) => c.request('reset', { tag: 'warm' })));
    const warm = await blast(gatewayRoutes, 'warm', 1_000, 1_000);
    await collect(clients, warm.accepted, 5_000);
    await stack.node.request('takePublishLatencies');

    const ours: InboundRun[] = [];
    const base: InboundRun[] = [];
    const count = OFFERED_RATE * seconds;
    for (let run = 0; run < ctx.runs; run++) {
      ctx.step(`inbound: run ${run + 1}/${ctx.runs} (${count} messages at ${OFFERED_RATE}/s, then the bare baseline)`);
      const tag = `r${run}x${Date.now().toString(36)}`;
      await Promise.all(clients.map((c) => c.request('reset', { tag })));
      const before = await persistStats(stack.node.info.url);
      const cpuBefore = cpuNow(stack.node.pid);
      const b = await blast(gatewayRoutes, tag, count, OFFERED_RATE);
      const receipts = await collect(clients, b.accepted, 10_000);
      const cpuAfter = cpuNow(stack.node.pid);
      await stack.node.request('drain');
      const published = await stack.node.request<number[]>('takePublishLatencies');
      ctx.note(`inbound run ${run + 1}: ${describePersist(before, await persistStats(stack.node.info.url))}`);
      const [row] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM messages WHERE body LIKE ${`${tag}:%`} AND NOT from_me`;
      ours.push(summarize(b, receipts, Number(row?.n ?? 0), published, { before: cpuBefore, after: cpuAfter }));

      const bareTag = `${tag}b`;
      await bare.request('reset', { tag: bareTag });
      const bb = await blast(bareRoutes, bareTag, count, OFFERED_RATE);
      base.push(summarize(bb, await collect([bare], bb.accepted, 10_000), bb.accepted));
    }
    ctx.raw.inbound = { tenants, contacts: contacts.length, offeredRate: OFFERED_RATE, seconds, ours, bare: base };
    const m = (runs: InboundRun[], pick: (r: InboundRun) => number) => medianOf(runs, pick);
    const rate = m(ours, (r) => r.ratePerS);
    const lost = Math.max(...ours.map((r) => r.lost));
    const duplicated = Math.max(...ours.map((r) => r.duplicated));
    const notStored = Math.max(...ours.map((r) => r.accepted - r.stored));
    return [
      {
        suite: 'inbound',
        figure: `delivered to sockets, ${tenants} tenants, ${OFFERED_RATE}/s offered for ${seconds} s`,
        value: rate,
        unit: 'msgs/s',
        baseline: { name: 'bare protocol clients, no gateway', value: m(base, (r) => r.ratePerS) },
        ratio: ratio(rate, m(base, (r) => r.ratePerS)),
        ...(judged ? { target: '>= 4,900/s sustained (5,000 offered)', met: rate >= TARGET_RATE * 0.98 } : {}),
        note: `sender reached ${m(ours, (r) => r.sendRatePerS).toFixed(0)}/s`,
      },
      { suite: 'inbound', figure: 'stored in PostgreSQL', value: m(ours, (r) => r.storedPerS), unit: 'msgs/s', baseline: { name: 'offered', value: OFFERED_RATE }, ratio: ratio(m(ours, (r) => r.storedPerS), OFFERED_RATE) },
      {
        suite: 'inbound',
        figure: 'end-to-end latency p50 (simulator send -> socket receipt)',
        value: m(ours, (r) => r.p50),
        unit: 'ms',
        baseline: { name: 'bare clients', value: m(base, (r) => r.p50) },
        ratio: ratio(m(ours, (r) => r.p50), m(base, (r) => r.p50)),
      },
      {
        suite: 'inbound',
        figure: 'end-to-end latency p99',
        value: m(ours, (r) => r.p99),
        unit: 'ms',
        baseline: { name: 'bare clients', value: m(base, (r) => r.p99) },
        ratio: ratio(m(ours, (r) => r.p99), m(base, (r) => r.p99)),
        ...(judged ? { target: '< 100 ms', met: m(ours, (r) => r.p99) < 100 } : {}),
      },
      {
        suite: 'inbound',
        figure: 'of which send -> published by the node (stored, handed to Socket.IO), p99',
        value: m(ours, (r) => r.publishedP99),
        unit: 'ms',
        note: `p50 ${m(ours, (r) => r.publishedP50).toFixed(1)} ms; the rest of the end-to-end latency is the socket delivery`,
      },
      {
        suite: 'inbound',
        figure: 'CPU per delivered message: node (all threads) + PostgreSQL',
        value: m(ours, (r) => r.nodeCpuUs + r.postgresCpuUs),
        unit: 'us',
        note: `node ${m(ours, (r) => r.nodeCpuUs).toFixed(0)} us, PostgreSQL ${m(ours, (r) => r.postgresCpuUs).toFixed(0)} us (its processes on this machine); over the run, from /proc`,
      },
      { suite: 'inbound', figure: 'lost (accepted by the network, never delivered), worst run', value: lost, unit: 'msgs', target: '0', met: lost === 0, note: `not stored, worst run: ${notStored}` },
      { suite: 'inbound', figure: 'duplicated (delivered twice), worst run', value: duplicated, unit: 'msgs', target: '0', met: duplicated === 0 },
    ];
  },
};

/** Several autocannon instances at once (one per tenant): summed req/s, median of their p50/p99. */
interface PersistStats {
  batches: number;
  messages: number;
  seconds: number;
}

/** The node's own persistence metrics (wa_persist_batch_*): how the writes were batched and how long each took. */
async function persistStats(nodeUrl: string): Promise<PersistStats> {
  const text = await (await fetch(`${nodeUrl}/metrics`)).text();
  const value = (name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? 0);
  return { batches: value('wa_persist_batch_size_count'), messages: value('wa_persist_batch_size_sum'), seconds: value('wa_persist_batch_duration_seconds_sum') };
}

function describePersist(a: PersistStats, b: PersistStats): string {
  const batches = b.batches - a.batches;
  if (batches === 0) return 'no batches';
  return `${batches} batches, ${((b.messages - a.messages) / batches).toFixed(1)} messages each, ${(((b.seconds - a.seconds) / batches) * 1000).toFixed(1)} ms per batch commit`;
}

async function loadAll(targets: { url: string; headers: Record<string, string>; body: string }[], connections: number, durationS: number): Promise<LoadResult> {
  const results = await Promise.all(targets.map((t) => load({ ...t, method: 'POST', connections, durationS })));
  return {
    rps: results.reduce((n, r) => n + r.rps, 0),
    p50: median(results.map((r) => r.p50)),
    p99: median(results.map((r) => r.p99)),
    non2xx: results.reduce((n, r) => n + r.non2xx, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
    total: results.reduce((n, r) => n + r.total, 0),
    statusCodes: results.reduce<Record<string, number>>((all, r) => {
      for (const [code, n] of Object.entries(r.statusCodes)) all[code] = (all[code] ?? 0) + n;
      return all;
    }, {}),
  };
}

/**
 * Each tenant's actor handles one command at a time (its mailbox), so one tenant's sends are serial
 * round trips to WhatsApp; the node's throughput is across tenants: TENANTS tenants, 2 connections each.
 */
const OUTBOUND_TENANTS = 8;
const CONNECTIONS_PER_TENANT = 2;

export const outboundSuite: Suite = {
  name: 'outbound',
  steps: (quick) => 2 + (quick ? 3 : 5),
  async run(ctx: BenchContext): Promise<Row[]> {
    const durationS = ctx.quick ? 1 : 4;
    ctx.step(`outbound: linking ${OUTBOUND_TENANTS} tenants`);
    const stack = await startMessagingStack(ctx, 'outbound', OUTBOUND_TENANTS);
    const simUrl = stack.sim.info.url;
    const contacts = numbers('494', OUTBOUND_TENANTS);
    await createPhones(simUrl, contacts);
    const gateway = stack.tenants.map((tenant, i) => ({
      url: `${stack.node.info.url}/api/chats/${contacts[i]}@c.us/messages`,
      headers: { authorization: `Bearer ${tenant.admin.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ body: 'outbound bench message' }),
    }));
    const direct = stack.tenants.map((tenant, i) => ({
      url: `${simUrl}/phones/${tenant.number}/messages`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: contacts[i], body: 'outbound bench message' }),
    }));
    ctx.step('outbound: warm-up');
    for (const t of [gateway, direct]) await loadAll(t, CONNECTIONS_PER_TENANT, 1);
    const ours: LoadResult[] = [];
    const base: LoadResult[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      ctx.step(`outbound: run ${run + 1}/${ctx.runs}`);
      const r = await loadAll(gateway, CONNECTIONS_PER_TENANT, durationS);
      if (r.non2xx > 0 || r.errors > 0) throw new Error(`gateway send: ${r.non2xx} non-2xx, ${r.errors} errors (by status: ${JSON.stringify(r.statusCodes)})`);
      ours.push(r);
      base.push(await loadAll(direct, CONNECTIONS_PER_TENANT, durationS));
    }
    ctx.raw.outbound = { tenants: OUTBOUND_TENANTS, connectionsPerTenant: CONNECTIONS_PER_TENANT, durationS, ours, direct: base };
    const rps = medianOf(ours, (r) => r.rps);
    const baseRps = medianOf(base, (r) => r.rps);
    const p50 = medianOf(ours, (r) => r.p50);
    const p99 = medianOf(ours, (r) => r.p99);
    return [
      {
        suite: 'outbound',
        figure: `POST /api/chats/:id/messages, ${OUTBOUND_TENANTS} tenants x ${CONNECTIONS_PER_TENANT} connections`,
        value: rps,
        unit: 'msgs/s',
        baseline: { name: 'simulator send API directly, same phones', value: baseRps },
        ratio: ratio(rps, baseRps),
      },
      { suite: 'outbound', figure: 'send latency p50', value: p50, unit: 'ms', baseline: { name: 'simulator directly', value: medianOf(base, (r) => r.p50) }, ratio: ratio(p50, medianOf(base, (r) => r.p50)) },
      { suite: 'outbound', figure: 'send latency p99', value: p99, unit: 'ms', baseline: { name: 'simulator directly', value: medianOf(base, (r) => r.p99) }, ratio: ratio(p99, medianOf(base, (r) => r.p99)) },
    ];
  },
};
