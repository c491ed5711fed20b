import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SessionEvent } from '../../../src/actors/session-protocol.js';
import { systemClock } from '../../../src/domain/clock.js';
import type { Simulator } from '../../../src/simulator/server.js';
import { spawnActor, type ActorRef } from '../../../src/supervisor/actor-ref.js';
import type * as Host from '../../../src/supervisor/host.js';
import type { SpawnTransport } from '../../../src/supervisor/transport.js';
import type * as WorkerTransport from '../../../src/supervisor/transports/worker.js';
import { buildServerForTests } from '../../helpers/built-server.js';
import { startSimulator } from '../simulator/harness.js';
import { silentLog } from './helpers.js';

/**
 * A built server's actor workers compile the actor bundle with the node's V8 code cache, made by a
 * warm-up worker (src/actors/runtime/worker-boot.cts): real worker threads, the real session actor and
 * sandbox engine against a real simulator. The ES module twin of the session actor is deleted from the build, so a
 * session can only start from the behaviour compiled into the bundle.
 */
const built = await buildServerForTests([]);
const runtimeDir = join(built.dir, 'src/actors/runtime');
const { createActorHost } = (await import(pathToFileURL(join(built.dir, 'src/supervisor/host.js')).href)) as typeof Host;
const { spawnWorkerTransport } = (await import(pathToFileURL(join(built.dir, 'src/supervisor/transports/worker.js')).href)) as typeof WorkerTransport;
const sessionActor = pathToFileURL(join(built.dir, 'src/actors/session-actor.js')).href;

let sim: Simulator;
const refs: ActorRef[] = [];

beforeAll(async () => {
  await rm(join(built.dir, 'src/actors/session-actor.js'));
  sim = await startSimulator();
});
afterEach(async () => {
  await Promise.all(refs.splice(0).map((ref) => ref.kill('test over')));
});
afterAll(async () => {
  await sim.close();
  await built.cleanup();
});

/** A session actor with no credentials: once started it connects to the simulator and shows a QR code. */
async function startSession(spawn: SpawnTransport, tenantId: string): Promise<{ ref: ActorRef; qr: Promise<void> }> {
  const ref = spawnActor(
    { spawn, clock: systemClock, log: silentLog },
    {
      tenantId,
      behaviorModule: sessionActor,
      options: { engine: 'sandbox', credentials: null, simUrl: sim.url, mediaMaxBytes: 1_000_000, persistTimeoutMs: 5_000 },
    },
    { heartbeatIntervalMs: 1_000, heartbeatMaxMissed: 10, stopTimeoutMs: 2_000 },
  );
  refs.push(ref);
  const qr = new Promise<void>((resolve) => {
    ref.onEvent((event) => {
      if ((event as SessionEvent).type === 'evt.qr') resolve();
    });
  });
  await ref.ready;
  return { ref, qr };
}

describe('actor code cache (built server, worker threads)', () => {
  it('makes the cache in a warm-up worker, then starts every actor worker from it', async () => {
    const host = createActorHost({ isolation: 'worker', memoryMb: 64 });
    // The warm-up worker starts with the host and offers the cache without any actor.
    await vi.waitFor(() => expect(host.codeCache()?.bytes).toBeGreaterThan(100_000));
    expect(host.codeCache()).toMatchObject({ hits: 0, rejected: 0, misses: 0 });
    const bytes = host.codeCache()?.bytes;

    const sessions = await Promise.all(['tenant-1', 'tenant-2'].map((id) => startSession(host.spawn, id)));
    await Promise.all(sessions.map((s) => s.qr));
    expect(host.codeCache()).toEqual({ hits: 2, rejected: 0, misses: 0, bytes });
  });

  it('compiles from source when V8 refuses the cache it was given, and the actor still runs', async () => {
    const results: string[] = [];
    const garbage = new SharedArrayBuffer(4096);
    new Uint8Array(garbage).fill(7);
    const spawn: SpawnTransport = () =>
      spawnWorkerTransport({
        entry: pathToFileURL(join(runtimeDir, 'worker-boot.cjs')),
        workerData: { bundle: join(runtimeDir, 'actor-bundle.cjs'), codeCache: garbage },
        execArgv: [],
        memoryMb: 64,
        onBoot: (message) => {
          if (message.type === 'code-cache.result') results.push(message.result);
          else results.push('offer');
        },
      });
    const session = await startSession(spawn, 'tenant-rejected');
    await session.qr;
    // An actor's worker only reports how it compiled; it offers no cache of its own.
    expect(results).toEqual(['rejected']);
  });
});
