import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { buildForBench } from './lib/build.js';
import { newSecret, type BenchContext, type Suite } from './lib/context.js';
import { markdownTable, writeReport, type Row } from './lib/report.js';
import { machine } from './lib/sys.js';
import { densitySuite } from './suites/density.js';
import { failoverSuite } from './suites/failover.js';
import { fanoutSuite } from './suites/fanout.js';
import { inboundSuite, outboundSuite } from './suites/messaging.js';
import { restSuite } from './suites/rest.js';
import { webhooksSuite } from './suites/webhooks.js';
import { wwebjsSuite } from './suites/wwebjs.js';

/**
 * `npm run bench [-- --quick] [-- --only rest,inbound]`: builds the node to JS, runs the chosen suites
 * with a progress bar, prints a Markdown table and writes bench/results/*.json. See bench/README.md.
 */

const SUITES: Suite[] = [restSuite, inboundSuite, outboundSuite, densitySuite, fanoutSuite, webhooksSuite, wwebjsSuite, failoverSuite];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    runs: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help === true) {
  console.log(`npm run bench [-- --quick] [-- --only ${SUITES.map((s) => s.name).join(',')}] [-- --runs N]`);
  process.exit(0);
}

const only = values.only?.split(',').map((s) => s.trim()).filter((s) => s !== '');
const unknown = only?.filter((name) => !SUITES.some((s) => s.name === name)) ?? [];
if (unknown.length > 0) {
  console.error(`unknown suite(s): ${unknown.join(', ')}; known: ${SUITES.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const chosen = SUITES.filter((s) => only === undefined || only.includes(s.name));
const quick = values.quick === true;
const runs = values.runs === undefined ? (quick ? 3 : 5) : Math.max(1, Number(values.runs));

const bar = new cliProgress.SingleBar(
  { format: 'bench [{bar}] {percentage}% | {value}/{total} | {elapsed}s | {label}', hideCursor: true, etaBuffer: 5, clearOnComplete: true },
  cliProgress.Presets.shades_classic,
);
const cleanups: (() => Promise<void>)[] = [];
const raw: Record<string, unknown> = {};
const ctx: BenchContext = {
  quick,
  runs,
  dbUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  jwtSecret: newSecret(),
  step: (label) => bar.increment(1, { label }),
  note: (text) => {
    bar.stop();
    console.log(text);
    bar.start(bar.getTotal(), Math.max(0, (bar as unknown as { value: number }).value), { label: '' });
  },
  raw,
  defer: (cleanup) => cleanups.push(cleanup),
};

const startedAt = new Date();
const t0 = performance.now();
const rows: Row[] = [];
bar.start(1 + chosen.reduce((n, s) => n + s.steps(quick), 0), 0, { label: 'building the node to JavaScript' });
await buildForBench();
bar.increment(1, { label: 'built' });
let failed = false;
const suiteSeconds: Record<string, number> = {};
const suiteLoad: Record<string, number> = {};
for (const suite of chosen) {
  const suiteStart = performance.now();
  try {
    rows.push(...(await suite.run(ctx)));
  } catch (err) {
    failed = true;
    raw[`${suite.name}_error`] = err instanceof Error ? err.message : String(err);
    rows.push({ suite: suite.name, figure: 'suite failed', value: null, unit: '', note: (err instanceof Error ? err.message : String(err)).slice(0, 200) });
  } finally {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    suiteSeconds[suite.name] = Math.round((performance.now() - suiteStart) / 1000);
    // The machine may be shared: its load beside each suite's figures says how much to trust them.
    suiteLoad[suite.name] = Number(loadavg()[0]?.toFixed(1));
  }
}
raw.suiteSeconds = suiteSeconds;
raw.loadAverage1mAfterSuite = suiteLoad;
bar.stop();

const table = markdownTable(rows);
const durationS = (performance.now() - t0) / 1000;
const m = machine();
console.log(`\n## wa-tenants bench (${quick ? 'quick' : 'full'}, ${runs} runs per median, ${durationS.toFixed(0)} s)\n`);
console.log(`Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, Node ${m.node}, ${m.platform}\n`);
console.log(table);
console.log(`\nSeconds per suite (1-minute load average after it): ${Object.entries(suiteSeconds).map(([name, sec]) => `${name} ${sec} (${suiteLoad[name]})`).join(', ')}`);
const file = await writeReport(new URL('results/', import.meta.url).pathname, {
  startedAt: startedAt.toISOString(),
  durationS,
  mode: quick ? 'quick' : 'full',
  suites: chosen.map((s) => s.name),
  machine: m,
  rows,
  raw,
  table,
});
console.log(`\nwritten: ${file}`);
process.exit(failed ? 1 : 0);
