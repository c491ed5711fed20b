import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

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
