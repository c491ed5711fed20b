import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import type { ServerOptions } from 'socket.io';

/**
 * The Socket.IO Redis adapter (pub/sub): an emit to a room, and `socketsJoin` / `socketsLeave` /
 * `disconnectSockets` on a room, reach the sockets of every node, so a client connected anywhere gets
 * its tenant's events and a revoke acts on sockets held by other nodes. `pub` may be shared; `sub` turns
 * into a subscriber connection. Close the Socket.IO server before the two clients.
 */
export function createClusterAdapter(opts: { pub: Redis; sub: Redis; prefix: string }): ServerOptions['adapter'] {
  return createAdapter(opts.pub, opts.sub, { key: `${opts.prefix}socket.io` });
}
