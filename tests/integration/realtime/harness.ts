import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import Fastify, { type FastifyInstance } from 'fastify';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { io as connectClient, type ManagerOptions, type Socket as ClientSocket, type SocketOptions } from 'socket.io-client';
import { AppError, ErrorCodes } from '../../../src/domain/errors.js';
import { createLogger } from '../../../src/domain/log.js';
import { ReadyInfo, createRealtime, type Principal, type Realtime } from '../../../src/http/realtime/index.js';
import { fastifyServerOptions, type HttpServerKind } from '../../../src/http/uws-adapter.js';

/**
 * A real server for the realtime tests: a minimal Fastify app (one REST route) with the realtime channel,
 * on port 0, with a jose HS256 `authenticate` and an in-memory chat assignment table standing in for the
 * store. Clients are real socket.io-client sockets.
 */
const SECRET = new TextEncoder().encode('realtime-test-secret-at-least-32-characters');
const Claims = Type.Object({
  sub: Type.String(),
  tid: Type.String(),
  role: Type.Union([Type.Literal('admin'), Type.Literal('employee')]),
});

async function authenticate(token: string): Promise<Principal> {
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, SECRET, { algorithms: ['HS256'] }));
  } catch (err) {
    const expired = err instanceof joseErrors.JWTExpired;
    throw new AppError(ErrorCodes.UNAUTHENTICATED, expired ? 'token expired' : 'invalid token', { cause: err });
  }
  if (!Value.Check(Claims, payload)) throw new AppError(ErrorCodes.UNAUTHENTICATED, 'invalid token');
  return { userId: payload.sub, tenantId: payload.tid, role: payload.role };
}

export interface User extends Principal {
  token: string;
}

export interface Harness {
  kind: HttpServerKind;
  url: string;
  app: FastifyInstance;
  realtime: Realtime;
  /** Chat ids assigned to employees, keyed `tenantId:userId`; edit before connecting or with grant/revoke. */
  assignments: Map<string, Set<string>>;
  /** Runs after chatsForEmployee took its snapshot and before it returns it: lets a test act mid-read. */
  hooks: { afterChatsRead?: (tenantId: string, userId: string) => Promise<void> };
  user(role: Principal['role'], opts?: { tenantId?: string; chats?: string[]; expiresInS?: number }): Promise<User>;
  close(): Promise<void>;
}

export const ALLOWED_ORIGIN = 'http://allowed.example';

export async function startHarness(kind: HttpServerKind, opts: { corsOrigins?: string } = {}): Promise<Harness> {
  const app = Fastify({ ...(await fastifyServerOptions(kind)) });
  app.get('/api/ping', async () => ({ pong: true }));
  const assignments = new Map<string, Set<string>>();
  const hooks: Harness['hooks'] = {};
  const realtime = createRealtime({
    fastify: app,
    httpServer: kind,
    corsOrigins: opts.corsOrigins ?? `${ALLOWED_ORIGIN},null`,
    authenticate,
    chatsForEmployee: async (tenantId, userId) => {
      const snapshot = [...(assignments.get(`${tenantId}:${userId}`) ?? [])];
      await hooks.afterChatsRead?.(tenantId, userId);
      return snapshot;
    },
    log: createLogger({ level: 'silent' }),
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const defaultTenant = randomUUID();
  return {
    kind,
    url,
    app,
    realtime,
    assignments,
    hooks,
    async user(role, o = {}) {
      const tenantId = o.tenantId ?? defaultTenant;
      const userId = randomUUID();
      assignments.set(`${tenantId}:${userId}`, new Set(o.chats ?? []));
      const jwt = new SignJWT({ tid: tenantId, role }).setProtectedHeader({ alg: 'HS256' }).setSubject(userId);
      if (o.expiresInS !== undefined) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + o.expiresInS);
      return { userId, tenantId, role, token: await jwt.sign(SECRET) };
    },
    close: () => app.close(),
  };
}

/** A token signed with `alg: none`: it must never be accepted. */
export function unsignedToken(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

type ClientOptions = Partial<ManagerOptions & SocketOptions>;

/** Every event a client socket receives, in order, read one at a time. */
export class Inbox {
  private readonly queue: { name: string; payload: unknown }[] = [];
  private waiter: ((event: { name: string; payload: unknown }) => void) | undefined;

  constructor(socket: ClientSocket) {
    socket.onAny((name: string, payload: unknown) => {
      const event = { name, payload };
      if (this.waiter === undefined) {
        this.queue.push(event);
        return;
      }
      const resolve = this.waiter;
      this.waiter = undefined;
      resolve(event);
    });
  }

  /** The next event not read yet. */
  next(): Promise<{ name: string; payload: unknown }> {
    const event = this.queue.shift();
    if (event !== undefined) return Promise.resolve(event);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }
}

export interface Client {
  socket: ClientSocket;
  ready: ReadyInfo;
  inbox: Inbox;
}

const clients = new Set<ClientSocket>();

/** A socket.io-client socket, without automatic reconnection, closed by `closeClients`. */
export function openSocket(url: string, opts: ClientOptions): ClientSocket {
  const socket = connectClient(url, { forceNew: true, reconnection: false, ...opts });
  clients.add(socket);
  return socket;
}

/** A socket.io-client socket that connected and got `ready` (its rooms are joined). */
export async function connect(url: string, opts: ClientOptions): Promise<Client> {
  const socket = openSocket(url, opts);
  const inbox = new Inbox(socket);
  const ready = await new Promise<ReadyInfo>((resolve, reject) => {
    socket.once('connect_error', reject);
    // `ready` is read here and never reaches the inbox's queue consumers: tests see only what follows it.
    // A revoke racing the connect may send its `chat_revoked` notice first (the user room is joined
    // before the chats are read again); the chat is already left, so the notice is skipped here.
    const awaitReady = (): void => {
      void inbox.next().then((event) => {
        if (event.name === 'chat_revoked') return awaitReady();
        if (event.name === 'ready' && Value.Check(ReadyInfo, event.payload)) resolve(event.payload);
        else reject(new Error(`expected ready, got ${event.name} ${JSON.stringify(event.payload)}`));
      });
    };
    awaitReady();
  });
  return { socket, ready, inbox };
}

/** The connect_error a refused handshake produces. */
export function refusal(url: string, opts: ClientOptions): Promise<{ message: string; data: unknown }> {
  const socket = openSocket(url, opts);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error('connected, expected a refusal')));
    socket.once('connect_error', (err: Error & { data?: unknown }) => resolve({ message: err.message, data: err.data }));
  });
}

export function nextDisconnect(socket: ClientSocket): Promise<string> {
  return new Promise((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
}

/** Closes every client socket the helpers opened. */
export function closeClients(): void {
  for (const socket of clients) socket.close();
  clients.clear();
}
