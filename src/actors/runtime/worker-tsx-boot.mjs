// Boot file for TypeScript actor workers when running from sources (dev, tests, `tsx src/main.ts`).
// On Node 20, `execArgv: ['--import', 'tsx']` does not work for worker threads: tsx registers its
// loader hooks only on the main thread before Node 22.22, and hooks do not carry over to workers.
// So the worker registers tsx itself, then imports the real entry (passed in workerData).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
