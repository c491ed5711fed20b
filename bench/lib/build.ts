import { fileURLToPath } from 'node:url';
import { buildServer } from '../../scripts/build-server.js';

/**
 * The node under test runs as JavaScript, built the way a deployment is (scripts/build-server.ts: src/
 * transpiled one to one, the actor entries bundled), with the bench's own helpers beside it, into
 * bench/results/build/. From sources every actor worker would register tsx and compile TypeScript itself
 * (~1 s of CPU and ~6 MB per actor): 1000-session figures would measure the loader, not the gateway.
 */
export const BUILD_DIR = fileURLToPath(new URL('../results/build/', import.meta.url));

/** Path of a built bench helper, e.g. `proc('node-proc')`. */
export function proc(name: string): string {
  return `${BUILD_DIR}bench/procs/${name}.js`;
}

export async function buildForBench(): Promise<void> {
  await buildServer({ outDir: BUILD_DIR, extraEntries: ['bench/procs/*.ts', 'bench/lib/*.ts'], minifyActors: true });
}
