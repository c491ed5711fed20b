import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BootData, BootMessage } from '../actors/runtime/boot-message.js';
import { CodeCache, type CodeCacheStats } from './code-cache.js';
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

export interface ActorHost {
  /** Makes the transport of a new actor. */
  spawn: SpawnTransport;
  /** How this node's actor workers compiled their code; undefined where there is no code cache. */
  codeCache(): CodeCacheStats | undefined;
}

/**
 * Makes the transport for each new actor, per the isolation mode.
 * - Built (JavaScript), a worker starts from worker-boot.cjs, which compiles the actor bundle with this
 *   node's V8 code cache (see worker-boot.cts). A warm-up worker, started with the host, makes the
 *   cache; it lives here, for the node's lifetime.
 * - From sources, TypeScript entries need tsx: a child process gets `--import tsx`; a worker cannot use
 *   that flag on Node 20 (see worker-tsx-boot.mjs), so it starts from a small JS boot file that
 *   registers tsx itself.
 */
export function createActorHost(opts: HostOptions): ActorHost {
  const memoryMb = opts.memoryMb ?? 64;
  const execArgv = opts.execArgv ?? [];
  const env = opts.env;
  const noCache = () => undefined;
  switch (opts.isolation) {
    case 'in-process':
      return { spawn: spawnInProcessTransport, codeCache: noCache };
    case 'worker': {
      if (fromSources) {
        const workerData = { entry: new URL('worker-entry.ts', runtimeDir).href };
        const entry = new URL('worker-tsx-boot.mjs', runtimeDir);
        return { spawn: () => spawnWorkerTransport({ entry, workerData, execArgv, memoryMb, env }), codeCache: noCache };
      }
      const cache = new CodeCache();
      const entry = new URL('worker-boot.cjs', runtimeDir);
      const bundle = fileURLToPath(new URL('actor-bundle.cjs', runtimeDir));
      // The warm-up worker makes the cache now, while the node starts; it exits once it has offered it.
      // If it fails, actors compile from source (counted as misses).
      const warmUp: BootData = { bundle, warmUp: true };
      const keepOffer = (m: BootMessage) => {
        if (m.type === 'code-cache.offer') cache.keep(m.data);
      };
      spawnWorkerTransport({ entry, workerData: warmUp, execArgv, memoryMb, env, onBoot: keepOffer });
      // An actor's worker reports how it compiled; an offer from one is ignored (see worker-boot.cts).
      const onBoot = (m: BootMessage) => {
        if (m.type === 'code-cache.result') cache.count(m.result);
      };
      return {
        spawn: () => {
          const workerData: BootData = cache.current === undefined ? { bundle } : { bundle, codeCache: cache.current };
          return spawnWorkerTransport({ entry, workerData, execArgv, memoryMb, env, onBoot });
        },
        codeCache: () => cache.stats(),
      };
    }
    case 'process': {
      const entry = new URL(fromSources ? 'child-entry.ts' : 'child-entry.js', runtimeDir);
      const flags = fromSources ? ['--import', tsxLoaderUrl(), ...execArgv] : execArgv;
      return { spawn: () => spawnChildProcessTransport({ entry, execArgv: flags, memoryMb, env }), codeCache: noCache };
    }
  }
}
