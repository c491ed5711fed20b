import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyHttpOptions, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '../config.js';
import { systemClock, type Clock } from '../domain/clock.js';
import type { Logger } from '../domain/log.js';
import type { Store } from '../store/types.js';
import { createAccessNotifier, type AccessChangeListener } from './access-events.js';
import { createGuard } from './auth/guard.js';
import { createPasswordHasher, type PasswordHasher } from './auth/passwords.js';
import { createRefreshTokens } from './auth/refresh-tokens.js';
import { createSessionService } from './auth/sessions.js';
import { createAccessTokens, parseSecretList, type Principal } from './auth/tokens.js';
import { createUserStatusCache, type UserStatusCache } from './auth/user-status.js';
import { ErrorBody, handleError, handleNotFound } from './errors.js';
import { registerBodyTimeout } from './plugins/body-timeout.js';
import { registerDocs } from './plugins/docs.js';
import { createLoginRateLimit } from './plugins/login-rate-limit.js';
import { registerSecurity } from './plugins/security.js';
import { authRoutes } from './routes/auth/index.js';
import { chatRoutes } from './routes/chats/index.js';
import { eventRoutes } from './routes/events/index.js';
import { employeeRoutes } from './routes/employees/index.js';
import { healthRoutes } from './routes/health/index.js';
import { mediaRoutes } from './routes/media/index.js';
import { permissionRoutes } from './routes/permissions/index.js';
import { messageRoutes } from './routes/messages/index.js';
import { profilePhotoRoutes } from './routes/profile-photo/index.js';
import { webhookRoutes } from './routes/webhooks/index.js';
import { whatsappRoutes } from './routes/whatsapp/index.js';
import { testClientRoutes } from './test-client/index.js';
import { metricsRoutes, type MetricsSource } from './routes/metrics/index.js';
import type { HttpMetricsHooks } from '../metrics/hooks.js';
import type { SessionService } from '../supervisor/sessions/session-service.js';
import { startBodyRead, type FastifyServerOptions } from './uws-adapter.js';

export interface HttpDeps {
  config: Config;
  store: Store;
  /** Root logger; the app logs as `component: 'http'` with a request id per request. */
  log: Logger;
  /**
   * Default: an argon2id pool of PASSWORD_HASH_THREADS threads, created here and stopped by
   * `app.close()`. One passed in belongs to the caller, who closes it.
   */
  passwordHasher?: PasswordHasher;
  /** Default: the system clock. Token issue/expiry, refresh expiry and the user cache use it. */
  clock?: Clock;
  /**
   * Default: a per-app cache of disabled users. Pass one to reach it from elsewhere, e.g. to call
   * `markDisabled` when another node disables a user.
   */
  userStatus?: UserStatusCache;
  /**
   * Told of every committed permission change and employee disable, awaited before the route answers
   * (e.g. to cut realtime sockets). Failures are logged, not thrown.
   */
  onAccessChange?: AccessChangeListener;
  /**
   * Fastify `trustProxy`. Default false. Behind an ingress or load balancer set it (e.g. to the proxy's
   * address range), or every client shares the proxy's address and the per-address login limit.
   */
  trustProxy?: FastifyHttpOptions<Server>['trustProxy'];
  /** Default: node:http. `await fastifyServerOptions(config.HTTP_SERVER)` (uws-adapter.ts) picks uWS. */
  serverOptions?: FastifyServerOptions;
  /**
   * More of what GET /readyz checks besides the database (with a cluster: Redis answers, the node is not
   * draining). Throws when the node should get no traffic.
   */
  readiness?: () => Promise<void>;
  /**
   * Runs after every route is registered and before `app.ready()`: the place to attach what needs the
   * app or its server before it starts (the Socket.IO channel).
   */
  beforeReady?: (app: HttpApp) => void | Promise<void>;
  /**
   * The node's session service: when given, the routes that need a live WhatsApp session are served
   * (init/logout/status, send, profile photo, media not yet stored).
   */
  sessions?: SessionService;
  /**
   * The node's metrics (src/metrics `createMetrics()`): when given, every request's latency is recorded
   * by route pattern and status, and GET /metrics serves them (behind METRICS_BASIC_AUTH when set).
   */
  metrics?: HttpMetricsHooks & MetricsSource;
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The access-token check of the REST routes for a bare token (signature, expiry, type, not
     * disabled): what the Socket.IO handshake should use.
     */
    authenticateToken(token: string): Promise<Principal>;
    /** The disabled-user cache the routes consult; `markDisabled` it when another node disables a user. */
    userStatus: UserStatusCache;
  }
}

export type HttpApp = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

/** Printed in the API document. */
const API_VERSION = '0.1.0';

/** A caller's request id is kept for correlation only when it is short and plain. */
const SAFE_REQUEST_ID = /^[\w.:-]{1,64}$/;

/**
 * Builds the REST API: every plugin and route registered and ready, never listening (the caller calls
 * `listen`, tests call `inject`). `app.close()` stops everything the app created, including the
 * password hashing pool.
 */
export async function buildApp(deps: HttpDeps): Promise<HttpApp> {
  const { config } = deps;
  const clock = deps.clock ?? systemClock;
  const ownHasher = deps.passwordHasher === undefined;
  const hasher = deps.passwordHasher ?? createPasswordHasher({ threads: config.PASSWORD_HASH_THREADS });

  const logger: FastifyBaseLogger = deps.log.child({ component: 'http' });
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Slow clients (slowloris). Fastify turns Node's request timeout off by default; Node enforces it
    // on a timer (hence the checking interval), for the headers and a body nobody reads yet; a body a
    // handler reads is bounded by registerBodyTimeout. On uWS, fastify-uws bounds each request, from
    // receipt to answer, by `connectionTimeout`; on node that is the idle time of a connection.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    connectionTimeout: config.REQUEST_TIMEOUT_MS,
    http: { connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(config.REQUEST_TIMEOUT_MS / 4))) },
    // Bad URLs and over-long path parameters are refused by the router before any hook runs: answer
    // them in the API's error shape too.
    frameworkErrors: handleError,
    trustProxy: deps.trustProxy ?? false,
    // One access line per request (the onResponse hook in register) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    ...(deps.serverOptions?.serverFactory === undefined ? {} : { serverFactory: deps.serverOptions.serverFactory }),
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // First, so a failure further down still stops the pool when the caller closes the half-built app.
  app.addHook('onClose', async () => {
    if (ownHasher) await hasher.close();
  });

  try {
    await register(app, deps, hasher, clock);
    await deps.beforeReady?.(app);
    await app.ready();
  } catch (err) {
    await app.close();
    throw err;
  }
  return app;
}

async function register(app: HttpApp, deps: HttpDeps, hasher: PasswordHasher, clock: Clock): Promise<void> {
  const { config, store } = deps;
  const tokens = createAccessTokens({
    secret: config.JWT_SECRET,
    previousSecrets: parseSecretList(config.JWT_PREVIOUS_SECRETS),
    issuer: config.JWT_ISSUER,
    ttlS: config.ACCESS_TOKEN_TTL_S,
    clock,
  });
  const refreshTokens = createRefreshTokens({
    repo: store.refreshTokens,
    ttlS: config.REFRESH_TOKEN_TTL_S,
    clock,
    log: app.log,
  });
  const userStatus = deps.userStatus ?? createUserStatusCache({ users: store.users, clock });
  const guard = createGuard({ tokens, userStatus });
  const sessions = createSessionService({ store, hasher, tokens, refreshTokens });
  const notify = createAccessNotifier(deps.onAccessChange, app.log);

  app.addSchema(ErrorBody);
  app.decorateRequest('principal', null);
  app.decorate('authenticateToken', guard.verifyToken);
  app.decorate('userStatus', userStatus);
  // First hook, synchronous on purpose: start reading the body now (see startBodyRead).
  app.addHook('onRequest', startBodyRead);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // A JSON API: a text/plain body is a client mistake worth a 415, not a string to validate.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);

  // Fastify logs "incoming request" and "request completed" for each request; at thousands of reads
  // per second logging was a tenth of the node's CPU (bench: rest, profiled). One line keeps what both said.
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      // No request.ip here: on uWS the connection may not be read once the response is sent (it throws).
      { req: { method: request.method, url: request.url }, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime },
      'request completed',
    );
  });

  const metrics = deps.metrics;
  if (metrics !== undefined) {
    app.addHook('onResponse', async (request, reply) => {
      // The route pattern, never the raw URL (ids would make a series per chat); no route: one label.
      const route = request.routeOptions.url ?? 'unmatched';
      metrics.httpRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    });
  }

  if (deps.serverOptions?.serverFactory === undefined) registerBodyTimeout(app, config.REQUEST_TIMEOUT_MS);
  await registerSecurity(app, config);
  await registerDocs(app, { version: API_VERSION });

  const loginRateLimit = createLoginRateLimit(app, { max: config.LOGIN_RATE_LIMIT, windowS: config.LOGIN_RATE_WINDOW_S });
  await app.register(healthRoutes, { store, ...(deps.readiness === undefined ? {} : { readiness: deps.readiness }) });
  if (metrics !== undefined) await app.register(metricsRoutes, { metrics, basicAuth: config.METRICS_BASIC_AUTH });
  await app.register(authRoutes, { prefix: '/api/auth', sessions, loginRateLimit });
  await app.register(employeeRoutes, { prefix: '/api/auth', store, hasher, userStatus, guard, notify });
  await app.register(permissionRoutes, { prefix: '/api/permissions', store, guard, notify });
  await app.register(chatRoutes, { prefix: '/api/chats', store, guard });
  await app.register(eventRoutes, { prefix: '/api/events', store, guard });
  await app.register(webhookRoutes, { prefix: '/api/webhooks', store, guard, allowPrivateUrls: config.WEBHOOK_ALLOW_PRIVATE_URLS });
  const live = deps.sessions;
  await app.register(mediaRoutes, {
    prefix: '/api/media',
    store,
    guard,
    ...(live === undefined ? {} : { fetchMedia: (tenantId: string, messageId: string) => live.fetchMedia(tenantId, messageId) }),
  });
  if (live !== undefined) {
    await app.register(whatsappRoutes, { prefix: '/api/whatsapp', sessions: live, guard });
    await app.register(messageRoutes, { prefix: '/api/chats', store, sessions: live, guard, mediaMaxBytes: config.MEDIA_MAX_BYTES });
    await app.register(profilePhotoRoutes, { prefix: '/api/media/profile-photo', store, sessions: live, guard });
    await app.register(testClientRoutes);
  }
}
