/**
 * Entry point of an actor in a worker thread (ISOLATION=worker). Started by
 * src/supervisor/transports/worker.ts; everything else arrives in `sys.init`.
 */
import { parentPort } from 'node:worker_threads';
import { runActor } from './actor-runtime.js';
import { workerThreadPort } from './ports.js';

if (parentPort === null) throw new Error('worker-entry must run in a worker thread');
runActor(workerThreadPort(parentPort));
