import { cp, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Transpiles src/ and bench/ to JavaScript in bench/results/build/, file by file, keeping the layout (like
 * a tsc build). The node under test then runs as plain JS: its actors start from worker-entry.js and
 * session-actor.js instead of registering tsx in every worker, which costs ~1 s of CPU per actor and
 * would make 1000-session figures measure the TypeScript loader rather than the gateway.
 * esbuild is tsx's own compiler (a dependency of tsx).
 */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BUILD_DIR = fileURLToPath(new URL('../results/build/', import.meta.url));

/** Path of a built bench helper, e.g. `proc('node-proc')`. */
export function proc(name: string): string {
  return `${BUILD_DIR}bench/procs/${name}.js`;
}

export async function buildForBench(): Promise<void> {
  await rm(BUILD_DIR, { recursive: true, force: true });
  await build({
    entryPoints: [`${ROOT}src/**/*.ts`, `${ROOT}bench/procs/*.ts`, `${ROOT}bench/lib/*.ts`],
    outbase: ROOT,
    outdir: BUILD_DIR,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
  });
  // Each actor is a worker thread that loads its whole module graph again: one file per entry, with its
  // dependencies inlined, boots faster and keeps less in each worker than ~100 small ES modules. Both
  // files replace their transpiled twins at the paths the supervisor loads them from.
  await build({
    entryPoints: { 'src/actors/runtime/worker-entry': `${ROOT}src/actors/runtime/worker-entry.ts`, 'src/actors/session-actor': `${ROOT}src/actors/session-actor.ts` },
    outdir: BUILD_DIR,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Loaded only by a wwebjs actor (lazily), or optional native speed-ups of ws.
    external: ['whatsapp-web.js', 'puppeteer', 'puppeteer-core', 'bufferutil', 'utf-8-validate'],
    // CommonJS dependencies (ws, pino) call require(): give the ES module bundle one.
    banner: { js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);" },
    allowOverwrite: true,
    minify: true,
    logLevel: 'error',
  });
  // Files the code reads at run time that are not TypeScript (SQL migrations, the test client page).
  await cp(`${ROOT}src`, `${BUILD_DIR}src`, { recursive: true, filter: (from) => !from.endsWith('.ts') });
  // Built files are ES modules; node must not read them as CommonJS.
  await writeFile(`${BUILD_DIR}package.json`, '{ "type": "module" }\n');
}
