import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TransportEvents, type Transport, type TransportExit } from '../transport.js';

export interface ChildProcessTransportOptions {
  /** Module the child runs. */
  entry: URL;
  execArgv: string[];
  /** V8 heap limit (ACTOR_MEMORY_MB), passed as --max-old-space-size. */
  memoryMb: number;
  env?: Record<string, string>;
}

// V8 prints this on stderr before aborting a process that ran out of heap.
const OUT_OF_MEMORY = 'heap out of memory';

/** An actor in a child process of its own (ISOLATION=process). */
export function spawnChildProcessTransport(opts: ChildProcessTransportOptions): Transport {
  const events = new TransportEvents();
  const child = fork(fileURLToPath(opts.entry), [], {
    execArgv: [...opts.execArgv, `--max-old-space-size=${opts.memoryMb}`],
    // 'advanced' uses the structured clone algorithm, as worker threads do (Map, Date, Buffer survive).
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    ...(opts.env === undefined ? {} : { env: opts.env }),
  });

  // stderr goes on to ours; only watched for the out-of-memory line, which is the sole way to tell an
  // OOM abort from any other SIGABRT. The tail keeps a line cut across two chunks.
  let tail = '';
  let outOfMemory = false;
  child.stderr?.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-256);
    if (tail.includes(OUT_OF_MEMORY)) outOfMemory = true;
  });

  let exitInfo: TransportExit | undefined;
  // IPC messages can still be in flight when 'exit' fires; the channel's 'disconnect' comes after the
  // last of them, so the exit is reported once both have happened.
  const finish = () => {
    if (exitInfo === undefined || child.connected) return;
    events.exit(outOfMemory ? { ...exitInfo, error: { code: 'ERR_OUT_OF_MEMORY', message: 'JavaScript heap out of memory' } } : exitInfo);
  };
  child.on('message', (message: unknown) => events.message(message));
  child.on('disconnect', finish);
  child.on('exit', (code, signal) => {
    exitInfo = { code, signal };
    finish();
  });
  child.on('error', (err: Error & { code?: string }) => {
    // Spawning failed: there will be no 'exit'.
    if (child.pid === undefined) events.exit({ code: null, signal: null, error: { message: err.message } });
  });

  return {
    kind: 'process',
    pid: child.pid,
    threadId: undefined,
    send(message) {
      if (!child.connected) return;
      child.send(message, (err) => {
        // The child died between the check and the write; its exit is reported through 'exit'.
        void err;
      });
    },
    onMessage: (listener) => events.onMessage(listener),
    onExit: (listener) => events.onExit(listener),
    async terminate() {
      if (!events.exited) child.kill('SIGKILL');
      await events.gone;
    },
  };
}
