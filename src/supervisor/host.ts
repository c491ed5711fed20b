import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { SpawnTransport } from './transport.js';
import { spawnChildProcessTransport } from './transports/child-process.js';
import { spawnInProcessTransport } from './transports/in-process.js';
import { spawnWorkerTransport } from './transports/worker.js';

export type Isolation = 'worker' | 'process' | 'in-process';

export interface HostOptions {
  /** Where each actor runs (ISOLATION); `in-process` is for tests only. */
  isolation: Isolation;
  /** Heap limit of one actor in MB (ACTOR_MEMORY_MB). Default 64. */
  memoryMb?: number;
  /** Extra Node flags for workers and child processes. */
  execArgv?: string[];
  /** Environment of workers and child processes (default: this process's). */
  env?: Record<string, string>;
}

const runtimeDir = new URL('../actors/runtime/', import.meta.url);
// Running from sources (tsx, vitest) this module is a .ts file, and so are the entries it starts.
const fromSources = import.meta.url.endsWith('.ts');

function tsxLoaderUrl(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}

/**
 * Makes the transport for each new actor, per the isolation mode. From sources, TypeScript entries need
 * tsx: a child process gets `--import tsx`; a worker cannot use that flag on Node 20 (see
 * worker-tsx-boot.mjs), so it starts from a small JS boot file that registers tsx itself.
 */
export function createActorHost(opts: HostOptions): SpawnTransport {
  const memoryMb = opts.memoryMb ?? 64;
  const execArgv = opts.execArgv ?? [];
  const env = opts.env;
  switch (opts.isolation) {
    case 'in-process':
      return spawnInProcessTransport;
    case 'worker': {
      const entry = new URL('worker-entry.ts', runtimeDir);
      const worker = fromSources
        ? { entry: new URL('worker-tsx-boot.mjs', runtimeDir), workerData: { entry: entry.href } }
        : { entry: new URL('worker-entry.js', runtimeDir) };
      return () => spawnWorkerTransport({ ...worker, execArgv, memoryMb, env });
    }
    case 'process': {
      const entry = new URL(fromSources ? 'child-entry.ts' : 'child-entry.js', runtimeDir);
      const flags = fromSources ? ['--import', tsxLoaderUrl(), ...execArgv] : execArgv;
      return () => spawnChildProcessTransport({ entry, execArgv: flags, memoryMb, env });
    }
  }
}
