import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerFactory, HookHandlerDoneFunction, RawServerDefault } from 'fastify';
import type { Server as SocketIoServer } from 'socket.io';
import type { TemplatedApp } from 'uWebSockets.js';
import { AppError, ErrorCodes, assertNever } from '../domain/errors.js';

/**
 * The one place that knows how Fastify is served through uWebSockets.js (`HTTP_SERVER=uws`).
 *
 * fastify-uws does not export the uWS app it creates; it keeps it on its server object under the internal
 * symbol `Symbol(uws.app)`. Socket.IO needs that app (`io.attachApp`) to share the port, so this file
 * looks the symbol up by description. A fastify-uws upgrade that renames it fails loudly in `uwsAppOf` and
 * in tests/integration/realtime/uws-adapter.test.ts, never silently.
 */

export type HttpServerKind = 'uws' | 'node';

/** What to spread into Fastify's constructor options. */
export interface FastifyServerOptions {
  serverFactory?: FastifyServerFactory<RawServerDefault>;
}

const UWS_APP_SYMBOL_DESCRIPTION = 'uws.app';

/**
 * The native addon's app objects are built in C++ under this class name. The JS fallback that
 * `@trufflesuite/uws-js-unofficial` loads when no binary matches (e.g. Node 22) is a `TemplatedApp` class
 * whose `publish` and topic bookkeeping break Socket.IO room broadcasts, so it must never serve.
 */
const NATIVE_APP_CLASS = 'uWS.App';

function notNative(detail: string): AppError {
  return new AppError(
    ErrorCodes.CONFIG_INVALID,
    `HTTP_SERVER=uws needs the native uWebSockets.js build (Node 20 on linux/darwin x64 or arm64), but ${detail}. ` +
      'Run on Node 20 or set HTTP_SERVER=node.',
  );
}

/**
 * Fastify constructor options for the chosen HTTP server: `{}` for `node`, `{ serverFactory }` from
 * fastify-uws for `uws`. For `uws` it first checks that the native uWS addon loaded and throws
 * `AppError(CONFIG_INVALID)` otherwise. Async because uWS is loaded only when asked for: a `node` server
 * never loads the native addon.
 */
export async function fastifyServerOptions(kind: HttpServerKind): Promise<FastifyServerOptions> {
  switch (kind) {
    case 'node':
      return {};
    case 'uws': {
      const uws = (await import('uWebSockets.js')).default;
      // getParts exists only in the native addon; the JS fallback module does not export it.
      if (typeof uws.getParts !== 'function') throw notNative('the JavaScript fallback was loaded');
      const { serverFactory } = await import('fastify-uws');
      // fastify-uws types its factory with `any`; the server it builds stands in for node:http's.
      return { serverFactory: serverFactory as FastifyServerFactory<RawServerDefault> };
    }
    default:
      return assertNever(kind, 'HTTP server kind');
  }
}

/**
 * The uWS app that serves `fastify` (built with `fastifyServerOptions('uws')`), for `io.attachApp`.
 * Throws `AppError(CONFIG_INVALID)` when Fastify is not on fastify-uws or the app is not the native build.
 */
export function uwsAppOf(fastify: FastifyInstance): TemplatedApp {
  const server: object = fastify.server;
  const symbol = Object.getOwnPropertySymbols(server).find((s) => s.description === UWS_APP_SYMBOL_DESCRIPTION);
  if (symbol === undefined) {
    throw new AppError(
      ErrorCodes.CONFIG_INVALID,
      'Fastify is not served by fastify-uws (no Symbol(uws.app) on fastify.server): build it with fastifyServerOptions("uws")',
    );
  }
  const app: unknown = Reflect.get(server, symbol);
  if (!isNativeUwsApp(app)) throw notNative('the app under fastify-uws is not a native uWS app');
  return app;
}

/** True when `app` was made by the native uWebSockets.js addon. */
export function isNativeUwsApp(app: unknown): app is TemplatedApp {
  return typeof app === 'object' && app !== null && app.constructor.name === NATIVE_APP_CLASS;
}

/** The Socket.IO adapter methods that `io.attachApp` replaces on the shared `Adapter.prototype`. */
const PATCHED_ADAPTER_METHODS = ['addAll', 'del', 'broadcast'] as const;

/**
 * `io.attachApp(app)` for the uWS app under `fastify`, without Socket.IO's process-wide adapter patch.
 *
 * attachApp rewrites `addAll`/`del`/`broadcast` on the `Adapter.prototype` every Socket.IO server in the
 * process shares, binding them to the last attached app (socket.io/dist/uws.js): a second server in the
 * same process (a multi-node test, or a node:http one) then publishes its single-room broadcasts on the
 * wrong app, or throws `websocket.subscribe is not a function` (socketio/socket.io#4542). We put the
 * methods back at once; broadcasts then go socket by socket, as on node:http. The patch only sped up
 * broadcasts to a single room, and our chat events go to two rooms (admins + chat), which it skipped anyway.
 */
export function attachSocketIoToUws(io: SocketIoServer, fastify: FastifyInstance): void {
  const app = uwsAppOf(fastify);
  const proto = adapterPrototypeOf(io);
  const saved = PATCHED_ADAPTER_METHODS.map((name) => [name, Object.getOwnPropertyDescriptor(proto, name)] as const);
  io.attachApp(app);
  for (const [name, descriptor] of saved) {
    if (descriptor !== undefined) Object.defineProperty(proto, name, descriptor);
  }
}

/** The prototype that owns the adapter methods attachApp patches (socket.io-adapter's `Adapter`). */
function adapterPrototypeOf(io: SocketIoServer): object {
  let proto: unknown = Object.getPrototypeOf(io.of('/').adapter);
  while (typeof proto === 'object' && proto !== null) {
    if (PATCHED_ADAPTER_METHODS.every((name) => Object.prototype.hasOwnProperty.call(proto, name))) return proto;
    proto = Object.getPrototypeOf(proto);
  }
  throw new AppError(ErrorCodes.INTERNAL, 'Socket.IO adapter prototype not found: socket.io internals changed');
}

/**
 * onRequest hook (synchronous, registered first): asks the request stream for its body at once. uWS
 * hands body chunks only to a data handler attached in the same tick the request arrived, and
 * fastify-uws attaches it lazily on the first read; an async hook before body parsing (the JWT guard)
 * or a handler that streams a multipart upload would otherwise wait forever for chunks uWS already
 * dropped. `read(0)` attaches it and buffers what arrives until the parser reads it. Harmless on
 * node:http, where chunks wait in the socket anyway.
 */
export function startBodyRead(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const headers = request.raw.headers;
  const hasBody = headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
  if (hasBody) request.raw.read(0);
  done();
}
