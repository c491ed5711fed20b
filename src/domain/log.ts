import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** One level of a log: an object then a message (pino's usual call), or a message alone. */
export interface LogFn {
  (obj: object, msg: string): void;
  (msg: string): void;
}

/**
 * What code inside an actor logs with: four levels, nothing else. A pino Logger is one; an actor's own is
 * a thin forwarder to its parent (src/actors/actor-logger.ts), where the node's root logger applies levels,
 * redaction and the tenant id.
 */
export interface LeveledLog {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

/**
 * The one root logger factory. Components take `log.child({ component })`; actors add `{ tenantId }`.
 * Never log message bodies, tokens, passwords or QR strings: the redaction list is a last guard.
 */
export function createLogger(opts: { level: LoggerOptions['level']; name?: string }, destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    name: opts.name ?? 'wa-tenants',
    redact: {
      paths: [
        'password',
        '*.password',
        'token',
        '*.token',
        'accessToken',
        'refreshToken',
        '*.accessToken',
        '*.refreshToken',
        'req.headers.authorization',
        'body',
        '*.body',
        'qr',
        '*.qr',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
