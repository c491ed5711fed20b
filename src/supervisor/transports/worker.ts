import { Worker } from 'node:worker_threads';
import { parseBootMessage, type BootMessage } from '../../actors/runtime/boot-message.js';
import { TransportEvents, type Transport } from '../transport.js';

export interface WorkerTransportOptions {
  /** Module the worker runs. */
  entry: URL;
  workerData?: unknown;
  execArgv: string[];
  /** V8 old-generation heap limit (ACTOR_MEMORY_MB): the worker dies with ERR_WORKER_OUT_OF_MEMORY past it. */
  memoryMb: number;
  env?: Record<string, string>;
  /** Messages of the worker's boot file (code cache), taken out of the actor's message stream. */
  onBoot?: (message: BootMessage) => void;
}

/**
 * The young generation of each actor's heap. V8's default for a worker keeps more of it resident than an
 * idle session needs; 2 MB measured ~1 MB less RSS per actor (`npm run bench -- --only density`: 12.2 ->
 * 11.3 MB per session at 100) with no change below that. An actor's allocations are short-lived messages:
 * a smaller nursery only means more, cheaper scavenges.
 */
const YOUNG_GENERATION_MB = 2;

/** An actor in a worker thread of this process (ISOLATION=worker). */
export function spawnWorkerTransport(opts: WorkerTransportOptions): Transport {
  const events = new TransportEvents();
  const worker = new Worker(opts.entry, {
    workerData: opts.workerData,
    execArgv: opts.execArgv,
    resourceLimits: { maxOldGenerationSizeMb: opts.memoryMb, maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    ...(opts.env === undefined ? {} : { env: opts.env }),
  });
  let error: { code?: string; message: string } | undefined;

  // worker-boot.cjs posts its messages before the actor's first one: from then on, every message is the
  // actor's and none is looked at twice.
  const { onBoot } = opts;
  let booting = onBoot !== undefined;
  worker.on('message', (message: unknown) => {
    if (booting) {
      const boot = parseBootMessage(message);
      if (boot !== undefined) {
        onBoot?.(boot);
        return;
      }
      booting = false;
    }
    events.message(message);
  });
  // A message that could not be deserialised reaches the parent as a protocol violation.
  worker.on('messageerror', () => events.message(undefined));
  // Uncaught exception or out of memory in the worker; 'exit' follows.
  worker.on('error', (err: Error & { code?: string }) => {
    error = err.code === undefined ? { message: err.message } : { code: err.code, message: err.message };
  });
  worker.on('exit', (code) => events.exit(error === undefined ? { code, signal: null } : { code, signal: null, error }));

  return {
    kind: 'worker',
    pid: undefined,
    get threadId() {
      return worker.threadId;
    },
    send(message) {
      if (!events.exited) worker.postMessage(message);
    },
    onMessage: (listener) => events.onMessage(listener),
    onExit: (listener) => events.onExit(listener),
    async terminate() {
      // terminate() stops even a thread stuck in a busy loop (V8 TerminateExecution).
      if (!events.exited) await worker.terminate();
      await events.gone;
    },
  };
}
