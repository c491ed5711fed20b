import { cp, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

/**
 * The server as JavaScript, the way a deployment runs it (`npm run build` -> build/src, `npm start`,
 * the container image), and the way the bench and the scale tests run it:
 * - every file of src/ (and `extraEntries`) transpiled one to one, keeping the layout, so paths relative
 *   to a module (migrations, actor entries, the console) hold;
 * - the actor code bundled: for worker threads one CommonJS file (`actor-bundle.cjs`, the runtime and the
 *   session actor) and the boot file that compiles it with the node's code cache (`worker-boot.cjs`);
 *   for child processes the session actor as one ES module over its transpiled twin. An actor then
 *   loads one module instead of about a hundred, and never registers a TypeScript loader (from sources
 *   that costs ~1 s of CPU and ~6 MB per actor);
 * - the non-TypeScript files of src/ copied beside them (SQL migrations, the test client page).
 * esbuild is tsx's own compiler (installed with tsx).
 */
export const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface BuildServerOptions {
  /** Output folder; emptied first. `src/` lands in `<outDir>/src`. */
  outDir: string;
  /** More TypeScript files to transpile one to one (globs, from the project root), e.g. bench helpers. */
  extraEntries?: string[];
  /** Minify the actor bundles (smaller per-worker heap; stack traces name minified functions). */
  minifyActors?: boolean;
}

export async function buildServer(opts: BuildServerOptions): Promise<void> {
  const outDir = resolve(opts.outDir);
  await rm(outDir, { recursive: true, force: true });
  // Assets first (directories too), then the JavaScript beside them.
  await cp(join(ROOT, 'src'), join(outDir, 'src'), { recursive: true, filter: (path) => !path.endsWith('.ts') && !path.endsWith('.cts') });
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
  const actorCode: BuildOptions = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    // Loaded only by a wwebjs actor (lazily), or optional native speed-ups of ws.
    external: ['whatsapp-web.js', 'puppeteer', 'puppeteer-core', 'bufferutil', 'utf-8-validate'],
    allowOverwrite: true,
    minify: opts.minifyActors === true,
    sourcemap: 'linked',
    logLevel: 'error',
  };
  // The session actor as one ES module over its transpiled twin: what a child-process actor imports.
  await build({
    ...actorCode,
    entryPoints: { 'src/actors/session-actor': `${ROOT}src/actors/session-actor.ts` },
    outdir: outDir,
    format: 'esm',
    // CommonJS dependencies (ws, pino) call require(): give the ES module bundle one.
    banner: { js: "import { createRequire as __actorRequire } from 'node:module'; const require = __actorRequire(import.meta.url);" },
  });
  // What a worker-thread actor runs: a small CommonJS boot file and the actor bundle it compiles with the
  // node's code cache (src/actors/runtime/worker-boot.cts).
  await build({
    entryPoints: [`${ROOT}src/actors/runtime/worker-boot.cts`],
    outdir: join(outDir, 'src/actors/runtime'),
    outExtension: { '.js': '.cjs' },
    bundle: false,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'error',
  });
  await build({
    ...actorCode,
    entryPoints: { 'src/actors/runtime/actor-bundle': `${ROOT}src/actors/runtime/actor-bundle.ts` },
    outdir: outDir,
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
    // import.meta.url of the bundled modules: the bundle's own URL (worker-boot passes its __filename).
    define: { 'import.meta.url': '__bundleUrl' },
    banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    // A native import() cannot run in code compiled by node:vm without an experimental flag: external
    // modules are loaded with require() (whatsapp-web.js is CommonJS).
    supported: { 'dynamic-import': false },
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
