import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Server, type ExtendedError, type ServerOptions, type Socket } from 'socket.io';
import { ErrorCodes, assertNever, isAppError } from '../../domain/errors.js';
import type { Logger } from '../../domain/log.js';
import { Role } from '../../domain/types.js';
import type { RealtimeMetricsHooks } from '../../metrics/hooks.js';
import { attachSocketIoToUws, uwsAppOf, type HttpServerKind } from '../uws-adapter.js';
import { enableUwsPublish } from './uws-publish.js';
import { corsOrigin } from './cors.js';
import { createEventStream, type DurableEvent, type EventSource, type EventStream, type StreamSocket } from './event-stream.js';
import { authenticateHandshake, connectError, lastEventIdFromHandshake, type Authenticate, type Principal } from './handshake.js';
import { adminsRoom, chatIdOfRoom, chatRoom, eventRooms, pendingRoom, userRoom } from './rooms.js';

/** Events the gateway publishes to a tenant's sockets. */
export type RealtimeEventName = 'qr' | 'session_status' | 'message' | 'message_ack' | 'chat_updated' | 'pairing_code';

export interface RealtimeEvent {
  name: RealtimeEventName;
  /** Undefined: the tenant's admins only. Set: its admins and the employees assigned to this chat. */
  chatId?: string;
  payload: unknown;
  /** A stored event's outbox id and seq: sent to clients as the second argument, `{ id, seq }`. */
  id?: string;
  seq?: number;
}

/** The second argument of every stored event: its id (a client's `lastEventId`) and its per-tenant seq. */
export interface EventMeta {
  id: string;
  seq: number;
}

/** Sent to a socket once its rooms are joined: from then on it receives every event it may see. */
export const ReadyInfo = Type.Object({
  userId: Type.String(),
  tenantId: Type.String(),
  role: Role,
  chatIds: Type.Optional(
    Type.Array(Type.String(), { description: 'The chats an employee socket follows; absent for admins, who see every chat.' }),
  ),
  lastEventId: Type.Optional(
    Type.String({ description: 'The last stored event this socket is up to (replayed, or before it connected): pass it as auth.lastEventId when reconnecting.' }),
  ),
  replayTruncated: Type.Optional(Type.Boolean({ description: 'Events after the given lastEventId were deleted by retention before they could be replayed.' })),
});
export type ReadyInfo = Static<typeof ReadyInfo>;

export type ServerToClientEvents = Record<RealtimeEventName, (payload: unknown, meta?: EventMeta) => void> & {
  ready: (info: ReadyInfo) => void;
  /** Sent just before the server disconnects a socket whose access token expired. */
  token_expired: () => void;
  /** To an employee's own sockets when a chat is assigned to it / taken away (after the room change). */
  chat_assigned: (payload: { chatId: string }) => void;
  chat_revoked: (payload: { chatId: string }) => void;
};
/** Clients send nothing on this channel; REST carries every command. */
export type ClientToServerEvents = Record<string, never>;
/** `after`: the seq a reconnecting socket replays from (its lastEventId), undefined for live only. */
type SocketData = Principal & { expiresAt: number | undefined; after?: number | undefined };
/** Between nodes: a stored event committed on one node, for the sockets every other node holds. */
interface InterServerEvents {
  'wa:event': (tenantId: string, event: unknown) => void;
}
type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type RealtimeSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface RealtimeDeps {
  /** The app; Socket.IO serves `/socket.io/` on its server. Create the realtime before `ready()`/`listen()`. */
  fastify: FastifyInstance;
  httpServer: HttpServerKind;
  /** `*` or a comma-separated list of origins (config CORS_ORIGINS). */
  corsOrigins: string;
  authenticate: Authenticate;
  /** Chat ids assigned to an employee (store.permissions.listForUser). */
  chatsForEmployee: (tenantId: string, userId: string) => Promise<string[]>;
  log: Logger;
  /** Epoch ms; default Date.now. */
  now?: () => number;
  /** Told of every emitted event (src/metrics); optional. */
  metrics?: RealtimeMetricsHooks;
  /**
   * Socket.IO adapter. Default: the in-memory one (one node). With several nodes, the Redis adapter
   * (cluster-adapter.ts), so publish, grant, revoke and disconnect reach sockets held by every node.
   */
  adapter?: ServerOptions['adapter'];
  /**
   * The outbox. When given, stored events (those published with an id and seq) reach sockets in seq order
   * and once each, and a socket connecting with `auth.lastEventId` first gets what it missed (event-stream.ts).
   */
  events?: EventSource & { parseCursor(tenantId: string, value: string): number };
}

export interface Realtime {
  /** Emits an event to the tenant's admins, and with a chatId also to the employees assigned to it. */
  publish(tenantId: string, event: RealtimeEvent): void;
  /** Adds a chat to every open socket of the user at once (call after the permission is stored). */
  grant(tenantId: string, userId: string, chatId: string): Promise<void>;
  /** Removes a chat from every open socket of the user at once (call after the permission is deleted). */
  revoke(tenantId: string, userId: string, chatId: string): Promise<void>;
  /** Disconnects every socket of a user (a disabled employee); the client does not reconnect on its own. */
  disconnectUser(tenantId: string, userId: string): Promise<void>;
  /** Authenticated sockets connected to this node. */
  connectedClients(): number;
  /** Closes every connection (clients see a transport close and reconnect elsewhere). Idempotent. */
  close(): Promise<void>;
}

/** setTimeout's longest delay; a later expiry is re-checked after it. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Clients never send to the server, so the default 1 MB message allowance is only an attack surface. */
const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;

/**
 * The Socket.IO channel: JWT handshake, one room per tenant's admins, per user and per chat, and
 * publish/grant/revoke as room operations (so they work across nodes once a cluster adapter is added).
 * Registers a Fastify `preClose` hook, so `fastify.close()` closes the sockets before the HTTP server.
 */
export function createRealtime(deps: RealtimeDeps): Realtime {
  const log = deps.log.child({ component: 'realtime' });
  const now = deps.now ?? Date.now;
  const io: RealtimeServer = new Server({
    cors: { origin: corsOrigin(deps.corsOrigins) },
    maxHttpBufferSize: MAX_CLIENT_MESSAGE_BYTES,
    ...(deps.adapter === undefined ? {} : { adapter: deps.adapter }),
  });
  attach(io, deps);
  const stream = deps.events === undefined ? undefined : createStream(io, deps.events, deps, log);
  let closing: Promise<void> | undefined;
  io.use((socket, next) => {
    if (closing !== undefined) next(connectError(ErrorCodes.OWNER_UNAVAILABLE, 'server shutting down'));
    else
      authenticateSocket(socket, deps.authenticate, now(), log, deps.events).then(next, (err: unknown) => {
        log.error({ err }, 'socket handshake failed');
        next(connectError(ErrorCodes.INTERNAL, 'internal error'));
      });
  });
  io.on('connection', (socket) => onConnection(socket, deps.chatsForEmployee, now, log, stream));
  const close = (): Promise<void> => {
    stream?.close();
    closing ??= closeServer(io);
    return closing;
  };
  deps.fastify.addHook('preClose', close);

  // The room operations return void: the adapter applies them to local sockets at once and, with a
  // cluster adapter, sends them to the other nodes.
  return {
    publish(tenantId, event) {
      const durable = stream === undefined ? undefined : toDurable(event);
      if (stream !== undefined && durable !== undefined) {
        stream.publish(tenantId, durable);
        // Every node sequences every event for its own sockets (room emits are local: see event-stream.ts).
        if (deps.adapter !== undefined) io.serverSideEmit('wa:event', tenantId, durable);
        return;
      }
      // Admins first, as a one-room emit: on uWS that is a single native publish to the room's topic (the
      // Socket.IO uWS adapter takes that fast path only for one room and no `except`), instead of a write
      // per socket in JavaScript. The chat's employees next, excluding admins so a socket in both rooms
      // still gets the event once.
      const [admins, chat] = eventRooms(tenantId, event.chatId);
      if (admins !== undefined) io.to(admins).emit(event.name, event.payload);
      if (chat !== undefined) io.to(chat).except(admins ?? []).emit(event.name, event.payload);
      deps.metrics?.eventEmitted(event.name);
    },
    async grant(tenantId, userId, chatId) {
      io.in(userRoom(tenantId, userId)).socketsJoin(chatRoom(tenantId, chatId));
      // Tell the employee's screens, so a console lists the chat without a reload.
      io.to(userRoom(tenantId, userId)).emit('chat_assigned', { chatId });
    },
    async revoke(tenantId, userId, chatId) {
      io.in(userRoom(tenantId, userId)).socketsLeave(chatRoom(tenantId, chatId));
      // After the leave: nothing of the chat reaches the socket past this notice, and the console drops it.
      io.to(userRoom(tenantId, userId)).emit('chat_revoked', { chatId });
    },
    async disconnectUser(tenantId, userId) {
      io.in(userRoom(tenantId, userId)).disconnectSockets(true);
    },
    connectedClients: () => io.of('/').sockets.size,
    close,
  };
}

/** Handshake middleware body: resolves to undefined to accept, or to the error the client is refused with. */
async function authenticateSocket(
  socket: RealtimeSocket,
  authenticate: Authenticate,
  now: number,
  log: Logger,
  events: RealtimeDeps['events'],
): Promise<ExtendedError | undefined> {
  const { auth, headers, query } = socket.handshake;
  const result = await authenticateHandshake({ auth, headers, query }, authenticate, now);
  if (result.ok) {
    const lastEventId = events === undefined ? undefined : lastEventIdFromHandshake(auth);
    let after: number | undefined;
    try {
      after = lastEventId === undefined || events === undefined ? undefined : events.parseCursor(result.principal.tenantId, lastEventId);
    } catch (err) {
      if (isAppError(err)) return connectError(err.code, 'invalid lastEventId: pass the id of an event this account received');
      throw err;
    }
    socket.data = { ...result.principal, expiresAt: result.expiresAt, after };
    return undefined;
  }
  if (result.cause !== undefined) log.error({ err: result.cause }, 'socket authentication failed');
  return result.error;
}

function onConnection(
  socket: RealtimeSocket,
  chatsForEmployee: RealtimeDeps['chatsForEmployee'],
  now: () => number,
  log: Logger,
  stream: EventStream | undefined,
): void {
  const { tenantId, userId, role, after } = socket.data;
  log.debug({ tenantId, userId, role, transport: socket.conn.transport.name, replay: after !== undefined }, 'socket connected');
  const expiry = watchExpiry(socket, now, log);
  const streamed = stream === undefined ? undefined : streamSocket(socket, (chatIds) => readyInfo(socket, chatIds));
  // Before any room is joined: a replaying socket must not get live room emits ahead of its replay.
  if (streamed !== undefined) stream?.register(streamed, after !== undefined);
  socket.on('disconnect', (reason) => {
    clearTimeout(expiry.timer);
    if (streamed !== undefined) stream?.unregister(streamed);
    log.debug({ tenantId, userId, reason }, 'socket disconnected');
  });
  void joinRooms(socket, chatsForEmployee).then(
    (chatIds) => {
      // With the outbox, `ready` comes from the stream once the replay has handed over to live events.
      if (stream === undefined || streamed === undefined) socket.emit('ready', readyInfo(socket, chatIds));
      else
        stream.start(streamed, after).catch((err: unknown) => {
          log.error({ err, tenantId, userId }, 'starting the event stream failed');
          socket.conn.close();
        });
    },
    (err: unknown) => {
      // Without its chat rooms the socket would silently miss events. Closing the transport (not the
      // socket) makes the client reconnect with backoff, maybe to a node whose store answers.
      log.error({ err, tenantId, userId }, 'joining socket rooms failed');
      socket.conn.close();
    },
  );
}

function attach(io: RealtimeServer, deps: RealtimeDeps): void {
  switch (deps.httpServer) {
    case 'node':
      io.attach(deps.fastify.server);
      return;
    case 'uws':
      attachSocketIoToUws(io, deps.fastify);
      enableUwsPublish(io, uwsAppOf(deps.fastify));
      return;
    default:
      assertNever(deps.httpServer, 'HTTP server kind');
  }
}

/**
 * Joins the socket's rooms; resolves to an employee's chat ids (undefined for an admin).
 *
 * The user room is joined first, synchronously, so a grant, revoke or disconnect issued from now on reaches
 * the socket. A revoke committed while the first chat list was being read could still be undone by our
 * join, so the list is read again after joining and any chat missing from it is left.
 */
async function joinRooms(
  socket: RealtimeSocket,
  chatsForEmployee: RealtimeDeps['chatsForEmployee'],
): Promise<string[] | undefined> {
  const { tenantId, userId, role } = socket.data;
  switch (role) {
    case 'admin':
      await socket.join([userRoom(tenantId, userId), adminsRoom(tenantId)]);
      return undefined;
    case 'employee': {
      await socket.join(userRoom(tenantId, userId));
      const first = await chatsForEmployee(tenantId, userId);
      if (!socket.connected) return first;
      await socket.join(first.map((chatId) => chatRoom(tenantId, chatId)));
      const current = new Set(await chatsForEmployee(tenantId, userId));
      for (const chatId of first) {
        if (!current.has(chatId)) await socket.leave(chatRoom(tenantId, chatId));
      }
      return [...socket.rooms].flatMap((room) => chatIdOfRoom(tenantId, room) ?? []);
    }
    default:
      return assertNever(role, 'role');
  }
}

/** Disconnects the socket when its token expires, telling the client why first. */
function watchExpiry(socket: RealtimeSocket, now: () => number, log: Logger): { timer: NodeJS.Timeout | undefined } {
  const state: { timer: NodeJS.Timeout | undefined } = { timer: undefined };
  const { expiresAt } = socket.data;
  if (expiresAt === undefined) return state;
  const check = (): void => {
    const left = expiresAt - now();
    if (left > 0) {
      state.timer = setTimeout(check, Math.min(left, MAX_TIMER_MS));
      // The socket itself keeps the process alive; this timer should not.
      state.timer.unref();
      return;
    }
    log.debug({ tenantId: socket.data.tenantId, userId: socket.data.userId }, 'socket token expired');
    socket.emit('token_expired');
    socket.disconnect(true);
  };
  check();
  return state;
}

/**
 * Closes the engine (every connection, handshaking ones too) and the adapter, but not the HTTP server:
 * that belongs to Fastify. `io.close()` would close a node:http server under Fastify's feet (and on uWS it
 * leaves the listen socket open anyway; fastify-uws closes that in `fastify.close()`).
 */
async function closeServer(io: RealtimeServer): Promise<void> {
  io.engine.close();
  await io.of('/').adapter.close();
}

function readyInfo(socket: RealtimeSocket, chatIds: string[] | undefined): ReadyInfo {
  const { userId, tenantId, role } = socket.data;
  return chatIds === undefined ? { userId, tenantId, role } : { userId, tenantId, role, chatIds };
}

/** A published event that is stored (has an outbox id and seq); undefined for the ones that are not. */
function toDurable(event: RealtimeEvent): DurableEvent | undefined {
  // pairing_code is never stored.
  if (event.id === undefined || event.seq === undefined || event.name === 'pairing_code') return undefined;
  return { id: event.id, seq: event.seq, name: event.name, chatId: event.chatId, payload: event.payload };
}

/** Another node's event, narrowed: it crossed Redis as unknown. */
function durableFromPeer(value: unknown): DurableEvent | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const e = value as Record<string, unknown>;
  const { id, seq, name, chatId } = e;
  if (typeof id !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(seq) || typeof name !== 'string') return undefined;
  if (chatId !== undefined && typeof chatId !== 'string') return undefined;
  return toDurable({ id, seq, name: name as RealtimeEventName, ...(chatId === undefined ? {} : { chatId }), payload: e.payload });
}

function createStream(io: RealtimeServer, events: EventSource, deps: RealtimeDeps, log: Logger): EventStream {
  const stream = createEventStream({
    source: events,
    rooms: { admins: adminsRoom, chat: chatRoom, pending: pendingRoom },
    emitLocal: (room, except, e) => {
      const meta: EventMeta = { id: e.id, seq: e.seq };
      // One room and no except: the uWS adapter's native topic publish.
      const target = io.local.to(room);
      (except.length === 0 ? target : target.except(except)).emit(e.name, e.payload, meta);
    },
    log,
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
  });
  io.on('wa:event', (tenantId: unknown, event: unknown) => {
    const durable = durableFromPeer(event);
    if (typeof tenantId === 'string' && durable !== undefined) stream.publish(tenantId, durable);
  });
  return stream;
}

/** The stream's view of one socket. */
function streamSocket(socket: RealtimeSocket, info: (chatIds: string[] | undefined) => ReadyInfo): StreamSocket {
  const { tenantId, role } = socket.data;
  const chatIds = (): string[] => [...socket.rooms].flatMap((room) => chatIdOfRoom(tenantId, room) ?? []);
  return {
    id: socket.id,
    tenantId,
    role,
    connected: () => socket.connected,
    chatIds,
    canSee: (chatId) => role === 'admin' || (chatId !== undefined && socket.rooms.has(chatRoom(tenantId, chatId))),
    emit: (e) => void socket.emit(e.name, e.payload, { id: e.id, seq: e.seq }),
    joinPending: () => void socket.join(pendingRoom(tenantId)),
    leavePending: () => void socket.leave(pendingRoom(tenantId)),
    ready: (lastEventId, truncated) => {
      const base = info(role === 'admin' ? undefined : chatIds());
      socket.emit('ready', { ...base, ...(lastEventId === undefined ? {} : { lastEventId }), ...(truncated ? { replayTruncated: true } : {}) });
    },
    fail: () => socket.conn.close(),
  };
}
