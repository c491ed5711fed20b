/**
 * Entry point of an actor in a worker thread (ISOLATION=worker) when running from sources: started
 * through worker-tsx-boot.mjs (src/supervisor/host.ts); everything else arrives in `sys.init`. A built
 * server starts worker-boot.cjs instead, which runs the same runtime from the actor bundle.
 */
import { parentPort } from 'node:worker_threads';
import { runActor } from './actor-runtime.js';
import { workerThreadPort } from './ports.js';

if (parentPort === null) throw new Error('worker-entry must run in a worker thread');
runActor(workerThreadPort(parentPort));
