import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import type { ServerOptions } from 'socket.io';
import type { Logger } from '../../domain/log.js';

/**
 * The Redis commands the adapter sends without handling their promise (a broadcast's PUBLISH, the
 * (P)SUBSCRIBE and (P)UNSUBSCRIBE of its constructor and `close()`). While Redis is away they wait in
 * ioredis' offline queue; if the node shuts down before Redis is back, ioredis rejects them with
 * "Connection is closed", and an unhandled rejection would end the process.
 */
const UNHANDLED_BY_ADAPTER = ['publish', 'subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe'] as const;

/**
 * The Socket.IO Redis adapter (pub/sub): an emit to a room, and `socketsJoin` / `socketsLeave` /
 * `disconnectSockets` on a room, reach the sockets of every node, so a client connected anywhere gets
 * its tenant's events and a revoke acts on sockets held by other nodes. `pub` may be shared; `sub` turns
 * into a subscriber connection. Close the Socket.IO server before the two clients.
 */
export function createClusterAdapter(opts: { pub: Redis; sub: Redis; prefix: string; log: Logger }): ServerOptions['adapter'] {
  const log = opts.log.child({ component: 'io-adapter' });
  for (const client of [opts.pub, opts.sub]) observeDroppedCommands(client, log);
  return createAdapter(opts.pub, opts.sub, { key: `${opts.prefix}socket.io` });
}

/**
 * Gives every promise of those commands a handler that logs its failure, and hands the same promise back,
 * so a caller that does await it still sees the error. Applied once per client.
 */
function observeDroppedCommands(client: Redis, log: Logger): void {
  const methods = client as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of UNHANDLED_BY_ADAPTER) {
    const original = methods[name];
    if (original === undefined || OBSERVED.has(original)) continue;
    const observed = (...args: unknown[]): unknown => {
      const out = original.apply(client, args);
      if (out instanceof Promise) out.catch((err: unknown) => log.debug({ err, command: name }, 'socket.io adapter command failed (Redis unreachable)'));
      return out;
    };
    OBSERVED.add(observed);
    methods[name] = observed;
  }
}

const OBSERVED = new WeakSet<object>();
