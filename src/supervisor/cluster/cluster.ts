import type { Redis } from 'ioredis';
import type { Config } from '../../config.js';
import type { Clock } from '../../domain/clock.js';
import { AppError, ErrorCodes } from '../../domain/errors.js';
import type { Logger } from '../../domain/log.js';
import type { LeaseMetricsHooks } from '../../metrics/hooks.js';
import type { Store } from '../../store/types.js';
import { drainSessions, RELEASED_CHANNEL } from '../drain.js';
import { createLeaseManager, type LeaseManager } from '../leases/lease-manager.js';
import { createRedisLeaseStore } from '../leases/redis-lease-store.js';
import { createReconciler, type Reconciler } from '../reconcile.js';
import { createRouter, type Router } from '../router.js';
import { createRoutedSessions, serveRouted } from '../sessions/routed-sessions.js';
import type { SessionHost } from '../sessions/session-host.js';
import type { SessionService } from '../sessions/session-service.js';
import { createRedisBus, type Bus } from './bus.js';
import { closeRedis, createRedisClient, whenReady } from './redis.js';
import { createRedisRegistry, type NodeInfo, type NodeRegistry } from './registry.js';

/** Bus channel: a user was disabled on some node; every node marks it in its user-status cache. */
const USER_DISABLED_CHANNEL = 'user-disabled';
/** How long start-up waits for Redis before the node refuses to start. */
const CONNECT_TIMEOUT_MS = 10_000;

export interface ClusterOptions {
  config: Config & { REDIS_URL: string };
  nodeId: string;
  store: Store;
  clock: Clock;
  log: Logger;
  metrics?: Pick<LeaseMetricsHooks, 'leaseRenewed' | 'leaseLost'>;
  /** Most claims per reconcile round. Default RESTORE_CONCURRENCY (sessions a node starts at once). */
  maxClaimsPerRound?: number;
}

/** The node's part in a deployment of several nodes sharing one PostgreSQL and one Redis. */
export interface Cluster {
  leases: LeaseManager & { validUntil(tenantId: string): number | undefined };
  /** Two more connections for the Socket.IO adapter (publisher, subscriber), closed by `close()`. */
  adapterClients: { pub: Redis; sub: Redis };
  /**
   * Routing (commands for tenants owned elsewhere) and self-fencing around this node's session service;
   * returns the facade http talks to.
   */
  start(local: SessionService & SessionHost): Promise<SessionService>;
  /** After start (the node listens): the registry heartbeat and, with `claim`, the reconcile loop. */
  run(opts: { claim: boolean }): Promise<void>;
  /** Tells every node (this one included) that a user was disabled. */
  publishUserDisabled(userId: string): Promise<void>;
  onUserDisabled(listener: (userId: string) => void): void;
  /** Readiness: throws while Redis does not answer or the node is draining (GET /readyz). */
  ready(): Promise<void>;
  /** Graceful hand-over (SIGTERM): stop claiming, hand every session to the others. Idempotent. */
  drain(): Promise<void>;
  /** After http and the sessions are closed: stop the loops, leave the registry, close Redis. */
  close(): Promise<void>;
}

export async function createCluster(opts: ClusterOptions): Promise<Cluster> {
  const { config, nodeId, clock } = opts;
  const log = opts.log.child({ component: 'cluster' });
  const ttlMs = config.LEASE_TTL_MS;
  const prefix = config.REDIS_PREFIX;
  const url = config.REDIS_URL;
  // Leases, registry and publishing: fail fast (no offline queue, a deadline well inside the TTL).
  const cmd = createRedisClient({ url, name: `${nodeId}:cmd`, log, offlineQueue: false, commandTimeoutMs: Math.max(200, Math.floor(ttlMs / 6)) });
  const sub = createRedisClient({ url, name: `${nodeId}:bus`, log });
  const adapterPub = createRedisClient({ url, name: `${nodeId}:io-pub`, log });
  const adapterSub = createRedisClient({ url, name: `${nodeId}:io-sub`, log });
  const clients = [cmd, sub, adapterPub, adapterSub];
  try {
    await Promise.all(clients.map((c) => whenReady(c, CONNECT_TIMEOUT_MS)));
  } catch (err) {
    await Promise.all(clients.map((c) => closeRedis(c)));
    throw err;
  }

  const leases = createLeaseManager({
    store: createRedisLeaseStore({ redis: cmd, prefix }),
    sessions: opts.store.sessions,
    nodeId,
    ttlMs,
    clock,
    log,
    ...(opts.metrics === undefined ? {} : { metrics: opts.metrics }),
  });
  const registry: NodeRegistry = createRedisRegistry({ redis: cmd, prefix });
  const bus: Bus = createRedisBus({ publisher: cmd, subscriber: sub, prefix, log });
  const userListeners = new Set<(userId: string) => void>();
  await bus.subscribe(USER_DISABLED_CHANNEL, (userId) => {
    for (const listener of userListeners) listener(userId);
  });

  let draining = false;
  let router: Router | undefined;
  let reconciler: Reconciler | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let local: (SessionService & SessionHost) | undefined;
  const self = (): NodeInfo => ({ nodeId, load: leases.heldTenants().length, capacity: config.NODE_CAPACITY, draining });
  const accepting = (): boolean => !draining && leases.heldTenants().length < config.NODE_CAPACITY;
  const beat = (): Promise<void> => registry.heartbeat(self(), ttlMs);

  let drained: Promise<void> | undefined;
  const drain = async (): Promise<void> => {
    draining = true;
    await reconciler?.stop();
    await beat().catch((err: unknown) => log.warn({ err }, 'could not tell the registry this node is draining'));
    if (local === undefined) return;
    await drainSessions({
      host: local,
      leases,
      announce: async (tenantIds) => void (await bus.publish(RELEASED_CHANNEL, JSON.stringify(tenantIds))),
      log,
    });
  };

  return {
    leases,
    adapterClients: { pub: adapterPub, sub: adapterSub },

    async start(service) {
      local = service;
      // Self-fencing: a lease that is gone (or about to expire unrenewed) stops its actor at once.
      leases.onLost((tenantId, reason) => {
        void service.handOver(tenantId, `lease lost: ${reason}`).catch((err: unknown) => log.error({ err, tenantId }, 'could not stop a session whose lease was lost'));
      });
      router = await createRouter({ bus, nodeId, handle: serveRouted({ local: service, leases, accepting }), log });
      reconciler = createReconciler({
        nodeId,
        store: opts.store,
        leases,
        registry,
        host: service,
        capacity: config.NODE_CAPACITY,
        intervalMs: Math.max(100, Math.floor(ttlMs / 3)),
        maxClaims: opts.maxClaimsPerRound ?? config.RESTORE_CONCURRENCY,
        self,
        log,
      });
      await bus.subscribe(RELEASED_CHANNEL, () => reconciler?.kick());
      return createRoutedSessions({
        local: service,
        leases,
        router,
        registry,
        store: opts.store,
        nodeId,
        accepting,
        // The owner's own actor deadline plus transit, so its timeout answer arrives before ours fires.
        timeoutMs: config.ACTOR_CALL_TIMEOUT_MS + 5_000,
        clock,
        log,
      });
    },

    async run({ claim }) {
      await beat();
      let failing = false;
      heartbeat = setInterval(() => {
        beat().then(
          () => (failing = false),
          (err: unknown) => {
            if (!failing) log.warn({ err }, 'registry heartbeat failed');
            failing = true;
          },
        );
      }, Math.max(100, Math.floor(ttlMs / 3)));
      if (claim) reconciler?.start();
      log.info({ ttlMs, capacity: config.NODE_CAPACITY, claim }, 'joined the cluster');
    },

    async publishUserDisabled(userId) {
      await bus.publish(USER_DISABLED_CHANNEL, userId);
    },
    onUserDisabled(listener) {
      userListeners.add(listener);
    },

    async ready() {
      if (draining) throw new AppError(ErrorCodes.OWNER_UNAVAILABLE, 'this node is draining');
      await cmd.ping();
    },

    drain: () => (drained ??= drain()),

    async close() {
      draining = true;
      await reconciler?.stop();
      clearInterval(heartbeat);
      await router?.close();
      await leases.close();
      await registry.remove(nodeId).catch((err: unknown) => log.warn({ err }, 'could not leave the registry'));
      await bus.close();
      await Promise.all(clients.map((c) => closeRedis(c)));
    },
  };
}
