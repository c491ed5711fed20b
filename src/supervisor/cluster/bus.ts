import type { Redis } from 'ioredis';
import type { Logger } from '../../domain/log.js';

/**
 * Messages between the nodes of one deployment, over Redis pub/sub: at most once, to whoever listens
 * right now. What needs more (leases, desired state) lives in Redis keys and PostgreSQL instead; the
 * bus only makes things happen sooner (routing commands, "a lease was released", "a user was disabled").
 */
export interface Bus {
  /** Resolves with how many nodes received it (0: nobody listens on that channel). */
  publish(channel: string, message: string): Promise<number>;
  subscribe(channel: string, handler: (message: string) => void): Promise<void>;
  close(): Promise<void>;
}

/** `publisher` may be shared; `subscriber` becomes a subscriber connection and is used for nothing else. */
export function createRedisBus(opts: { publisher: Redis; subscriber: Redis; prefix: string; log: Logger }): Bus {
  const handlers = new Map<string, (message: string) => void>();
  const log = opts.log.child({ component: 'bus' });
  const full = (channel: string): string => `${opts.prefix}bus:${channel}`;
  opts.subscriber.on('message', (channel: string, message: string) => {
    const handler = handlers.get(channel);
    if (handler === undefined) return;
    try {
      handler(message);
    } catch (err) {
      log.error({ err, channel }, 'bus handler failed');
    }
  });
  return {
    publish: (channel, message) => opts.publisher.publish(full(channel), message),
    async subscribe(channel, handler) {
      handlers.set(full(channel), handler);
      // ioredis subscribes again by itself after a reconnect.
      await opts.subscriber.subscribe(full(channel));
    },
    async close() {
      handlers.clear();
    },
  };
}
