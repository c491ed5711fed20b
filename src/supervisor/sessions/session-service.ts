import type { Config } from '../../config.js';
import type { Clock } from '../../domain/clock.js';
import { AppError, ErrorCodes, NotFoundError } from '../../domain/errors.js';
import type { Logger } from '../../domain/log.js';
import type { DesiredState, Message, SessionStatus } from '../../domain/types.js';
import {
  parseSessionEvent,
  type MediaPayload,
  type PairingCodeReply,
  type PersistedNotice,
  type SendReply,
  type SessionActorOptions,
  type SessionCommand,
} from '../../actors/session-protocol.js';
import type { Store } from '../../store/types.js';
import type { CommandOutcome, LeaseMetricsHooks, SessionMetricsHooks } from '../../metrics/hooks.js';
import type { Supervisor } from '../supervisor-types.js';
import type { EventSink } from './event-sink.js';
import { createIngest, type Ingest } from './ingest.js';
import type { LeaseManager } from './leases.js';
import { createPhotoCache } from './photo-cache.js';
import { qrDataUrl } from './qr-image.js';
import { restoreActive } from './restore.js';
import { engineOptionsFor, forgetWwebjsLogin, refreshAuthSnapshot, type AuthStoreFactory } from './engine-options.js';
import type { SessionHost } from './session-host.js';

/** What REST answers for a tenant's session. */
export interface SessionView {
  desiredState: DesiredState;
  status: SessionStatus;
  reason: string | null;
  ownerNode: string | null;
}

export interface OutgoingMessage {
  body: string;
  media?: { mimetype: string; filename: string; data: Uint8Array };
}

/** The facade http talks to for everything that needs a tenant's live WhatsApp session. */
export interface SessionService {
  /** Desired state `active`, then start (or resume) the tenant's actor. Repeated calls are harmless. */
  init(tenantId: string): Promise<SessionView>;
  /** Unlink the device, forget the credentials, desired state `stopped`. */
  logout(tenantId: string): Promise<SessionView>;
  status(tenantId: string): Promise<SessionView>;
  /** The QR code the session shows right now (text and PNG data URL); null when it shows none. */
  currentQr(tenantId: string): Promise<{ qr: string; image: string } | null>;
  /** Sends through the live session; the sent message is stored before it is returned. */
  send(tenantId: string, chatId: string, content: OutgoingMessage): Promise<Message>;
  /** Media bytes the store does not have yet, fetched through the session and then stored. */
  fetchMedia(tenantId: string, messageId: string): Promise<MediaPayload | null>;
  profilePhoto(tenantId: string, chatId: string): Promise<{ mimetype: string; data: Uint8Array } | null>;
  /**
   * A code to link the account by typing it on the phone whose number is `phone` (digits, country code
   * first) instead of scanning the QR; also sent to the tenant's admins as Socket.IO `pairing_code`.
   * Only while the session waits for a link (WA_SESSION_NOT_RUNNING otherwise).
   */
  pairingCode(tenantId: string, phone: string): Promise<{ code: string }>;
  /** Start every session whose desired state is active, a bounded number at a time. */
  restoreAll(): Promise<{ restored: number; failed: number }>;
  /** Resolves when every event received so far is stored and published (tests, shutdown). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export interface SessionServiceDeps {
  config: Config;
  store: Store;
  supervisor: Supervisor;
  leases: LeaseManager;
  sink: EventSink;
  log: Logger;
  clock: Clock;
  nodeId: string;
  /** Module run in each tenant's actor. Default: src/actors/session-actor. */
  behaviorModule?: string;
  /** The wwebjs engine's RemoteAuth store (PostgreSQL), per tenant and lease epoch; needed with WA_AUTH=remote. */
  authStore?: AuthStoreFactory;
  /** Command latency, stored messages, persistence batches and lease losses (src/metrics); optional. */
  metrics?: SessionMetricsHooks & Pick<LeaseMetricsHooks, 'leaseLost'>;
}

const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
const defaultBehavior = new URL(`../../actors/session-actor.${ext}`, import.meta.url).href;

export function createSessionService(deps: SessionServiceDeps): SessionService & SessionHost {
  const { store, supervisor, leases, config } = deps;
  const log = deps.log.child({ component: 'sessions' });
  const behaviorModule = deps.behaviorModule ?? defaultBehavior;
  const photos = createPhotoCache({ clock: deps.clock });
  /**
   * The actor options per tenant. The supervisor keeps a reference to this object and spawns restarts
   * from it, so updating `credentials` in place means a restarted actor reconnects without a QR.
   */
  const options = new Map<string, SessionActorOptions>();
  /** The QR each linking session shows now; cleared by any later status (connected, failed ...). */
  const qrs = new Map<string, string>();
  /**
   * Tenants with an init or logout under way: the reconcile loop leaves them alone (their lease may be
   * held before their actor runs, or their desired state changed before their actor stopped).
   */
  const busy = new Map<string, number>();
  async function whileBusy<T>(tenantId: string, run: () => Promise<T>): Promise<T> {
    busy.set(tenantId, (busy.get(tenantId) ?? 0) + 1);
    try {
      return await run();
    } finally {
      const left = (busy.get(tenantId) ?? 1) - 1;
      if (left === 0) busy.delete(tenantId);
      else busy.set(tenantId, left);
    }
  }
  const moved = (): AppError => new AppError(ErrorCodes.OWNER_UNAVAILABLE, 'another node runs this session', { details: { reason: 'moved' } });

  const metrics = deps.metrics;
  const call = <R>(tenantId: string, command: SessionCommand, timeoutMs = config.ACTOR_CALL_TIMEOUT_MS): Promise<R> => {
    const started = performance.now();
    const result = supervisor.call<R>(tenantId, command, { timeoutMs });
    if (metrics === undefined) return result;
    const done = (outcome: CommandOutcome) => metrics.command(command.type, outcome, (performance.now() - started) / 1000);
    result.then(
      () => done('ok'),
      (err: unknown) => done(isCode(err, ErrorCodes.ACTOR_TIMEOUT) ? 'timeout' : 'error'),
    );
    return result;
  };

  const ingest: Ingest = createIngest({
    store,
    sink: deps.sink,
    log,
    clock: deps.clock,
    confirm(tenantId, deliveryIds, ok) {
      const notice: PersistedNotice = { type: 'session.persisted', deliveryIds, ok };
      if (!supervisor.tell(tenantId, notice)) {
        // The actor is gone: unacked messages come again on its next connection and are deduplicated.
        log.debug({ tenantId }, 'could not confirm stored messages to the actor: it is not running');
      }
    },
    ...(metrics === undefined ? {} : { metrics }),
    onFenced(tenantId) {
      metrics?.leaseLost('fenced');
      void supervisor.stop(tenantId, 'lease lost').finally(() => leases.release(tenantId));
    },
    onQr(tenantId, qr) {
      qrs.set(tenantId, qr);
    },
    ...(deps.authStore === undefined ? {} : { authStore: deps.authStore }),
    onAuth(tenantId, session, zip) {
      refreshAuthSnapshot(options.get(tenantId)?.engineOptions, session, zip);
    },
    onCredentials(tenantId, credentials) {
      const opts = options.get(tenantId);
      if (opts !== undefined) opts.credentials = credentials;
    },
    async onStatus(tenantId, status) {
      if (status !== 'qr') qrs.delete(tenantId);
    },
  });

  supervisor.onEvent((tenantId, raw) => {
    const event = parseSessionEvent(raw);
    const lease = leases.held(tenantId);
    if (event === undefined || lease === undefined) {
      log.warn({ tenantId, leased: lease !== undefined }, 'dropped an actor event (malformed, or no lease)');
      return;
    }
    ingest.accept(tenantId, lease.epoch, event);
  });

  supervisor.onStatus((tenantId, status, reason) => {
    const lease = leases.held(tenantId);
    if (status !== 'failed' || lease === undefined) return;
    // Parked after too many crashes: visible in REST and realtime with the reason.
    ingest.accept(tenantId, lease.epoch, { type: 'evt.status', status: 'failed', reason });
  });

  async function view(tenantId: string): Promise<SessionView> {
    const s = await store.sessions.get(tenantId);
    if (s === null) return { desiredState: 'stopped', status: 'stopped', reason: null, ownerNode: null };
    return { desiredState: s.desiredState, status: s.status, reason: s.statusReason, ownerNode: s.ownerNode };
  }

  /** Start the tenant's actor under a lease, with its stored credentials. */
  async function resume(tenantId: string): Promise<void> {
    const info = supervisor.inspect(tenantId);
    if (info !== undefined && (info.status === 'running' || info.status === 'starting' || info.status === 'restarting')) {
      // Running but idle after a conflict or a QR timeout: connect again.
      const s = await store.sessions.get(tenantId);
      if (info.status === 'running' && s !== null && (s.status === 'disconnected' || s.status === 'failed')) {
        await call(tenantId, { type: 'session.connect' });
      }
      return;
    }
    const lease = await leases.acquire(tenantId);
    if (lease === null) throw moved();
    const stored = await store.sessions.loadCredentials(tenantId);
    const opts: SessionActorOptions = {
      engine: config.WA_ENGINE,
      credentials: stored === null ? null : new TextDecoder().decode(stored),
      simUrl: config.SIM_URL,
      mediaMaxBytes: config.MEDIA_MAX_BYTES,
      persistTimeoutMs: 120_000,
      engineOptions: await engineOptionsFor(config, tenantId, lease.epoch, deps.authStore),
    };
    options.set(tenantId, opts);
    // Stored with its session_status event; the store publishes it after the commit.
    await store.sessions.setStatus(tenantId, lease.epoch, 'starting', null);
    await supervisor.ensure(tenantId, { behaviorModule, options: opts });
  }

  /**
   * Logs out through the running actor. False when its engine has no link to undo (a QR is showing, or
   * the network is down): the caller then stops the actor and forgets the credentials itself, so an
   * admin can always cancel a link or log out, never a 409.
   */
  async function unlinkLive(tenantId: string): Promise<boolean> {
    try {
      await call(tenantId, { type: 'session.logout' });
      return true;
    } catch (err) {
      if (isCode(err, ErrorCodes.SESSION_NOT_RUNNING)) return false;
      throw err;
    }
  }

  /** Unlink, forget the credentials, desired state stopped: through the actor when it runs. */
  async function logout(tenantId: string): Promise<SessionView> {
    await store.sessions.setDesired(tenantId, 'stopped');
    if (supervisor.inspect(tenantId)?.status === 'running' && (await unlinkLive(tenantId))) {
      // The actor unlinked the device, emitted credentials=null and logged_out, and asked to stop.
      await ingest.drain();
    } else {
      await supervisor.stop(tenantId, 'logout');
      // Events the actor sent before it stopped (a QR status) must not land after logged_out.
      await ingest.drain();
      const lease = leases.held(tenantId) ?? (await leases.acquire(tenantId));
      if (lease !== null) {
        await store.sessions.saveCredentials(tenantId, lease.epoch, null);
        // No actor to forget the wwebjs login: the node deletes the stored and the local profile itself.
        await forgetWwebjsLogin(config, tenantId, lease.epoch, deps.authStore);
        await store.sessions.setStatus(tenantId, lease.epoch, 'logged_out', 'logout');
      }
    }
    options.delete(tenantId);
    return view(tenantId);
  }

  return {
    init: (tenantId) =>
      whileBusy(tenantId, async () => {
        // The lease before the desired state: another node's reconcile round must never see the tenant
        // active and unowned in between, and claim it under this init.
        if ((await leases.acquire(tenantId)) === null) throw moved();
        await store.sessions.setDesired(tenantId, 'active');
        try {
          await resume(tenantId);
        } catch (err) {
          if (isCode(err, ErrorCodes.ACTOR_FAILED)) return view(tenantId); // parked: the status says why
          throw err;
        }
        return view(tenantId);
      }),

    logout: (tenantId) => whileBusy(tenantId, () => logout(tenantId)),

    status: view,

    async currentQr(tenantId) {
      const qr = qrs.get(tenantId);
      return qr === undefined ? null : { qr, image: await qrDataUrl(qr) };
    },

    async send(tenantId, chatId, content) {
      const reply = await call<SendReply>(tenantId, { type: 'session.send', chatId, body: content.body, ...(content.media ? { media: content.media } : {}) });
      // Stored here too (the engine also reports own messages as events): the caller can read it at once.
      const fence = leases.held(tenantId);
      const media = content.media === undefined ? [] : [{ messageId: reply.id, mimetype: content.media.mimetype, filename: content.media.filename, data: content.media.data }];
      await store.messages.insertMany(tenantId, [reply.message], fence, media);
      // Counted per send: the engine's own-message event may have stored it first (then nothing is fresh here).
      metrics?.messages('out', 1);
      return reply.message;
    },

    async fetchMedia(tenantId, messageId) {
      const message = await store.messages.find(tenantId, messageId);
      if (message === null) throw new NotFoundError('Message');
      if (!message.hasMedia) return null;
      const media = await call<MediaPayload | null>(tenantId, { type: 'session.media', messageId });
      if (media !== null) await store.media.put(tenantId, { messageId, mimetype: media.mimetype, filename: media.filename, data: media.data }, leases.held(tenantId));
      return media;
    },

    profilePhoto(tenantId, chatId) {
      return photos.get(tenantId, chatId, () => call(tenantId, { type: 'session.profile_photo', chatId }));
    },

    async pairingCode(tenantId, phone) {
      const { code } = await call<PairingCodeReply>(tenantId, { type: 'session.pairing_code', phone });
      // Like the QR: for the admins' screens only, and not stored (it is short-lived and links the account).
      deps.sink.publish(tenantId, { name: 'pairing_code', payload: { code } });
      return { code };
    },

    restoreAll() {
      return restoreActive({ store, log, resume, concurrency: config.RESTORE_CONCURRENCY, jitterMs: 250 });
    },

    drain: () => ingest.drain(),

    resume,

    async handOver(tenantId, reason) {
      // Actor first (its engine disconnects), then what it reported, then the lease: the next owner
      // connects only after this one is gone, and finds every message it acknowledged stored.
      await supervisor.stop(tenantId, reason);
      await ingest.drainTenant(tenantId);
      options.delete(tenantId);
      qrs.delete(tenantId);
      await leases.release(tenantId);
    },

    running(tenantId) {
      if (busy.has(tenantId)) return true;
      const status = supervisor.inspect(tenantId)?.status;
      return status === 'starting' || status === 'running' || status === 'restarting';
    },

    async close() {
      await ingest.drain();
      await supervisor.close('node shutting down');
      // Stopping wwebjs actors upload RemoteAuth's last zip of the profile: stored before the leases go.
      await ingest.drain();
      await leases.close();
    },
  };
}

function isCode(err: unknown, code: string): boolean {
  return err instanceof Error && (err as Error & { code?: unknown }).code === code;
}
