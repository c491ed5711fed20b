import type { AuthStore } from '../../domain/auth-store.js';
import type { Clock } from '../../domain/clock.js';
import { ErrorCodes, isAppError } from '../../domain/errors.js';
import type { Logger } from '../../domain/log.js';
import type { SessionEvent } from '../../actors/session-protocol.js';
import type { Store } from '../../store/types.js';
import type { SessionMetricsHooks } from '../../metrics/hooks.js';
import type { EventSink } from './event-sink.js';
import { qrDataUrl } from './qr-image.js';

type MessageEvent = Extract<SessionEvent, { type: 'evt.message' }>;
type AuthEvent = Extract<SessionEvent, { type: 'evt.auth_save' | 'evt.auth_delete' }>;

interface TenantQueue {
  epoch: number;
  events: SessionEvent[];
  running: Promise<void> | null;
}

export interface IngestDeps {
  store: Store;
  /**
   * Events that are not stored. Stored ones (messages, acks, chats, statuses, QR codes) are written to the
   * outbox in the write's own transaction and published by the store's `onEvents` after the commit.
   */
  sink: EventSink;
  log: Logger;
  clock: Clock;
  /** Tells the actor which deliveries are stored (ok) or given up (not ok): persist, then ack. */
  confirm(tenantId: string, deliveryIds: number[], ok: boolean): void;
  /** The tenant's lease was taken over (a write was fenced off): stop the actor. */
  onFenced(tenantId: string): void;
  /** The session's credentials changed (persisted); the node refreshes what a restarted actor gets. */
  onCredentials(tenantId: string, credentials: string | null): void;
  /** The session shows a new QR code (its text, for GET /api/whatsapp/qr). */
  onQr?(tenantId: string, qr: string): void;
  /** A status was stored; the node reacts (logged_out -> desired stopped, ...). */
  onStatus(tenantId: string, status: string, reason: string | null): Promise<void>;
  /**
   * The wwebjs engine's RemoteAuth store of a tenant, writing with lease epoch `epoch` (a stale epoch is
   * refused, which stops the actor like any fenced write). Unset: RemoteAuth writes are dropped.
   */
  authStore?(tenantId: string, epoch: number): AuthStore;
  /** A RemoteAuth zip was stored (null: deleted); the node refreshes what a restarted actor gets. */
  onAuth?(tenantId: string, session: string, zip: Uint8Array | null): void;
  /** How long a write is retried while the database is unreachable. Default 60 000 ms. */
  retryForMs?: number;
  /** Batch sizes and write times, inbound messages stored (src/metrics); optional. */
  metrics?: Pick<SessionMetricsHooks, 'persistBatch' | 'messages'>;
}

export interface Ingest {
  /** Queue an actor's event; events of one tenant are handled in arrival order. */
  accept(tenantId: string, epoch: number, event: SessionEvent): void;
  /** Resolves when every queued event of every tenant is handled. */
  drain(): Promise<void>;
  /** Resolves when every queued event of this tenant is handled (its actor is stopped: no new ones). */
  drainTenant(tenantId: string): Promise<void>;
}

/** Most messages in one transaction. */
const MAX_BATCH = 500;

/**
 * Stores what actors report, then publishes it: nobody sees what is not stored. Each tenant has an
 * ordered queue; consecutive messages at its head are written as one batch (group commit: while one
 * batch commits, the next gathers). A write that fails because the database is unreachable is retried
 * with backoff for `retryForMs`, so a PostgreSQL restart loses nothing; a fenced write (an older lease
 * epoch) stops the tenant instead.
 */
export function createIngest(deps: IngestDeps): Ingest {
  const queues = new Map<string, TenantQueue>();
  const retryForMs = deps.retryForMs ?? 60_000;
  const log = deps.log.child({ component: 'ingest' });

  function accept(tenantId: string, epoch: number, event: SessionEvent): void {
    let q = queues.get(tenantId);
    if (q === undefined) {
      q = { epoch, events: [], running: null };
      queues.set(tenantId, q);
    }
    q.epoch = epoch;
    q.events.push(event);
    kick(tenantId, q);
  }

  function kick(tenantId: string, q: TenantQueue): void {
    if (q.running !== null) return;
    q.running = run(tenantId, q).finally(() => {
      q.running = null;
      // Events that arrived after the loop's last check but before this callback.
      if (q.events.length > 0) kick(tenantId, q);
      else queues.delete(tenantId);
    });
  }

  async function run(tenantId: string, q: TenantQueue): Promise<void> {
    while (q.events.length > 0) {
      const head = q.events[0] as SessionEvent;
      if (head.type === 'evt.message') {
        let n = 0;
        while (n < q.events.length && n < MAX_BATCH && q.events[n]?.type === 'evt.message') n++;
        const batch = q.events.splice(0, n) as MessageEvent[];
        await guarded(tenantId, () => storeMessages(tenantId, q.epoch, batch), (ok) => deps.confirm(tenantId, batch.map((e) => e.deliveryId), ok));
      } else {
        q.events.shift();
        await guarded(tenantId, () => handleOne(tenantId, q.epoch, head), () => undefined);
      }
    }
  }

  /** Runs a write with retries while the store is unavailable; reports success or giving up. */
  async function guarded(tenantId: string, write: () => Promise<void>, done: (ok: boolean) => void): Promise<void> {
    const deadline = deps.clock.now() + retryForMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await write();
        done(true);
        return;
      } catch (err) {
        if (isAppError(err) && err.code === ErrorCodes.STALE_EPOCH) {
          log.warn({ tenantId }, 'write fenced off: another node holds the lease');
          done(false);
          deps.onFenced(tenantId);
          return;
        }
        const retryable = isAppError(err) && err.code === ErrorCodes.STORE_UNAVAILABLE;
        if (!retryable || deps.clock.now() >= deadline) {
          log.error({ err, tenantId, attempt }, 'could not store a session event');
          done(false);
          return;
        }
        // 100 ms doubling to 5 s: quick after a blip, gentle on a database that is restarting.
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * 2 ** attempt)));
      }
    }
  }

  async function storeMessages(tenantId: string, epoch: number, batch: MessageEvent[]): Promise<void> {
    const started = performance.now();
    // Messages and their bytes in one transaction: a failed write (a full disk) leaves nothing half
    // stored, and its retry finds every message still new.
    const media = batch.flatMap((e) => (e.media === null ? [] : [{ messageId: e.message.id, mimetype: e.media.mimetype, filename: e.media.filename, data: e.media.data }]));
    const fresh = await deps.store.messages.insertMany(tenantId, batch.map((e) => e.message), { epoch }, media);
    deps.metrics?.persistBatch(batch.length, (performance.now() - started) / 1000);
    deps.metrics?.messages('in', fresh.reduce((n, m) => (m.fromMe ? n : n + 1), 0));
  }

  async function handleOne(tenantId: string, epoch: number, event: Exclude<SessionEvent, MessageEvent>): Promise<void> {
    switch (event.type) {
      case 'evt.status':
        // The status and its session_status event commit together (the store publishes it). Linking that
        // ended for good (logged out, failed) needs the admin's init again, not a restart loop: the
        // desired state turns `stopped` in the same transaction, before anyone sees the status.
        await deps.store.sessions.setStatus(
          tenantId,
          epoch,
          event.status,
          event.reason,
          event.status === 'logged_out' || event.status === 'failed' ? { desired: 'stopped' } : undefined,
        );
        await deps.onStatus(tenantId, event.status, event.reason);
        return;
      case 'evt.qr':
        deps.onQr?.(tenantId, event.qr);
        await deps.store.outbox.append(tenantId, [{ name: 'qr', chatId: null, payload: await qrDataUrl(event.qr) }], { epoch });
        return;
      case 'evt.credentials': {
        const bytes = event.credentials === null ? null : new TextEncoder().encode(event.credentials);
        await deps.store.sessions.saveCredentials(tenantId, epoch, bytes);
        deps.onCredentials(tenantId, event.credentials);
        return;
      }
      case 'evt.history': {
        await deps.store.messages.insertMany(tenantId, event.messages, { epoch });
        // The network's view of each chat (name, unread, last message) wins over what inserts counted.
        await deps.store.chats.upsertMany(tenantId, event.chats);
        return;
      }
      case 'evt.auth_save':
      case 'evt.auth_delete':
        await storeAuth(tenantId, epoch, event);
        return;
      case 'evt.ack': {
        await deps.store.messages.updateAcks(tenantId, [{ id: event.id, ack: event.ack }], { epoch });
        return;
      }
    }
  }

  /** RemoteAuth's zip of the browser profile: saved or deleted, fenced by the lease epoch. Never logged. */
  async function storeAuth(tenantId: string, epoch: number, event: AuthEvent): Promise<void> {
    const auth = deps.authStore?.(tenantId, epoch);
    if (auth === undefined) {
      log.warn({ tenantId, type: event.type }, 'dropped a RemoteAuth write: this node has no RemoteAuth store');
      return;
    }
    if (event.type === 'evt.auth_save') await auth.save(event.session, event.zip);
    else await auth.delete(event.session);
    deps.onAuth?.(tenantId, event.session, event.type === 'evt.auth_save' ? event.zip : null);
  }

  async function drain(): Promise<void> {
    while (queues.size > 0) {
      await Promise.all([...queues.values()].map((q) => q.running));
    }
  }

  async function drainTenant(tenantId: string): Promise<void> {
    for (let q = queues.get(tenantId); q !== undefined; q = queues.get(tenantId)) await q.running;
  }

  return { accept, drain, drainTenant };
}
