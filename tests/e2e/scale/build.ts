import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, buildServer } from '../../../scripts/build-server.js';

/**
 * The server as JavaScript, the way a deployment runs it (scripts/build-server.ts), with the node entry
 * of these tests beside it, under node_modules/.cache so packages resolve. From sources, each actor
 * worker registers tsx and compiles the actor code again: seconds of CPU per worker on this 2-core
 * machine, which starves the very event loops whose lease renewals these tests watch. Returns the node
 * entry; `cleanup` removes the build.
 */
export async function buildNodeEntry(): Promise<{ entry: string; cleanup(): Promise<void> }> {
  const base = join(ROOT, 'node_modules', '.cache', 'wa-scale-e2e');
  await mkdir(base, { recursive: true });
  const out = await mkdtemp(join(base, 'build-'));
  await buildServer({ outDir: out, extraEntries: ['tests/e2e/scale/node-process.ts'] });
  return { entry: join(out, 'tests', 'e2e', 'scale', 'node-process.js'), cleanup: () => rm(out, { recursive: true, force: true }) };
}
