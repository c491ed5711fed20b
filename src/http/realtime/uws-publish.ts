import type { Server } from 'socket.io';
import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import { AppError, ErrorCodes } from '../../domain/errors.js';

/**
 * Room broadcasts as native uWS topic publishes, per Socket.IO server.
 *
 * Socket.IO's own uWS support (`io.attachApp`) replaces `addAll`/`del`/`broadcast` on the Adapter
 * prototype shared by every server in the process and binds them to the last attached app, which breaks
 * a second server in the same process; uws-adapter.ts therefore undoes it. This module installs the same
 * idea once per prototype, but looks up each server's own app: a server without one (node:http) keeps
 * the original methods. A socket on the WebSocket transport subscribes to a uWS topic per room it joins;
 * a broadcast to one room without exceptions is then one `app.publish` (the frame is written to every
 * subscriber in C++) instead of a JavaScript write per socket; anything else takes the original path.
 * Measured in bench/suites/fanout.ts.
 */

const SEPARATOR = '\x1f'; // socket.io/dist/uws.js uses the same topic layout

interface AdapterLike {
  nsp: { name: string; server: unknown; sockets: Map<string, SocketLike>; _preConnectSockets?: Map<string, SocketLike> };
  sids: Map<string, Set<string>>;
  rooms: Map<string, Set<string>>;
  encoder: { encode(packet: unknown): (string | Uint8Array)[] };
  apply(opts: BroadcastOpts, fn: (socket: SocketLike) => void): void;
}
interface SocketLike {
  conn: { transport: { name: string; socket?: WebSocket<unknown> }; on(event: 'upgrade', fn: () => void): void };
  client: { writeToEngine(packets: unknown, opts: unknown): void };
}
interface BroadcastOpts {
  rooms: Set<string>;
  except?: Set<string>;
  flags?: { volatile?: boolean; compress?: boolean };
}
type AddAll = (this: AdapterLike, id: string, rooms: Set<string>) => void;
type Del = (this: AdapterLike, id: string, room: string) => void;
type Broadcast = (this: AdapterLike, packet: { nsp?: string }, opts: BroadcastOpts) => void;

const apps = new WeakMap<object, TemplatedApp>();
const patched = new WeakSet<object>();

function topic(nsp: string, room: string): string {
  return `${nsp}${SEPARATOR}${room}`;
}

/** Whether any of `targets` has a socket on this node (no array per broadcast: this runs for every event). */
function anyoneIn(rooms: Map<string, Set<string>>, targets: Set<string>): boolean {
  for (const room of targets) if ((rooms.get(room)?.size ?? 0) > 0) return true;
  return false;
}

function websocketOf(socket: SocketLike): WebSocket<unknown> | undefined {
  return socket.conn.transport.name === 'websocket' ? socket.conn.transport.socket : undefined;
}

/** The prototype that defines the adapter methods (socket.io-adapter's `Adapter`), as uws-adapter.ts finds it. */
function adapterPrototype(io: Server): Record<string, unknown> {
  let proto: unknown = Object.getPrototypeOf(io.of('/').adapter);
  while (typeof proto === 'object' && proto !== null) {
    if (['addAll', 'del', 'broadcast'].every((name) => Object.prototype.hasOwnProperty.call(proto, name))) return proto as Record<string, unknown>;
    proto = Object.getPrototypeOf(proto);
  }
  throw new AppError(ErrorCodes.INTERNAL, 'Socket.IO adapter prototype not found: socket.io internals changed');
}

/** Serves `io`'s single-room broadcasts by publishing on `app` (the uWS app it is attached to). */
export function enableUwsPublish(io: Server, app: TemplatedApp): void {
  apps.set(io, app);
  const proto = adapterPrototype(io);
  if (patched.has(proto)) return;
  patched.add(proto);
  const addAll = proto.addAll as AddAll;
  const del = proto.del as Del;
  const broadcast = proto.broadcast as Broadcast;

  proto.addAll = function (this: AdapterLike, id: string, rooms: Set<string>): void {
    const isNew = !this.sids.has(id);
    addAll.call(this, id, rooms);
    if (!apps.has(this.nsp.server as object)) return;
    // Sockets join their own id room before they count as connected (`_preConnectSockets`).
    const socket = this.nsp.sockets.get(id) ?? this.nsp._preConnectSockets?.get(id);
    if (socket === undefined) return;
    const subscribe = (ws: WebSocket<unknown>, list: Iterable<string>) => {
      try {
        for (const room of list) ws.subscribe(topic(this.nsp.name, room));
      } catch {
        // The WebSocket closed meanwhile (uWS throws on a closed one): it has no subscriptions to keep.
      }
    };
    const ws = websocketOf(socket);
    if (ws !== undefined) subscribe(ws, rooms);
    else if (isNew) {
      // Long-polling first: subscribe to every room it is in once it moves to WebSocket.
      socket.conn.on('upgrade', () => {
        const upgraded = websocketOf(socket);
        if (upgraded !== undefined) subscribe(upgraded, this.sids.get(id) ?? []);
      });
    }
  };

  proto.del = function (this: AdapterLike, id: string, room: string): void {
    del.call(this, id, room);
    if (!apps.has(this.nsp.server as object)) return;
    const socket = this.nsp.sockets.get(id) ?? this.nsp._preConnectSockets?.get(id);
    const ws = socket === undefined ? undefined : websocketOf(socket);
    try {
      ws?.unsubscribe(topic(this.nsp.name, room));
    } catch {
      // Closed meanwhile: uWS dropped its subscriptions with it.
    }
  };

  proto.broadcast = function (this: AdapterLike, packet: { nsp?: string }, opts: BroadcastOpts): void {
    // Rooms with no socket on this node (a chat no employee here follows): nothing to encode or send. The
    // original encodes the packet before it looks for sockets; every chat event paid that twice.
    if (opts.rooms.size > 0 && !anyoneIn(this.rooms, opts.rooms)) return;
    const target = apps.get(this.nsp.server as object);
    const room = opts.rooms.size === 1 ? opts.rooms.values().next().value : undefined;
    if (target === undefined || room === undefined || (opts.except?.size ?? 0) > 0) {
      broadcast.call(this, packet, opts);
      return;
    }
    packet.nsp = this.nsp.name;
    const encoded = this.encoder.encode(packet);
    for (const frame of encoded) {
      // "4" is the Engine.IO message type; binary attachments go as they are.
      if (typeof frame === 'string') target.publish(topic(this.nsp.name, room), `4${frame}`, false);
      else target.publish(topic(this.nsp.name, room), frame, true);
    }
    // Sockets still on long-polling are not subscribed: write to them the classic way.
    this.apply(opts, (socket) => {
      if (websocketOf(socket) === undefined) socket.client.writeToEngine(encoded, { preEncoded: true, volatile: opts.flags?.volatile, compress: opts.flags?.compress });
    });
  };
}
