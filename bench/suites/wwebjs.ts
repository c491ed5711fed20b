import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WwebjsEngine } from '../../src/actors/engines/wwebjs.js';
import { DEFAULT_WEB_VERSION } from '../../src/actors/engines/wwebjs-options.js';
import { findProfileProcesses, killProcessGroup, killSession } from '../../src/actors/engines/wwebjs-processes.js';
import { createLogger } from '../../src/domain/log.js';
import { sleep, type BenchContext, type Suite } from '../lib/context.js';
import { ratio, type Row } from '../lib/report.js';
import { medianOf } from '../lib/stats.js';
import { MB, pssBytes, rssBytes } from '../lib/sys.js';

/**
 * Memory of one idle wwebjs session's Chromium: the real engine (our flags, setpriv, Puppeteer through
 * whatsapp-web.js) on a local page, since WhatsApp Web cannot be reached here: whatsapp-web.js' local
 * web-version cache answers its request for web.whatsapp.com with a small page of ours. Measured as PSS
 * summed over the profile's processes (summed RSS counts shared pages once per process), after the page
 * settled, while whatsapp-web.js waits for WhatsApp Web's code to appear. Baseline in the same run: a
 * bare headless Chromium on about:blank with Chromium's own defaults. WAHA publishes 400 MB per WEBJS
 * session (with WhatsApp Web loaded): shown beside it as the target, not measured here.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const WAHA_WEBJS_MB = 400;
/** After the browser appears: start-up churn over, the local page loaded (whatsapp-web.js gives up after 30 s). */
const SETTLE_MS = 8_000;
/** The quick run's settle time: most of the start-up churn is over after 5 s. */
const QUICK_SETTLE_MS = 5_000;
const SAMPLES = 3;
const LOCAL_PAGE = '<!doctype html><html><head><title>local page</title></head><body><h1>wa-tenants bench</h1><p>Not WhatsApp Web.</p></body></html>';

interface Sample {
  pss: number;
  rss: number;
  processes: number;
}

/** PSS and RSS summed over processes; a process that exits meanwhile counts as nothing. */
function measure(pids: number[]): Sample {
  let pss = 0;
  let rss = 0;
  let processes = 0;
  for (const pid of pids) {
    try {
      pss += pssBytes(pid);
      rss += rssBytes(pid);
      processes += 1;
    } catch {
      // gone between the scan and the read
    }
  }
  return { pss, rss, processes };
}

async function settledSample(profileDir: string, settleMs: number): Promise<Sample> {
  const until = Date.now() + 60_000;
  while ((await findProfileProcesses(profileDir)).length === 0) {
    if (Date.now() > until) throw new Error('Chromium did not start within 60 s');
    await sleep(100);
  }
  await sleep(settleMs);
  const samples: Sample[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    samples.push(measure(await findProfileProcesses(profileDir)));
    await sleep(1_000);
  }
  return { pss: medianOf(samples, (s) => s.pss), rss: medianOf(samples, (s) => s.rss), processes: medianOf(samples, (s) => s.processes) };
}

async function engineRun(dir: string, settleMs: number): Promise<Sample> {
  const cache = join(dir, 'web-cache');
  await mkdir(cache, { recursive: true });
  await writeFile(join(cache, `${DEFAULT_WEB_VERSION}.html`), LOCAL_PAGE);
  const engine = new WwebjsEngine({
    tenantId: 'bench',
    credentials: null,
    log: createLogger({ level: 'silent' }),
    chromiumPath: CHROMIUM,
    dataPath: join(dir, 'data'),
    auth: { kind: 'none' },
    webVersionCache: { type: 'local', path: cache, strict: true },
    initTimeoutMs: 120_000,
    reconnect: { maxAttempts: 1 },
  });
  await engine.start();
  try {
    return await settledSample(engine.profileDir, settleMs);
  } finally {
    await engine.stop();
  }
}

/** Chromium as it comes: headless, its default flags, about:blank. */
async function bareRun(dir: string, settleMs: number): Promise<Sample> {
  const profile = join(dir, 'bare');
  const args = ['--headless=new', `--user-data-dir=${profile}`, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), 'about:blank'];
  const child = spawn(CHROMIUM, args, { detached: true, stdio: 'ignore' });
  try {
    return await settledSample(profile, settleMs);
  } finally {
    if (child.pid !== undefined) killProcessGroup(child.pid);
    await killSession(profile, null);
  }
}

export const wwebjsSuite: Suite = {
  name: 'wwebjs',
  steps: (quick) => 2 * (quick ? 2 : 3),
  async run(ctx: BenchContext): Promise<Row[]> {
    if (!existsSync(CHROMIUM)) {
      return [{ suite: 'wwebjs', figure: 'one idle Chromium session (PSS)', value: null, unit: 'MB', note: `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)` }];
    }
    const runs = Math.min(ctx.runs, ctx.quick ? 2 : 3);
    const settleMs = ctx.quick ? QUICK_SETTLE_MS : SETTLE_MS;
    const dir = await mkdtemp(join(tmpdir(), 'bench-wwebjs-'));
    ctx.defer(() => rm(dir, { recursive: true, force: true }));
    const engineRuns: Sample[] = [];
    const bareRuns: Sample[] = [];
    for (let i = 0; i < runs; i++) {
      ctx.step(`wwebjs: engine session on a local page (${i + 1}/${runs})`);
      engineRuns.push(await engineRun(join(dir, `engine-${i}`), settleMs));
      ctx.step(`wwebjs: bare Chromium baseline (${i + 1}/${runs})`);
      bareRuns.push(await bareRun(join(dir, `bare-${i}`), settleMs));
    }
    ctx.raw.wwebjs = { engineRuns, bareRuns };
    const pss = medianOf(engineRuns, (r) => r.pss) / MB;
    const bare = medianOf(bareRuns, (r) => r.pss) / MB;
    return [
      {
        suite: 'wwebjs',
        figure: 'one idle Chromium session (PSS)',
        value: pss,
        unit: 'MB',
        baseline: { name: 'bare headless Chromium on about:blank', value: bare },
        ratio: ratio(pss, bare),
        target: `<= ${WAHA_WEBJS_MB} MB (WAHA, published, per WEBJS session)`,
        met: pss <= WAHA_WEBJS_MB,
        note:
          `${medianOf(engineRuns, (r) => r.processes)} processes, summed RSS ${(medianOf(engineRuns, (r) => r.rss) / MB).toFixed(0)} MB; ` +
          'our flags, on a local page: WhatsApp Web itself cannot be loaded here (its heap is not in this figure)',
      },
    ];
  },
};
