import { Redis } from 'ioredis';
import type { Logger } from '../../domain/log.js';

export interface RedisClientOptions {
  url: string;
  /** Shown in CLIENT LIST and the logs. */
  name: string;
  log: Logger;
  /**
   * Fail a command that has no answer after this long. Lease renewals need it: on a network that drops
   * packets a command would otherwise wait for the TCP timeout, long after the lease expired.
   */
  commandTimeoutMs?: number;
  /**
   * Queue commands while disconnected (ioredis' default). Off for the lease connection: a renewal must
   * fail at once when Redis is away, not wait for a reconnect.
   */
  offlineQueue?: boolean;
}

/**
 * One ioredis connection. It connects at once and reconnects forever with a capped backoff; its errors
 * are logged once per outage, not once per reconnect attempt.
 */
export function createRedisClient(opts: RedisClientOptions): Redis {
  const log = opts.log.child({ component: 'redis', client: opts.name });
  const redis = new Redis(opts.url, {
    connectionName: opts.name,
    enableOfflineQueue: opts.offlineQueue ?? true,
    // With the offline queue on, a command waits for reconnects instead of failing after 20 tries.
    maxRetriesPerRequest: opts.offlineQueue === false ? 0 : null,
    ...(opts.commandTimeoutMs === undefined ? {} : { commandTimeout: opts.commandTimeoutMs }),
    // 50 ms doubling to 1 s: back quickly after a blip without hammering a Redis that is down.
    retryStrategy: (times: number) => Math.min(1_000, 50 * 2 ** Math.min(times, 5)),
  });
  let up = true;
  redis.on('error', (err: Error) => {
    if (!up) return;
    up = false;
    log.warn({ err }, 'redis connection failed; reconnecting');
  });
  redis.on('ready', () => {
    if (up) return;
    up = true;
    log.info('redis connection back');
  });
  return redis;
}

/** Waits until the client is ready, or fails with the connection error (start-up: Redis must answer). */
export async function whenReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
    const onReady = (): void => done();
    const done = (err?: Error): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      if (err === undefined) resolve();
      else reject(err);
    };
    redis.on('ready', onReady);
  });
}

/**
 * QUIT, or a hard disconnect when Redis does not answer within `timeoutMs` (it may be unreachable).
 * Resolves once the client has ended (bounded by `timeoutMs` again), so the commands it still queued
 * have been failed by then, not after the caller moved on.
 */
export async function closeRedis(redis: Redis, timeoutMs = 1_000): Promise<void> {
  if (redis.status === 'end') return;
  const ended = new Promise<void>((resolve) => redis.once('end', () => resolve()));
  const quit = redis.status === 'ready' ? redis.quit().then(() => undefined, () => undefined) : Promise.resolve();
  await within(quit, timeoutMs);
  // Between reconnect attempts there is no socket to close: ioredis only cancels the next attempt and
  // never emits 'end' (nor fails what it queued), so there is nothing to wait for.
  const waitForEnd = redis.status !== 'reconnecting';
  redis.disconnect();
  if (waitForEnd) await within(ended, timeoutMs); // ioredis emits 'end' on a later tick, after this listener is set
}

async function within(promise: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
}
