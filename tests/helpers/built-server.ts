import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, buildServer } from '../../scripts/build-server.js';

/**
 * The server as JavaScript, the way a deployment runs it (scripts/build-server.ts), with `extraEntries`
 * (test files, from the project root) transpiled beside it, under node_modules/.cache so packages
 * resolve. For tests of what only a built server does (workers booting the actor bundle with the code
 * cache), and for tests that start many actors: from sources each actor worker registers tsx and compiles
 * the actor code again, seconds of CPU per worker on a 2-core machine. `cleanup` removes the build.
 */
export async function buildServerForTests(extraEntries: string[]): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const base = join(ROOT, 'node_modules', '.cache', 'wa-built-server');
  await mkdir(base, { recursive: true });
  const dir = await mkdtemp(join(base, 'build-'));
  await buildServer({ outDir: dir, extraEntries });
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
