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
  // Files the code reads at run time that are not TypeScript (SQL migrations, the test client page).
  await cp(`${ROOT}src`, `${BUILD_DIR}src`, { recursive: true, filter: (from) => !from.endsWith('.ts') });
  // Built files are ES modules; node must not read them as CommonJS.
  await writeFile(`${BUILD_DIR}package.json`, '{ "type": "module" }\n');
}
