import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../../src/domain/log.js';
import type { Transport } from '../../../src/supervisor/transport.js';

export const testActorModule = new URL('../../fixtures/actors/test-actor.ts', import.meta.url).href;

export const silentLog: Logger = createLogger({ level: 'silent' });

/** A logger whose JSON lines are kept in `lines`. */
export function capturingLogger(level: 'debug' | 'info' = 'info'): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger({ level }, stream), lines };
}

/** True when the thread or process behind `transport` no longer exists. */
export function isGone(transport: Transport): boolean {
  switch (transport.kind) {
    case 'in-process':
      return true;
    case 'worker':
      return transport.threadId === -1;
    case 'process':
      try {
        process.kill(transport.pid as number, 0);
        return false;
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'ESRCH';
      }
  }
}

/** The rejection of `promise`, or a failure if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected the promise to reject');
}
