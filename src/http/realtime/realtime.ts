import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Server, type ExtendedError, type ServerOptions, type Socket } from 'socket.io';
import { ErrorCodes, assertNever } from '../../domain/errors.js';
import type { Logger } from '../../domain/log.js';
import { Role } from '../../domain/types.js';
import type { RealtimeMetricsHooks } from '../../metrics/hooks.js';
import { attachSocketIoToUws, type HttpServerKind } from '../uws-adapter.js';
import { corsOrigin } from './cors.js';
import { authenticateHandshake, connectError, type Authenticate, type Principal } from './handshake.js';
import { adminsRoom, chatIdOfRoom, chatRoom, eventRooms, userRoom } from './rooms.js';

/** Events the gateway publishes to a tenant's sockets. */
export type RealtimeEventName = 'qr' | 'session_status' | 'message' | 'message_ack' | 'chat_updated' | 'pairing_code';

export interface RealtimeEvent {
  name: RealtimeEventName;
  /** Undefined: the tenant's admins only. Set: its admins and the employees assigned to this chat. */
  chatId?: string;
  payload: unknown;
}

/** Sent to a socket once its rooms are joined: from then on it receives every event it may see. */
export const ReadyInfo = Type.Object({
  userId: Type.String(),
  tenantId: Type.String(),
  role: Role,
  chatIds: Type.Optional(
    Type.Array(Type.String(), { description: 'The chats an employee socket follows; absent for admins, who see every chat.' }),
  ),
});
export type ReadyInfo = Static<typeof ReadyInfo>;

export type ServerToClientEvents = Record<RealtimeEventName, (payload: unknown) => void> & {
  ready: (info: ReadyInfo) => void;
  /** Sent just before the server disconnects a socket whose access token expired. */
  token_expired: () => void;
  /** To an employee's own sockets when a chat is assigned to it / taken away (after the room change). */
  chat_assigned: (payload: { chatId: string }) => void;
  chat_revoked: (payload: { chatId: string }) => void;
};
/** Clients send nothing on this channel; REST carries every command. */
export type ClientToServerEvents = Record<string, never>;
type SocketData = Principal & { expiresAt: number | undefined };
type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type RealtimeSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

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
  let closing: Promise<void> | undefined;
  io.use((socket, next) => {
    if (closing !== undefined) next(connectError(ErrorCodes.OWNER_UNAVAILABLE, 'server shutting down'));
    else
      authenticateSocket(socket, deps.authenticate, now(), log).then(next, (err: unknown) => {
        log.error({ err }, 'socket handshake failed');
        next(connectError(ErrorCodes.INTERNAL, 'internal error'));
      });
  });
  io.on('connection', (socket) => onConnection(socket, deps.chatsForEmployee, now, log));
  const close = (): Promise<void> => {
    closing ??= closeServer(io);
    return closing;
  };
  deps.fastify.addHook('preClose', close);

  // The room operations return void: the adapter applies them to local sockets at once and, with a
  // cluster adapter, sends them to the other nodes.
  return {
    publish(tenantId, event) {
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
): Promise<ExtendedError | undefined> {
  const { auth, headers, query } = socket.handshake;
  const result = await authenticateHandshake({ auth, headers, query }, authenticate, now);
  if (result.ok) {
    socket.data = { ...result.principal, expiresAt: result.expiresAt };
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
): void {
  const { tenantId, userId, role } = socket.data;
  log.debug({ tenantId, userId, role, transport: socket.conn.transport.name }, 'socket connected');
  const expiry = watchExpiry(socket, now, log);
  socket.on('disconnect', (reason) => {
    clearTimeout(expiry.timer);
    log.debug({ tenantId, userId, reason }, 'socket disconnected');
  });
  void joinRooms(socket, chatsForEmployee).then(
    (chatIds) => {
      socket.emit('ready', chatIds === undefined ? { userId, tenantId, role } : { userId, tenantId, role, chatIds });
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
