import type { MessagePort } from 'node:worker_threads';
import type { ActorPort } from './actor-port.js';

/** Inside a worker thread: the parent port. `process.exit` there ends only this thread. */
export function workerThreadPort(parentPort: MessagePort): ActorPort {
  return {
    post: (message) => parentPort.postMessage(message),
    onMessage: (listener) => {
      parentPort.on('message', listener);
    },
    // Messages posted before exit are still delivered: the parent drains the port before 'exit'.
    exit: (code) => process.exit(code),
  };
}

/**
 * Inside a child process: the IPC channel. `process.send` is asynchronous, so exit waits until every
 * message handed to it has been written, or the last words (`sys.stopped`, `sys.error`) would be lost.
 */
export function childProcessPort(proc: NodeJS.Process): ActorPort {
  let unflushed = 0;
  let exitCode: number | undefined;
  const exitWhenFlushed = () => {
    if (exitCode !== undefined && unflushed === 0) proc.exit(exitCode);
  };
  return {
    post: (message) => {
      if (proc.send === undefined || !proc.connected) return;
      proc.send(message, undefined, undefined, () => {
        unflushed -= 1;
        exitWhenFlushed();
      });
      unflushed += 1;
    },
    onMessage: (listener) => {
      proc.on('message', listener);
    },
    exit: (code) => {
      exitCode = code;
      exitWhenFlushed();
    },
  };
}
