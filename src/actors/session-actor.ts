import { AppError, assertNever, ErrorCodes, ValidationError } from '../domain/errors.js';
import type { SessionStatus } from '../domain/types.js';
import { Value } from '@sinclair/typebox/value';
import { createActorLogger } from './actor-logger.js';
import { createEngine, type CreateEngineDeps } from './engines/create-engine.js';
import type { DisconnectReason, Engine, EngineEvent, EngineState } from './engines/engine.js';
import type { ActorBehavior, ActorContext, BehaviorFactory } from './protocol.js';
import {
  isPersistedNotice,
  SessionActorOptions,
  type MediaPayload,
  type PairingCodeReply,
  type SendReply,
  type SessionCommand,
  type SessionEvent,
} from './session-protocol.js';

/**
 * A tenant's WhatsApp session, inside its worker or child process. It drives one Engine and turns its
 * events into protocol events for the node: status changes, QR codes, credentials to persist, history,
 * inbound messages and acks. Inbound messages are persisted by the node before the engine acknowledges
 * them to the network: the engine awaits this actor's listener, which waits for `session.persisted`.
 * Expected network conditions (QR timeout, conflict, logout, a dropped connection) are state changes,
 * never crashes.
 */

type Reply = SendReply | MediaPayload | PairingCodeReply | { mimetype: string; data: Uint8Array } | null | { ok: true };

/** Test seams of the actor (a behaviour module of a test passes them; the default module passes none). */
export interface SessionActorDeps {
  /** Extra engine dependencies, e.g. a scripted whatsapp-web.js. */
  engine?: Pick<CreateEngineDeps, 'library'>;
}


interface PendingDelivery {
  resolve(): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class SessionActor implements ActorBehavior<SessionCommand, Reply, SessionEvent> {
  readonly #options: SessionActorOptions;
  readonly #tenantId: string;
  readonly #deps: SessionActorDeps;
  #ctx: ActorContext<SessionEvent> | undefined;
  #engine: Engine | undefined;
  #nextDeliveryId = 1;
  readonly #deliveries = new Map<number, PendingDelivery>();
  #stopping = false;
  #loggingOut = false;
  /** The engine reached `ready` on its current connection. */
  #ready = false;
  /** After a failure the engine retries: the next `starting` says which failure it retries. */
  #retrying: string | null = null;
  #last: { status: SessionStatus; reason: string | null } | null = null;

  constructor(init: { tenantId: string; options: unknown }, deps: SessionActorDeps = {}) {
    if (!Value.Check(SessionActorOptions, init.options)) {
      throw new ValidationError('invalid session actor options');
    }
    this.#options = init.options;
    this.#tenantId = init.tenantId;
    this.#deps = deps;
  }

  async start(ctx: ActorContext<SessionEvent>): Promise<void> {
    this.#ctx = ctx;
    const log = createActorLogger(ctx.log);
    const engine = await createEngine(
      {
        kind: this.#options.engine,
        tenantId: this.#tenantId,
        credentials: this.#options.credentials,
        log,
        simUrl: this.#options.simUrl,
        engineOptions: this.#options.engineOptions ?? {},
      },
      {
        // RemoteAuth's writes go up to the node, which stores them fenced by this actor's lease epoch.
        forwardAuth: {
          save: (session, zip) => this.#emit({ type: 'evt.auth_save', session, zip }),
          delete: (session) => this.#emit({ type: 'evt.auth_delete', session }),
        },
        ...this.#deps.engine,
      },
    );
    this.#engine = engine;
    engine.subscribe((event) => this.#onEngineEvent(event));
    this.#status('starting', null);
    await engine.start();
  }

  async handle(command: SessionCommand): Promise<Reply> {
    const engine = this.#requireEngine();
    switch (command.type) {
      case 'session.send':
        return engine.sendMessage(command.chatId, {
          body: command.body,
          ...(command.media === undefined ? {} : { media: command.media }),
        });
      case 'session.logout':
        return this.#logout(engine);
      case 'session.connect':
        await engine.start();
        return { ok: true };
      case 'session.media': {
        const file = await engine.downloadMedia(command.messageId);
        return file === null ? null : { mimetype: file.mimetype, filename: file.filename, data: file.data };
      }
      case 'session.profile_photo':
        return engine.getProfilePhoto(command.chatId);
      case 'session.pairing_code':
        if (engine.requestPairingCode === undefined) {
          throw new ValidationError(`The ${engine.kind} engine links by QR code only; pairing codes need WA_ENGINE=wwebjs`);
        }
        return { code: await engine.requestPairingCode(command.phone) };
      default:
        return assertNever(command, 'session command');
    }
  }

  /** `session.persisted` from the node: settled at once, even while a command waits for the network. */
  tell(notice: unknown): void {
    if (!isPersistedNotice(notice)) {
      this.#ctx?.log.warn({ type: typeof notice === 'object' && notice !== null ? (notice as { type?: unknown }).type : typeof notice }, 'dropped a malformed notice from the node');
      return;
    }
    this.#settleDeliveries(notice.deliveryIds, notice.ok);
  }

  async stop(_reason: string): Promise<void> {
    this.#stopping = true;
    this.#settleDeliveries([...this.#deliveries.keys()], false);
    await this.#engine?.stop();
  }

  async #logout(engine: Engine): Promise<Reply> {
    // The engine reports its own `disconnected (logged_out)` meanwhile: this logout speaks for it.
    this.#loggingOut = true;
    try {
      await engine.logout();
    } finally {
      this.#loggingOut = false;
    }
    this.#emit({ type: 'evt.credentials', credentials: null });
    this.#status('logged_out', 'logout');
    this.#ctx?.requestStop?.('logged_out');
    return { ok: true };
  }

  async #onEngineEvent(event: EngineEvent): Promise<void> {
    switch (event.type) {
      case 'qr':
        this.#retrying = null;
        // Status first: a client that receives the QR and then asks GET /api/whatsapp/status sees `qr`.
        this.#status('qr', null);
        this.#emit({ type: 'evt.qr', qr: event.qr, index: event.index, expiresInMs: event.expiresInMs });
        return;
      case 'authenticated':
        this.#emit({ type: 'evt.credentials', credentials: event.credentials });
        return;
      case 'ready':
        this.#ready = true;
        this.#retrying = null;
        this.#status('connected', null);
        return;
      case 'chats':
        this.#emit({ type: 'evt.history', chats: event.chats, messages: event.messages });
        return;
      case 'message':
        await this.#deliver(event);
        return;
      case 'message_ack':
        this.#emit({ type: 'evt.ack', id: event.id, chatId: event.chatId, ack: event.ack });
        return;
      case 'disconnected':
        this.#onDisconnected(event);
        return;
      case 'state':
        this.#onState(event.state);
        return;
      default:
        assertNever(event, 'engine event');
    }
  }

  #onState(state: EngineState): void {
    if (this.#stopping) return;
    switch (state) {
      case 'connecting':
        this.#status('starting', this.#retrying);
        return;
      case 'reconnecting':
        // After a reported failure the `disconnected` status already says why and that it retries.
        if (this.#retrying === null) this.#status('starting', 'reconnecting');
        return;
      case 'connected':
        // Back after WhatsApp Web reconnected by itself (no new `ready`); the first time, `ready` reports.
        if (this.#ready) this.#status('connected', null);
        return;
      case 'qr':
      case 'stopped':
      case 'disconnected':
        return; // reported by their own events
      default:
        assertNever(state, 'engine state');
    }
  }

  #onDisconnected(event: Extract<EngineEvent, { type: 'disconnected' }>): void {
    if (this.#stopping || this.#loggingOut) return;
    this.#ready = false;
    const why = reasonText(event.reason, event.detail);
    if (event.willReconnect) {
      this.#retrying = `retrying after ${why}`;
      this.#status('disconnected', why);
      return;
    }
    this.#retrying = null;
    this.#onEnded(event.reason, why);
  }

  /** The engine ended for good: decide what the session becomes. */
  #onEnded(reason: DisconnectReason, why: string): void {
    switch (reason) {
      case 'logged_out':
        // The phone unlinked this device: the credentials are void and a new link needs a QR.
        this.#emit({ type: 'evt.credentials', credentials: null });
        this.#status('logged_out', 'phone_unlinked');
        this.#ctx?.requestStop?.('logged_out');
        return;
      case 'qr_timeout':
        this.#status('failed', 'qr_timeout: no phone scanned the QR code');
        this.#ctx?.requestStop?.('qr_timeout');
        return;
      case 'conflict':
        // Another connection took the account over. Fighting back would ping-pong with it; stay
        // disconnected until someone decides (init again, or the node that owns the lease).
        this.#status('disconnected', 'conflict');
        return;
      case 'lease_lost':
        // Another node owns the session now: it reports the status; this actor just goes.
        this.#ctx?.requestStop?.('lease_lost');
        return;
      default:
        // Retries exhausted, or an account state that needs a person (TOS_BLOCK, DEPRECATED_VERSION ...).
        this.#status('failed', why);
        this.#ctx?.requestStop?.('failed');
    }
  }

  /** Hand a message to the node and wait until it is stored; only then may the engine ack it. */
  async #deliver(event: Extract<EngineEvent, { type: 'message' }>): Promise<void> {
    const media = event.media === null ? null : await this.#fetchInboundMedia(event.message.id, event.media.size);
    const deliveryId = this.#nextDeliveryId++;
    const stored = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#deliveries.delete(deliveryId);
        reject(new AppError(ErrorCodes.ACTOR_TIMEOUT, 'the node did not confirm storing a message in time'));
      }, this.#options.persistTimeoutMs);
      this.#deliveries.set(deliveryId, { resolve, reject, timer });
    });
    this.#emit({ type: 'evt.message', deliveryId, message: event.message, media });
    await stored;
  }

  async #fetchInboundMedia(messageId: string, size: number | null): Promise<MediaPayload | null> {
    if (size !== null && size > this.#options.mediaMaxBytes) return null;
    const file = await this.#requireEngine().downloadMedia(messageId);
    if (file === null || file.data.byteLength > this.#options.mediaMaxBytes) return null;
    return { mimetype: file.mimetype, filename: file.filename, data: file.data };
  }

  #settleDeliveries(ids: number[], ok: boolean): void {
    for (const id of ids) {
      const pending = this.#deliveries.get(id);
      if (pending === undefined) continue;
      this.#deliveries.delete(id);
      clearTimeout(pending.timer);
      if (ok) pending.resolve();
      else pending.reject(new AppError(ErrorCodes.STORE_UNAVAILABLE, 'the node could not store the message'));
    }
  }

  /** Reports a status change; the same status with the same reason again is no news. */
  #status(status: SessionStatus, reason: string | null): void {
    if (this.#last?.status === status && this.#last.reason === reason) return;
    this.#last = { status, reason };
    this.#emit({ type: 'evt.status', status, reason });
  }

  #emit(event: SessionEvent): void {
    this.#ctx?.emit(event);
  }

  #requireEngine(): Engine {
    if (this.#engine === undefined) throw new AppError(ErrorCodes.SESSION_NOT_RUNNING, 'the session has not started');
    return this.#engine;
  }
}

/** A disconnect reason with the engine's words about it (`network: net::ERR_NAME_NOT_RESOLVED at ...`). */
function reasonText(reason: DisconnectReason, detail: string | undefined): string {
  return detail === undefined || detail === '' ? reason : `${reason}: ${detail}`;
}

const createSessionActor: BehaviorFactory<SessionCommand, Reply, SessionEvent> = (init) => new SessionActor(init);
export default createSessionActor;
