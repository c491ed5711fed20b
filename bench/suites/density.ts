import { proc } from '../lib/build.js';
import { dropSchema, numbers, schemaName, sleep, type BenchContext, type Suite } from '../lib/context.js';
import { startProc, type Proc } from '../lib/ipc.js';
import { ratio, type Row } from '../lib/report.js';
import { createPhones, startNodeProc, type NodeInfo } from '../lib/stack.js';
import { medianOf } from '../lib/stats.js';
import { MB, pssBytes, rssBytes } from '../lib/sys.js';

/**
 * Density: resident memory of one node with 10, 100 (and, in the full run, 1000) idle linked sandbox
 * sessions, one worker-thread actor each; the cost per session against a bare worker thread (and a bare
 * child process) measured in the same run; and the time for a restarted node to bring every session back
 * to connected (process start to the last `connected`).
 */

/** A restore still running after this is reported as not finished. */
const RESTORE_TIMEOUT_MS = 300_000;

interface LevelRun {
  sessions: number;
  rssIdleNode: number;
  rss: number;
  pss: number;
  perSession: number;
  restoreMs: number;
  stopMs: number;
}

async function measure(pid: number, node: Proc<NodeInfo>): Promise<{ rss: number; pss: number }> {
  await sleep(1_500);
  await node.request('gc');
  await sleep(500);
  return { rss: rssBytes(pid), pss: pssBytes(pid) };
}

/**
 * One level: a fresh node, N sessions linked through the QR flow once, then `runs` restarts, each
 * measured (time to all connected, then memory once idle). Linking is slow (a QR image per session,
 * encoded by the node and decoded by the bench) and is not itself a figure.
 */
async function level(ctx: BenchContext, sessions: number, runs: number): Promise<{ linkMs: number; runs: LevelRun[] }> {
  const schema = schemaName('density');
  const sim = await startProc<{ url: string }>(proc('sim-proc'));
  let node: Proc<NodeInfo> | undefined;
  try {
    node = await startNodeProc(ctx, { schema, simUrl: sim.info.url });
    const idle = await measure(node.pid, node);
    const tenants = await node.request<string[]>('createTenants', { count: sessions, prefix: 'density' });
    const phones = numbers('495', sessions);
    await createPhones(sim.info.url, phones);
    const linked = await node.request<{ ms: number }>('link', {
      tenants: tenants.map((tenantId, i) => ({ tenantId, number: phones[i] as string })),
      simUrl: sim.info.url,
      concurrency: 32,
    });
    const out: LevelRun[] = [];
    for (let run = 0; run < runs; run++) {
      ctx.step(`density: ${sessions} sessions, restart ${run + 1}/${runs}`);
      const stopStart = performance.now();
      await node.stop(300_000);
      const stopMs = performance.now() - stopStart;
      const restoreStart = performance.now();
      node = await startNodeProc(ctx, { schema, simUrl: sim.info.url, restore: true });
      const waited = await node.request<{ connected: number; complete: boolean }>('waitConnected', { count: sessions, timeoutMs: RESTORE_TIMEOUT_MS });
      // A restore that did not finish is reported as such, not as a time.
      const restoreMs = waited.complete ? performance.now() - restoreStart : Number.NaN;
      if (!waited.complete) ctx.note(`density: only ${waited.connected}/${sessions} sessions connected ${RESTORE_TIMEOUT_MS / 1000} s after the restart`);
      const m = await measure(node.pid, node);
      out.push({ sessions, rssIdleNode: idle.rss, rss: m.rss, pss: m.pss, perSession: (m.rss - idle.rss) / sessions, restoreMs, stopMs });
    }
    return { linkMs: linked.ms, runs: out };
  } finally {
    await node?.stop(300_000);
    await sim.stop();
    await dropSchema(ctx.dbUrl, schema);
  }
}

/** The quick run measures 100 sessions only (10 and 1000 come with the full run): it must stay under 5 minutes. */
const levelsFor = (quick: boolean) => (quick ? [100] : [10, 100, 1000]);
/**
 * 1000 sessions take minutes per run: one run there; 100 sessions at most 3, 2 in the quick run (a
 * restart with its memory reading takes ~20 s on a slow machine, and the full run must stay under 20
 * minutes, the quick one under 5). Said in the table.
 */
const runsFor = (ctx: BenchContext, sessions: number) => (sessions >= 1000 ? 1 : sessions >= 100 ? Math.min(ctx.quick ? 2 : 3, ctx.runs) : ctx.runs);

export const densitySuite: Suite = {
  name: 'density',
  steps: (quick) => 1 + levelsFor(quick).reduce((n, l) => n + 1 + (l >= 1000 ? 1 : l >= 100 ? (quick ? 2 : 3) : 5), 0),
  async run(ctx) {
    ctx.step('density: bare worker thread and child process');
    const bare = await startProc(proc('bare-workers'), { execArgv: ['--expose-gc'] });
    ctx.defer(() => bare.stop());
    const workerRuns: number[] = [];
    const childRuns: number[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      workerRuns.push((await bare.request<{ perWorkerBytes: number }>('workers', { count: 50 })).perWorkerBytes);
      childRuns.push((await bare.request<{ perChildPssBytes: number }>('children', { count: 5 })).perChildPssBytes);
    }
    const bareWorker = medianOf(workerRuns, (v) => v) / MB;
    const bareChild = medianOf(childRuns, (v) => v) / MB;

    const results: Record<number, LevelRun[]> = {};
    const linkMs: Record<number, number> = {};
    for (const sessions of levelsFor(ctx.quick)) {
      ctx.step(`density: linking ${sessions} sessions`);
      const done = await level(ctx, sessions, runsFor(ctx, sessions));
      results[sessions] = done.runs;
      linkMs[sessions] = done.linkMs;
    }
    ctx.raw.density = { linkMs, bareWorkerMb: workerRuns.map((v) => v / MB), bareChildPssMb: childRuns.map((v) => v / MB), results };

    const rows: Row[] = [
      { suite: 'density', figure: 'bare worker thread (idle, nothing of ours)', value: bareWorker, unit: 'MB', note: 'RSS growth per thread' },
      { suite: 'density', figure: 'bare child process (idle node -e)', value: bareChild, unit: 'MB', note: 'PSS per process' },
    ];
    const levels = levelsFor(ctx.quick);
    const top = levels[levels.length - 1] as number;
    for (const sessions of levels) {
      const runs = results[sessions] as LevelRun[];
      const perSession = medianOf(runs, (r) => r.perSession) / MB;
      const restoreS = runs.every((r) => Number.isFinite(r.restoreMs)) ? medianOf(runs, (r) => r.restoreMs) / 1000 : null;
      const runsNote = `${runs.length} run${runs.length === 1 ? '' : 's'}`;
      rows.push(
        { suite: 'density', figure: `node RSS with ${sessions} idle linked sessions`, value: medianOf(runs, (r) => r.rss) / MB, unit: 'MB', note: `PSS ${(medianOf(runs, (r) => r.pss) / MB).toFixed(0)} MB; idle node ${(medianOf(runs, (r) => r.rssIdleNode) / MB).toFixed(0)} MB; ${runsNote}` },
        {
          suite: 'density',
          figure: `memory per session at ${sessions}`,
          value: perSession,
          unit: 'MB',
          baseline: { name: 'bare worker thread', value: bareWorker },
          ratio: ratio(perSession, bareWorker),
          ...(sessions === top ? { target: '<= 10 MB per actor', met: perSession <= 10 } : {}),
        },
        {
          suite: 'density',
          figure: `restart -> all ${sessions} sessions connected`,
          value: restoreS,
          unit: 's',
          note: `${runsNote}; graceful stop ${(medianOf(runs, (r) => r.stopMs) / 1000).toFixed(1)} s; linking them through the QR flow took ${((linkMs[sessions] ?? 0) / 1000).toFixed(0)} s`,
          ...(sessions === top ? { target: sessions >= 1000 ? '<= 60 s' : '<= 60 s (target is for 1000: run without --quick)', met: restoreS !== null && restoreS <= 60 } : {}),
        },
      );
    }
    return rows;
  },
};
