import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { actorIsolation, actorMemoryMb, type Config } from './config.js';
import { systemClock, type Clock } from './domain/clock.js';
import type { Logger } from './domain/log.js';
import type { AccessChange } from './http/access-events.js';
import { createClusterAdapter } from './http/realtime/cluster-adapter.js';
import { createRealtime, type Realtime } from './http/realtime/index.js';
import { outboxEventSource } from './http/realtime/outbox-source.js';
import { buildApp, type HttpApp } from './http/server.js';
import { registerConsole } from './http/static.js';
import { countLeaseAcquisitions } from './metrics/leases.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { fastifyServerOptions } from './http/uws-adapter.js';
import { createChatListCache } from './store/chat-list-cache.js';
import { currentSchema, openDatabase } from './store/db.js';
import { migrate } from './store/migrate.js';
import { acquireNodeLock } from './store/node-lock.js';
import { createRemoteAuthStore } from './store/remote-auth.js';
import { createStore } from './store/store.js';
import { createWebhookQueue } from './store/webhooks.js';
import type { Store, StoredEvent } from './store/types.js';
import { createCluster, type Cluster } from './supervisor/cluster/cluster.js';
import { createLocalLeases } from './supervisor/sessions/leases.js';
import { createSessionService, type SessionService } from './supervisor/sessions/session-service.js';
import type { Isolation } from './supervisor/host.js';
import { createSupervisor } from './supervisor/supervisor.js';
import { createRetentionJob } from './webhooks/retention.js';
import { createWebhookWorker, webhookOptionsFromConfig } from './webhooks/worker.js';

export interface RunningNode {
  /** http://host:port the node listens on. */
  url: string;
  nodeId: string;
  app: HttpApp;
  store: Store;
  sessions: SessionService;
  realtime: Realtime;
  /** This node's Prometheus metrics (served at GET /metrics). */
  metrics: Metrics;
  /** With REDIS_URL: leases, routing, reconcile loop and drain of this node (docs/scale-out.md). */
  cluster: Cluster | undefined;
  /** Graceful stop: sockets, sessions (actors and their engines), HTTP, database. Idempotent. */
  close(): Promise<void>;
}

export interface StartNodeOptions {
  config: Config;
  log: Logger;
  clock?: Clock;
  /** Database schema (tests run each node in their own schema). */
  schema?: string;
  /** Restore the sessions whose desired state is active (default true). */
  restore?: boolean;
  /** Default: a fresh `createMetrics()` (its own registry, so several nodes in one process stay apart). */
  metrics?: Metrics;
  /** The web console's build (`npm run build`); default `dist/console` at the repository root. */
  consoleDir?: string;
  /** Tests: actors in this process (`in-process`), or another behaviour module (e.g. a scripted engine). */
  actors?: { isolation?: Isolation; behaviorModule?: string };
}

/**
 * The built console (vite -> dist/console): beside src/ when running from sources and in the container
 * image (/app/src, /app/dist/console), two levels up from build/src after `npm run build`.
 */
const DEFAULT_CONSOLE_DIR = [new URL('../dist/console', import.meta.url), new URL('../../dist/console', import.meta.url)]
  .map((url) => fileURLToPath(url))
  .find((dir) => existsSync(dir)) ?? fileURLToPath(new URL('../dist/console', import.meta.url));

/**
 * The composition root of one node: config -> store -> supervisor -> sessions -> http + realtime. Used
 * by main.ts, the demo and the end-to-end tests (which start several in one process).
 */
export async function startNode(opts: StartNodeOptions): Promise<RunningNode> {
  const { config } = opts;
  const clock = opts.clock ?? systemClock;
  const nodeId = config.NODE_ID ?? `${hostname()}-${process.pid}`;
  const log = opts.log.child({ nodeId });
  const metrics = opts.metrics ?? createMetrics();

  const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: config.DATABASE_POOL_SIZE, schema: opts.schema, log });
  const cleanups: (() => Promise<void>)[] = [() => db.close()];
  try {
    await migrate(db.sql, { log });
    // Realtime exists once the app is built; events before that have no sockets to reach anyway.
    let realtime: Realtime | undefined;
    // Every node delivers webhooks from the shared outbox and prunes it (docs/webhooks.md); both start
    // once the node listens.
    const webhooks = createWebhookWorker({
      queue: createWebhookQueue(db.sql),
      nodeId,
      log,
      options: webhookOptionsFromConfig(config),
      onAttempt: (result) => metrics.webhookAttempt(result.outcome, result.durationMs / 1000),
    });
    cleanups.unshift(() => webhooks.close());
    // Every stored event (messages, acks, chats, statuses, QR codes) is published from here, after its
    // transaction committed: nobody sees what is not stored, and each carries its outbox id and seq.
    const onEvents = (tenantId: string, events: StoredEvent[]): void => {
      for (const event of events) {
        if (event.name === 'session_status') metrics.sessionStatus(tenantId, statusOf(event.payload));
        const { id, seq, name, chatId, payload } = event;
        realtime?.publish(tenantId, { id, seq, name, ...(chatId === null ? {} : { chatId }), payload });
      }
      // The webhook worker of this node looks now; other nodes find them at their next poll.
      webhooks.nudge();
    };
    // Chat lists from memory between changes (LISTEN/NOTIFY): not with the embedded database, whose one
    // shared session has no room for a listening connection.
    const chatListCache =
      config.CHAT_LIST_CACHE && config.DATABASE_URL !== undefined
        ? await createChatListCache({ url: config.DATABASE_URL, schema: await currentSchema(db.sql), log, clock })
        : undefined;
    if (chatListCache !== undefined) cleanups.unshift(() => chatListCache.close());
    const store = createStore(db.sql, {
      close: () => db.close(),
      onEvents,
      ...(chatListCache === undefined ? {} : { chatListCache }),
      // Other nodes then show the tenant's old chat list until their cache entry expires (10 s at most).
      onNotifyError: (err) => log.warn({ err }, 'could not announce a chat list change to other nodes'),
    });
    const retention = createRetentionJob({ outbox: store.outbox, retentionMs: config.OUTBOX_RETENTION_S * 1000, intervalMs: config.OUTBOX_CLEANUP_INTERVAL_S * 1000, log });
    cleanups.unshift(() => retention.close());
    // Without Redis a node runs alone: a second one on the same database is refused (node-lock.ts).
    const lock =
      config.DATABASE_URL === undefined
        ? undefined
        : await acquireNodeLock({ url: config.DATABASE_URL, schema: opts.schema, mode: config.REDIS_URL === undefined ? 'exclusive' : 'shared', log });
    if (lock !== undefined) cleanups.push(() => lock.release());
    const cluster = config.REDIS_URL === undefined ? undefined : await createCluster({ config: { ...config, REDIS_URL: config.REDIS_URL }, nodeId, store, clock, log, metrics });
    if (cluster !== undefined) cleanups.unshift(() => cluster.close());
    const supervisor = createSupervisor({
      clock,
      log,
      spawn: {
        isolation: opts.actors?.isolation ?? actorIsolation(config),
        memoryMb: actorMemoryMb(config),
        callTimeoutMs: config.ACTOR_CALL_TIMEOUT_MS,
        // Self-fencing stops an actor a third of the TTL before its lease expires: it must be gone by then.
        ...(cluster === undefined ? {} : { stopTimeoutMs: Math.min(10_000, Math.floor(config.LEASE_TTL_MS / 4)) }),
      },
    });
    cleanups.unshift(() => supervisor.close('node start failed'));
    const stopObserving = metrics.observeSupervisor(supervisor);
    cleanups.push(async () => stopObserving());
    const leases = countLeaseAcquisitions(cluster?.leases ?? createLocalLeases({ store, nodeId }), metrics);
    const localSessions = createSessionService({
      config,
      store,
      supervisor,
      leases,
      log,
      clock,
      nodeId,
      metrics,
      // wwebjs RemoteAuth: the browser profiles of this node's sessions, fenced by their lease epochs.
      authStore: (tenantId, epoch) => createRemoteAuthStore(db.sql, tenantId, epoch),
      ...(opts.actors?.behaviorModule === undefined ? {} : { behaviorModule: opts.actors.behaviorModule }),
      // Only events that are not stored pass here; stored ones are published by onEvents above.
      sink: { publish: (tenantId, event) => realtime?.publish(tenantId, event) },
    });
    // With a cluster, commands for tenants owned by another node go there (routed-sessions.ts).
    const sessions = cluster === undefined ? localSessions : await cluster.start(localSessions);
    const onAccessChange = async (change: AccessChange): Promise<void> => {
      // Other nodes' caches of user status learn of a disable at once (their sockets via the adapter).
      if (change.type === 'employee.disabled') await cluster?.publishUserDisabled(change.userId);
      if (realtime === undefined) return;
      if (change.type === 'permission.assigned') await realtime.grant(change.tenantId, change.userId, change.chatId);
      else if (change.type === 'permission.revoked') await realtime.revoke(change.tenantId, change.userId, change.chatId);
      else await realtime.disconnectUser(change.tenantId, change.userId);
    };
    const app = await buildApp({
      config,
      store,
      log,
      clock,
      sessions,
      onAccessChange,
      ...(cluster === undefined ? {} : { readiness: () => cluster.ready() }),
      serverOptions: await fastifyServerOptions(config.HTTP_SERVER),
      beforeReady: async (fastify) => {
        realtime = createRealtime({
          fastify,
          httpServer: config.HTTP_SERVER,
          corsOrigins: config.CORS_ORIGINS,
          authenticate: (token) => fastify.authenticateToken(token),
          chatsForEmployee: async (tenantId, userId) => (await store.permissions.listForUser(tenantId, userId)).map((p) => p.chatId),
          log,
          metrics,
          events: outboxEventSource(store.outbox),
          ...(cluster === undefined ? {} : { adapter: createClusterAdapter({ ...cluster.adapterClients, prefix: config.REDIS_PREFIX, log }) }),
        });
        metrics.observeRealtime(realtime);
        await registerConsole(fastify, {
          distDir: opts.consoleDir ?? DEFAULT_CONSOLE_DIR,
          // The demo's simulated-phone panel, only where there is a simulator.
          demo: config.WA_ENGINE === 'sandbox' ? { simulatorUrl: config.SIM_URL, authenticate: (token) => fastify.authenticateToken(token) } : undefined,
        });
      },
      metrics,
    });
    if (realtime === undefined) throw new Error('realtime was not created');
    const rt: Realtime = realtime;
    cluster?.onUserDisabled((userId) => app.userStatus.markDisabled(userId));
    await app.listen({ port: config.PORT, host: config.HOST });
    const url = listenUrl(app, config.PORT);
    log.info({ url, engine: config.WA_ENGINE, isolation: actorIsolation(config), http: config.HTTP_SERVER }, 'node listening');
    webhooks.start();
    retention.start();

    if (cluster !== undefined) {
      // The reconcile loop claims this node's share of the active sessions, a bounded number per round.
      await cluster.run({ claim: opts.restore !== false });
    } else if (opts.restore !== false) {
      // In the background: the node answers reads while its sessions come back.
      sessions.restoreAll().catch((err: unknown) => log.error({ err }, 'restoring sessions failed'));
    }

    let closing: Promise<void> | undefined;
    const close = async (): Promise<void> => {
      // With a cluster, hand the sessions over first (the others claim them now; meanwhile this node's
      // HTTP routes commands to them). Then sockets and HTTP (no new commands), the sessions (events
      // drain into the store), Redis, the pool.
      await cluster?.drain();
      await app.close();
      await sessions.close();
      await cluster?.close();
      await webhooks.close();
      await retention.close();
      await store.close();
      await lock?.release();
    };
    return { url, nodeId, app, store, sessions, realtime: rt, metrics, cluster, close: () => (closing ??= close()) };
  } catch (err) {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined); // best effort: the start error is what matters
    throw err;
  }
}

/** The status of a `session_status` event payload (`{ status, reason }`), for the sessions gauge. */
function statusOf(payload: unknown): string | null {
  if (typeof payload !== 'object' || payload === null || !('status' in payload)) return null;
  return typeof payload.status === 'string' ? payload.status : null;
}

/** A URL clients on this machine can use: wildcard addresses become 127.0.0.1. */
function listenUrl(app: HttpApp, fallbackPort: number): string {
  const address = app.addresses()[0];
  if (address === undefined || typeof address === 'string') return `http://127.0.0.1:${fallbackPort}`;
  const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}
