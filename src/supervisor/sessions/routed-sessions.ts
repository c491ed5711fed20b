import type { Clock } from '../../domain/clock.js';
import { AppError, ErrorCodes, isAppError } from '../../domain/errors.js';
import type { Logger } from '../../domain/log.js';
import type { Store } from '../../store/types.js';
import type { NodeRegistry } from '../cluster/registry.js';
import type { LeaseHolder } from '../leases/lease-store.js';
import type { LeaseManager } from '../leases/lease-manager.js';
import {
  decodeValue,
  fromBase64,
  MediaWire,
  MessageWire,
  PairingCodeWire,
  PhotoWire,
  QrWire,
  SessionViewWire,
  toBase64,
  type RouteRequest,
} from '../route-protocol.js';
import type { Router } from '../router.js';
import type { SessionService, SessionView } from './session-service.js';

export interface RoutedSessionsDeps {
  /** This node's own service: runs what this node owns. */
  local: SessionService;
  leases: LeaseManager;
  router: Router;
  registry: NodeRegistry;
  store: Pick<Store, 'sessions'>;
  nodeId: string;
  /** Whether this node takes a new tenant now (not draining, below capacity). */
  accepting(): boolean;
  /** Deadline of a routed command, end to end (ACTOR_CALL_TIMEOUT_MS plus transit). */
  timeoutMs: number;
  clock: Clock;
  log: Logger;
}

/** Looks for a new owner this many times (100 ms doubling) before answering 503. */
const MAX_ATTEMPTS = 5;

/**
 * The session service http talks to on a node of a cluster. Commands (init, logout, send, media, profile
 * photo) and the current QR (kept in the owner's memory) run where the tenant's lease is: here, or on the owner through the router, so any node answers
 * any request. Reads (status) stay local: they come from PostgreSQL.
 *
 * - No owner yet: `init` starts the session here, or on the least-loaded node when this one takes no
 *   tenants; `logout` runs here; the rest answer 503 with Retry-After while the session is being placed
 *   (desired active), or what this node would answer (not running) when it is stopped.
 * - Owner not listening (its process died, the lease has not expired): looked up again a few times, then
 *   503 with Retry-After set to the time the lease has left, after which another node takes over.
 * - Owner silent past the deadline: 504, or 503 when the owner has vanished meanwhile.
 */
export function createRoutedSessions(deps: RoutedSessionsDeps): SessionService {
  const { local, leases, router, nodeId } = deps;
  const log = deps.log.child({ component: 'routing' });

  async function route<T>(
    request: RouteRequest,
    runLocal: () => Promise<T>,
    unowned: () => Promise<T>,
    decode: (value: unknown) => T,
  ): Promise<T> {
    const deadline = deps.clock.now() + deps.timeoutMs;
    let holder: LeaseHolder | null = null;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) await pause(Math.min(100 * 2 ** (attempt - 1), Math.max(0, deadline - deps.clock.now())));
      holder = (await leases.holders([request.tenantId]))[0] ?? null;
      if (holder === null) return unowned();
      if (holder.nodeId === nodeId) return runLocal();
      const remaining = deadline - deps.clock.now();
      if (remaining <= 0) break;
      try {
        return decode(await router.request(holder.nodeId, request, remaining));
      } catch (err) {
        if (isMoved(err)) {
          log.debug({ tenantId: request.tenantId, op: request.op, owner: holder.nodeId, attempt }, 'owner moved or unreachable; looking again');
          continue;
        }
        if (isRoutedTimeout(err) && !(await isLive(holder.nodeId))) throw ownerGone(holder);
        throw err;
      }
    }
    throw ownerGone(holder);
  }

  async function isLive(id: string): Promise<boolean> {
    try {
      return (await deps.registry.live()).some((n) => n.nodeId === id);
    } catch {
      return true; // cannot tell: keep the timeout answer
    }
  }

  /** Desired active but nobody runs it yet (failover, placement): come back shortly. */
  async function notPlacedYet<T>(tenantId: string, fallback: () => Promise<T>): Promise<T> {
    const session = await deps.store.sessions.get(tenantId);
    if (session?.desiredState === 'active') throw ownerGone(null);
    return fallback();
  }

  async function initUnowned(tenantId: string): Promise<SessionView> {
    if (deps.accepting()) return local.init(tenantId);
    const target = (await deps.registry.live())
      .filter((n) => n.nodeId !== nodeId && !n.draining && n.load < n.capacity)
      .sort((a, b) => a.load / a.capacity - b.load / b.capacity)[0];
    if (target !== undefined) {
      return decodeValue(SessionViewWire, await router.request(target.nodeId, { op: 'init', tenantId }, deps.timeoutMs));
    }
    // Nobody can take it now: recorded, and the first node with room claims it in its reconcile round.
    await deps.store.sessions.setDesired(tenantId, 'active');
    return local.status(tenantId);
  }

  return {
    ...local,
    init: (tenantId) =>
      route({ op: 'init', tenantId }, () => local.init(tenantId), () => initUnowned(tenantId), (v) => decodeValue(SessionViewWire, v)),
    logout: (tenantId) =>
      route({ op: 'logout', tenantId }, () => local.logout(tenantId), () => local.logout(tenantId), (v) => decodeValue(SessionViewWire, v)),
    send(tenantId, chatId, content) {
      const media = content.media === undefined ? {} : { media: { ...content.media, data: toBase64(content.media.data) } };
      return route(
        { op: 'send', tenantId, chatId, body: content.body, ...media },
        () => local.send(tenantId, chatId, content),
        () => notPlacedYet(tenantId, () => local.send(tenantId, chatId, content)),
        (v) => decodeValue(MessageWire, v),
      );
    },
    fetchMedia(tenantId, messageId) {
      return route(
        { op: 'media', tenantId, messageId },
        () => local.fetchMedia(tenantId, messageId),
        () => notPlacedYet(tenantId, () => local.fetchMedia(tenantId, messageId)),
        (v) => {
          const m = decodeValue(MediaWire, v);
          return m === null ? null : { mimetype: m.mimetype, filename: m.filename, data: fromBase64(m.data) };
        },
      );
    },
    currentQr(tenantId) {
      // No owner: no session shows a QR.
      return route({ op: 'qr', tenantId }, () => local.currentQr(tenantId), async () => null, (v) => decodeValue(QrWire, v));
    },
    pairingCode(tenantId, phone) {
      return route(
        { op: 'pairing_code', tenantId, phone },
        () => local.pairingCode(tenantId, phone),
        () => notPlacedYet(tenantId, () => local.pairingCode(tenantId, phone)),
        (v) => decodeValue(PairingCodeWire, v),
      );
    },
    profilePhoto(tenantId, chatId) {
      return route(
        { op: 'photo', tenantId, chatId },
        () => local.profilePhoto(tenantId, chatId),
        () => notPlacedYet(tenantId, () => local.profilePhoto(tenantId, chatId)),
        (v) => {
          const p = decodeValue(PhotoWire, v);
          return p === null ? null : { mimetype: p.mimetype, data: fromBase64(p.data) };
        },
      );
    },
  };
}

/**
 * The owner side of routing: runs a command another node forwarded, if this node still owns the tenant.
 * A command for a tenant it does not own is answered "moved" (not run), so the sender looks again.
 */
export function serveRouted(deps: { local: SessionService; leases: LeaseManager; accepting(): boolean }) {
  const moved = (): AppError => new AppError(ErrorCodes.OWNER_UNAVAILABLE, 'this node does not own the session', { details: { reason: 'moved' } });
  return async (request: RouteRequest): Promise<unknown> => {
    const { local, leases } = deps;
    const owned = leases.held(request.tenantId) !== undefined;
    switch (request.op) {
      case 'init': {
        if (owned) return local.init(request.tenantId);
        const [holder] = await leases.holders([request.tenantId]);
        if (holder != null || !deps.accepting()) throw moved();
        return local.init(request.tenantId);
      }
      case 'logout':
        if (!owned) throw moved();
        return local.logout(request.tenantId);
      case 'send': {
        if (!owned) throw moved();
        const media = request.media === undefined ? {} : { media: { ...request.media, data: fromBase64(request.media.data) } };
        return local.send(request.tenantId, request.chatId, { body: request.body, ...media });
      }
      case 'media': {
        if (!owned) throw moved();
        const m = await local.fetchMedia(request.tenantId, request.messageId);
        return m === null ? null : { mimetype: m.mimetype, filename: m.filename, data: toBase64(m.data) };
      }
      case 'qr':
        if (!owned) throw moved();
        return local.currentQr(request.tenantId);
      case 'pairing_code':
        if (!owned) throw moved();
        return local.pairingCode(request.tenantId, request.phone);
      case 'photo': {
        if (!owned) throw moved();
        const p = await local.profilePhoto(request.tenantId, request.chatId);
        return p === null ? null : { mimetype: p.mimetype, data: toBase64(p.data) };
      }
    }
  };
}

function isMoved(err: unknown): boolean {
  if (!isAppError(err) || err.code !== ErrorCodes.OWNER_UNAVAILABLE) return false;
  const reason = err.details?.reason;
  return reason === 'moved' || reason === 'unreachable';
}

function isRoutedTimeout(err: unknown): boolean {
  return isAppError(err) && err.code === ErrorCodes.ACTOR_TIMEOUT && err.details?.routed === true;
}

/** 503 with Retry-After: the lease's remaining time (after which another node takes over), at least 1 s. */
function ownerGone(holder: LeaseHolder | null): AppError {
  const retryAfterS = Math.max(1, Math.min(60, Math.ceil((holder?.ttlMs ?? 1_000) / 1_000) + 1));
  return new AppError(ErrorCodes.OWNER_UNAVAILABLE, 'the node running this session is unavailable; try again shortly', {
    details: { retryAfterS },
  });
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
