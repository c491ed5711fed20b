import { cp, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * The server as JavaScript, the way a deployment runs it (`npm run build` -> build/src, `npm start`,
 * the container image), and the way the bench and the scale tests run it:
 * - every file of src/ (and `extraEntries`) transpiled one to one, keeping the layout, so paths relative
 *   to a module (migrations, actor entries, the console) hold;
 * - the two files every actor worker loads (`worker-entry`, `session-actor`) bundled into one file each,
 *   over their transpiled twins: a worker then loads one module instead of about a hundred, and never
 *   registers a TypeScript loader (from sources that costs ~1 s of CPU and ~6 MB per actor);
 * - the non-TypeScript files of src/ copied beside them (SQL migrations, the test client page).
 * esbuild is tsx's own compiler (installed with tsx).
 */
export const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface BuildServerOptions {
  /** Output folder; emptied first. `src/` lands in `<outDir>/src`. */
  outDir: string;
  /** More TypeScript files to transpile one to one (globs, from the project root), e.g. bench helpers. */
  extraEntries?: string[];
  /** Minify the two actor bundles (smaller per-worker heap; stack traces name minified functions). */
  minifyActors?: boolean;
}

export async function buildServer(opts: BuildServerOptions): Promise<void> {
  const outDir = resolve(opts.outDir);
  await rm(outDir, { recursive: true, force: true });
  // Assets first (directories too), then the JavaScript beside them.
  await cp(join(ROOT, 'src'), join(outDir, 'src'), { recursive: true, filter: (path) => !path.endsWith('.ts') });
  await build({
    entryPoints: [`${ROOT}src/**/*.ts`, ...(opts.extraEntries ?? []).map((glob) => `${ROOT}${glob}`)],
    outbase: ROOT,
    outdir: outDir,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'error',
  });
  await build({
    entryPoints: { 'src/actors/runtime/worker-entry': `${ROOT}src/actors/runtime/worker-entry.ts`, 'src/actors/session-actor': `${ROOT}src/actors/session-actor.ts` },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Loaded only by a wwebjs actor (lazily), or optional native speed-ups of ws.
    external: ['whatsapp-web.js', 'puppeteer', 'puppeteer-core', 'bufferutil', 'utf-8-validate'],
    // CommonJS dependencies (ws, pino) call require(): give the ES module bundle one.
    banner: { js: "import { createRequire as __actorRequire } from 'node:module'; const require = __actorRequire(import.meta.url);" },
    allowOverwrite: true,
    minify: opts.minifyActors === true,
    sourcemap: 'linked',
    logLevel: 'error',
  });
  // Built files are ES modules; node must not read them as CommonJS.
  await writeFile(join(outDir, 'package.json'), '{ "type": "module" }\n');
}

/** `npm run build` (after the console): the server into build/ (build/src/main.js is what `npm start` runs). */
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  await buildServer({ outDir: join(ROOT, 'build') });
  console.log(`server built into build/ in ${Date.now() - started} ms (npm start runs build/src/main.js)`);
}
