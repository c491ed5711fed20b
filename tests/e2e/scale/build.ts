import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The server as JavaScript, the way a deployment runs it: every file of src/ (and the node entry of
 * these tests) transpiled one to one, with the assets beside them (SQL migrations ...), under
 * node_modules/.cache so packages resolve. From sources, each actor worker registers tsx and compiles
 * the actor code again: seconds of CPU per worker on this 2-core machine, which starves the very event
 * loops whose lease renewals these tests watch. As in bench/lib/build.ts, the two actor entries are
 * also bundled into one file each, so a worker loads one module instead of about a hundred.
 * esbuild is tsx's compiler (installed with tsx). Returns the node entry; `cleanup` removes the build.
 */
export async function buildNodeEntry(): Promise<{ entry: string; cleanup(): Promise<void> }> {
  const base = join(ROOT, 'node_modules', '.cache', 'wa-scale-e2e');
  await mkdir(base, { recursive: true });
  const out = await mkdtemp(join(base, 'build-'));
  // Assets first (directories too), then the JavaScript beside them.
  await cp(join(ROOT, 'src'), join(out, 'src'), { recursive: true, filter: (path) => !path.endsWith('.ts') });
  await build({
    entryPoints: [`${ROOT}src/**/*.ts`, `${ROOT}tests/e2e/scale/node-process.ts`],
    outbase: ROOT,
    outdir: out,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
  });
  await build({
    entryPoints: { 'src/actors/runtime/worker-entry': `${ROOT}src/actors/runtime/worker-entry.ts`, 'src/actors/session-actor': `${ROOT}src/actors/session-actor.ts` },
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Loaded only by a wwebjs actor (lazily), or optional native speed-ups of ws.
    external: ['whatsapp-web.js', 'puppeteer', 'puppeteer-core', 'bufferutil', 'utf-8-validate'],
    // CommonJS dependencies (ws, pino) call require(): give the ES module bundle one.
    banner: { js: "import { createRequire as __scaleRequire } from 'node:module'; const require = __scaleRequire(import.meta.url);" },
    allowOverwrite: true,
    logLevel: 'error',
  });
  // Built files are ES modules; node must not read them as CommonJS.
  await writeFile(join(out, 'package.json'), '{ "type": "module" }\n');
  return { entry: join(out, 'tests', 'e2e', 'scale', 'node-process.js'), cleanup: () => rm(out, { recursive: true, force: true }) };
}
