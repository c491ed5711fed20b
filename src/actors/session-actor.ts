import { AppError, assertNever, ErrorCodes, ValidationError } from '../domain/errors.js';
import type { SessionStatus } from '../domain/types.js';
import { Value } from '@sinclair/typebox/value';
import { createActorLogger } from './actor-logger.js';
import { createEngine } from './engines/create-engine.js';
import type { DisconnectReason, Engine, EngineEvent } from './engines/engine.js';
import type { ActorBehavior, ActorContext, BehaviorFactory } from './protocol.js';
import {
  SessionActorOptions,
  type MediaPayload,
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

type Reply = SendReply | MediaPayload | { mimetype: string; data: Uint8Array } | null | { ok: true };

interface PendingDelivery {
  resolve(): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class SessionActor implements ActorBehavior<SessionCommand, Reply, SessionEvent> {
  readonly #options: SessionActorOptions;
  readonly #tenantId: string;
  #ctx: ActorContext<SessionEvent> | undefined;
  #engine: Engine | undefined;
  #nextDeliveryId = 1;
  readonly #deliveries = new Map<number, PendingDelivery>();
  #stopping = false;

  constructor(init: { tenantId: string; options: unknown }) {
    if (!Value.Check(SessionActorOptions, init.options)) {
      throw new ValidationError('invalid session actor options');
    }
    this.#options = init.options;
    this.#tenantId = init.tenantId;
  }

  async start(ctx: ActorContext<SessionEvent>): Promise<void> {
    this.#ctx = ctx;
    const log = createActorLogger(ctx.log).child({ tenantId: this.#tenantId });
    const engine = await createEngine({
      kind: this.#options.engine,
      tenantId: this.#tenantId,
      credentials: this.#options.credentials,
      log,
      simUrl: this.#options.simUrl,
      engineOptions: this.#options.engineOptions ?? {},
    });
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
        await engine.logout();
        this.#emit({ type: 'evt.credentials', credentials: null });
        this.#status('logged_out', 'logout');
        this.#ctx?.requestStop?.('logged_out');
        return { ok: true };
      case 'session.connect':
        await engine.start();
        return { ok: true };
      case 'session.media': {
        const file = await engine.downloadMedia(command.messageId);
        return file === null ? null : { mimetype: file.mimetype, filename: file.filename, data: file.data };
      }
      case 'session.profile_photo':
        return engine.getProfilePhoto(command.chatId);
      case 'session.persisted':
        this.#settleDeliveries(command.deliveryIds, command.ok);
        return { ok: true };
      default:
        return assertNever(command, 'session command');
    }
  }

  async stop(_reason: string): Promise<void> {
    this.#stopping = true;
    this.#settleDeliveries([...this.#deliveries.keys()], false);
    await this.#engine?.stop();
  }

  async #onEngineEvent(event: EngineEvent): Promise<void> {
    switch (event.type) {
      case 'qr':
        this.#emit({ type: 'evt.qr', qr: event.qr, index: event.index, expiresInMs: event.expiresInMs });
        this.#status('qr', null);
        return;
      case 'authenticated':
        this.#emit({ type: 'evt.credentials', credentials: event.credentials });
        return;
      case 'ready':
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
        this.#onDisconnected(event.reason, event.willReconnect);
        return;
      case 'state':
        if (event.state === 'connecting' || event.state === 'reconnecting') this.#status('starting', null);
        return;
      default:
        assertNever(event, 'engine event');
    }
  }

  #onDisconnected(reason: DisconnectReason, willReconnect: boolean): void {
    if (this.#stopping) return;
    if (willReconnect) {
      this.#status('disconnected', reason);
      return;
    }
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
      default:
        this.#status('disconnected', reason);
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

  #status(status: SessionStatus, reason: string | null): void {
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

const createSessionActor: BehaviorFactory<SessionCommand, Reply, SessionEvent> = (init) => new SessionActor(init);
export default createSessionActor;
