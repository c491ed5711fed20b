import type { Logger } from './domain/log.js';

/**
 * SIGTERM/SIGINT run `close` once; past `timeoutMs` the process exits anyway (Kubernetes sends SIGKILL
 * after its grace period: better to exit on our terms, with a log line).
 */
export function installShutdown(close: () => Promise<void>, timeoutMs: number, log: Logger): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.error({ timeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
