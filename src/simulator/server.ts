import { STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { LogController } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { systemClock, type Clock } from '../domain/clock.js';
import { ErrorCodes, isAppError, type ErrorCode } from '../domain/errors.js';
import type { Logger } from '../domain/log.js';
import { createGateway, type QrTimings } from './gateway.js';
import type { ErrorBody, PhoneView } from './http-schemas.js';
import { createNetwork } from './network.js';
import { phoneApi, phoneView } from './phone-api.js';
import { socketUrl } from './client.js';
import { MAX_FRAME_BYTES } from './protocol.js';

/**
 * A WhatsApp network in one process: the phone API (HTTP, Fastify) and the session gateway
 * (WebSocket at `/ws`) on one port, sharing one in-memory network. See README.md in this folder.
 */

export interface SimulatorOptions {
  /** Port to listen on; 0 picks a free one (default 0). */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** QR rotation; defaults 60 000 ms first, 20 000 ms each next, 6 codes. */
  qrTimings?: Partial<QrTimings>;
  log: Logger;
  clock?: Clock;
  /** Messages per chat in the history sync sent to a session (default 50). */
  historyPerChat?: number;
  /** Deliver every message twice, to test the receiver's idempotence (default false). */
  duplicateDeliveries?: boolean;
  /** A socket that sends no `hello` within this time is closed (default 10 000 ms). */
  helloTimeoutMs?: number;
}

export interface Simulator {
  /** `http://host:port` of the phone API; the sessions' WebSocket is at `${url}/ws`. Throws before `listen()`. */
  readonly url: string;
  /** Starts listening; resolves with `url`. */
  listen(): Promise<string>;
  /** Drops every session socket (they see a network failure) and stops the server. Idempotent. */
  close(): Promise<void>;
  stats(): ReturnType<ReturnType<typeof createNetwork>['stats']>;
  /** One phone as `GET /phones/:number` shows it; null if unknown. */
  phone(number: string): PhoneView | null;
  /**
   * Resolves once `check()` holds, re-checked after every frame, closed socket and HTTP request, so
   * tests wait for the network (a session gone offline, a delivery acked) instead of sleeping.
   */
  until(check: () => boolean): Promise<void>;
}

export const DEFAULT_QR_TIMINGS: QrTimings = { firstMs: 60_000, nextMs: 20_000, maxQrs: 6 };

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  [ErrorCodes.VALIDATION]: 400,
  [ErrorCodes.NOT_FOUND]: 404,
  [ErrorCodes.CONFLICT]: 409,
};

/** One table from errors to HTTP answers; anything unexpected is a 500 that reveals nothing. */
export function toErrorBody(err: unknown): ErrorBody {
  let statusCode = 500;
  let code: string = ErrorCodes.INTERNAL;
  let message = 'Internal simulator error';
  if (isAppError(err)) {
    statusCode = STATUS_BY_CODE[err.code] ?? 500;
    code = err.code;
    if (statusCode < 500) message = err.message;
  } else if (err instanceof Error) {
    // Fastify's own errors: schema validation (`validation`), bad JSON, body too large ...
    const status = (err as Error & { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      statusCode = status;
      code = status === 404 ? ErrorCodes.NOT_FOUND : ErrorCodes.VALIDATION;
      message = err.message;
    }
  }
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

export function createSimulator(opts: SimulatorOptions): Simulator {
  const log = opts.log.child({ component: 'simulator' });
  const qrTimings: QrTimings = { ...DEFAULT_QR_TIMINGS, ...opts.qrTimings };
  const network = createNetwork({
    clock: opts.clock ?? systemClock,
    historyPerChat: opts.historyPerChat,
    duplicateDeliveries: opts.duplicateDeliveries,
  });
  const watchers = new Set<{ check: () => boolean; resolve: () => void; reject: (err: Error) => void }>();
  const changed = (): void => {
    for (const w of watchers) {
      if (!w.check()) continue;
      watchers.delete(w);
      w.resolve();
    }
  };
  const gateway = createGateway({ network, qrTimings, log, helloTimeoutMs: opts.helloTimeoutMs, onChange: changed });
  const app = Fastify({
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_FRAME_BYTES,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler((err, req, reply) => {
    const body = toErrorBody(err);
    if (body.statusCode >= 500) req.log.error({ err }, 'simulator request failed');
    return reply.code(body.statusCode).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const body: ErrorBody = { statusCode: 404, code: ErrorCodes.NOT_FOUND, error: 'Not Found', message: `No route ${req.method} ${req.url}` };
    return reply.code(404).send(body);
  });
  app.addHook('onResponse', async () => changed());
  void app.register(phoneApi, { network });
  app.server.on('upgrade', gateway.handleUpgrade);

  let url: string | null = null;
  let closing: Promise<void> | null = null;

  return {
    get url(): string {
      if (url === null) throw new Error('simulator is not listening yet');
      return url;
    },
    async listen(): Promise<string> {
      const host = opts.host ?? '127.0.0.1';
      await app.listen({ port: opts.port ?? 0, host });
      const { port } = app.server.address() as AddressInfo;
      url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
      log.info({ url, ws: socketUrl(url), qrTimings }, 'simulator listening');
      return url;
    },
    close(): Promise<void> {
      closing ??= (async () => {
        for (const w of watchers) w.reject(new Error('simulator closed'));
        watchers.clear();
        await gateway.close();
        await app.close();
      })();
      return closing;
    },
    stats: () => network.stats(),
    phone(number: string): PhoneView | null {
      const account = network.findAccount(number);
      return account ? phoneView(account) : null;
    },
    until(check: () => boolean): Promise<void> {
      if (check()) return Promise.resolve();
      return new Promise((resolve, reject) => watchers.add({ check, resolve, reject }));
    },
  };
}
