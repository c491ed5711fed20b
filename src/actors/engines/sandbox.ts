import { once } from 'node:events';
import { Value } from '@sinclair/typebox/value';
import WebSocket, { type RawData } from 'ws';
import { AppError, assertNever, ErrorCodes, ValidationError } from '../../domain/errors.js';
import type { LeveledLog } from '../../domain/log.js';
import type { Message } from '../../domain/types.js';
import { PendingRequests, rawText, socketUrl, toChat, toMessage } from '../../simulator/client.js';
import { messageTypeOf } from '../../simulator/model.js';
import {
  chatIdOf,
  ClientFrame,
  CloseCodes,
  MAX_FRAME_BYTES,
  parseFrame,
  ServerFrame,
  type ServerReply,
  type WireMessage,
} from '../../simulator/protocol.js';
import {
  type DisconnectReason,
  type Engine,
  type EngineAccount,
  type EngineEventOf,
  type EngineEventType,
  type EngineListener,
  type EngineOptions,
  type EngineState,
  type MediaFile,
  type OutgoingContent,
  type ProfilePhoto,
  type SentMessage,
} from './engine.js';
import { EngineEvents } from './engine-events.js';
import { AckBatch } from './ack-batch.js';
import { DeliveryWindow } from './delivery-window.js';

/**
 * `Engine` over the WhatsApp network simulator (src/simulator): one WebSocket, the frames of
 * src/simulator/protocol.ts, every inbound frame validated. Events are handled one at a time in
 * arrival order; each `message` is acked to the network only after the listeners accepted it.
 * Replies to requests bypass that queue, so a listener may await a command without deadlocking.
 */

export interface SandboxEngineOptions extends EngineOptions {
  /** Simulator base URL (SIM_URL), `http(s)://` or `ws(s)://`; the socket path `/ws` is added. */
  url: string;
  /** Reconnect delays after a network drop: `initialMs` doubling up to `maxMs`, with jitter (defaults 250 / 30 000). */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** Deadline of a request to the simulator (default 15 000 ms). */
  requestTimeoutMs?: number;
  /** Ping interval; a connection that misses a pong for a whole interval is dropped (default 15 000 ms). */
  heartbeatMs?: number;
  /** Source of jitter, injectable for tests (default Math.random). */
  random?: () => number;
}

interface Connection {
  ws: WebSocket;
  /** Set as soon as a terminal frame arrives, so the close that follows is not taken for a network drop. */
  terminal: DisconnectReason | null;
  heartbeat: NodeJS.Timeout | null;
  alive: boolean;
  /** The simulator said `ready` on this connection: requests may go out (the event may still be queued). */
  ready: boolean;
}

const TERMINAL_BY_CLOSE_CODE: Record<number, DisconnectReason> = {
  [CloseCodes.LINK_FAILED]: 'qr_timeout',
  [CloseCodes.CONFLICT]: 'conflict',
  [CloseCodes.LOGGED_OUT]: 'logged_out',
};
const CHAT_ID = /^[0-9]{5,15}@c\.us$/;
/**
 * Text messages handed on and awaiting storage at once. Bounds the actor's pending deliveries (each holds
 * a timer) while letting the node store them in batches; far above what one batch commit takes.
 */
const MAX_UNACKED_DELIVERIES = 1_000;

export class SandboxEngine implements Engine {
  readonly kind = 'sandbox' as const;
  readonly tenantId: string;
  readonly #url: string;
  readonly #log: LeveledLog;
  readonly #opts: Required<Pick<SandboxEngineOptions, 'requestTimeoutMs' | 'heartbeatMs' | 'random'>> & { initialMs: number; maxMs: number };
  readonly #events: EngineEvents;
  /**
   * Text messages handed to the listeners and not yet stored. The event queue moves on while one is
   * stored: its listener hands it on synchronously (hand-over order is arrival order) and its ack still
   * waits for storage in #deliver; waiting would cap a tenant at one database round trip per message.
   */
  readonly #unacked = new DeliveryWindow(MAX_UNACKED_DELIVERIES);
  readonly #acks = new AckBatch<Connection>((conn, ids) => {
    if (conn.ws.readyState === WebSocket.OPEN) this.#send(conn, ids.length === 1 ? { type: 'delivery.ack', id: ids[0] as string } : { type: 'delivery.acks', ids });
  });
  readonly #calls = new PendingRequests();
  #credentials: string | null;
  #me: EngineAccount | null = null;
  #conn: Connection | null = null;
  #running = false;
  #attempt = 0;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #stopping: Promise<void> | null = null;

  constructor(opts: SandboxEngineOptions) {
    this.tenantId = opts.tenantId;
    this.#credentials = opts.credentials;
    this.#log = opts.log;
    this.#events = new EngineEvents(opts.log);
    this.#url = socketUrl(opts.url);
    this.#opts = {
      requestTimeoutMs: opts.requestTimeoutMs ?? 15_000,
      heartbeatMs: opts.heartbeatMs ?? 15_000,
      random: opts.random ?? Math.random,
      initialMs: opts.reconnect?.initialMs ?? 250,
      maxMs: opts.reconnect?.maxMs ?? 30_000,
    };
  }

  get state(): EngineState {
    return this.#events.state;
  }

  get credentials(): string | null {
    return this.#credentials;
  }

  subscribe(listener: EngineListener): () => void {
    return this.#events.subscribe(listener);
  }

  on<T extends EngineEventType>(type: T, listener: EngineListener<EngineEventOf<T>>): () => void {
    return this.#events.on(type, listener);
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#attempt = 0;
    this.#connect();
  }

  stop(): Promise<void> {
    // Concurrent calls share one shutdown, so each resolves only once the socket is closed.
    this.#stopping ??= this.#shutdown().finally(() => {
      this.#stopping = null;
    });
    return this.#stopping;
  }

  async #shutdown(): Promise<void> {
    this.#running = false;
    this.#events.endRun();
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    const conn = this.#conn;
    this.#conn = null;
    this.#calls.failAll(new AppError(ErrorCodes.SESSION_NOT_RUNNING, 'The WhatsApp session was stopped'));
    this.#acks.flush();
    if (conn) await closeSocket(conn);
    await this.#events.stopped();
  }

  async logout(): Promise<void> {
    await this.#call({ type: 'req.logout', reqId: 0 }, 'res.logout');
    // The simulator follows with `logged_out` and a close; the credentials are dead from now on.
    this.#credentials = null;
  }

  async sendMessage(chatId: string, content: OutgoingContent): Promise<SentMessage> {
    if (!CHAT_ID.test(chatId)) throw new ValidationError(`Cannot send to "${chatId}": the sandbox knows only <number>@c.us chats`);
    const media = content.media
      ? { mimetype: content.media.mimetype, filename: content.media.filename, dataBase64: Buffer.from(content.media.data).toString('base64') }
      : undefined;
    const frame: Extract<ClientFrame, { type: 'req.send' }> = { type: 'req.send', reqId: 0, to: chatId, body: content.body, media };
    // The network closes a connection that sends a frame outside the protocol, so one odd file type or
    // an over-long caption would cut the whole session: refuse such a message here, as a client error.
    if (!Value.Check(ClientFrame, frame)) {
      throw new ValidationError('WhatsApp cannot carry this message: a file needs a type/subtype media type and a name of 1 to 255 characters, and a text at most 65536 characters');
    }
    const out: { sent?: SentMessage } = {};
    const run = this.#events.run;
    await this.#call(frame, 'res.send', (res) => {
      const timestamp = new Date(res.timestamp).toISOString();
      const message: Message = {
        id: res.id,
        chatId,
        from: chatIdOf(this.#requireMe().number),
        fromMe: true,
        body: content.body,
        timestamp,
        type: content.media ? messageTypeOf(content.media.mimetype) : 'chat',
        hasMedia: content.media !== undefined,
        ack: 1,
      };
      out.sent = { id: res.id, timestamp, message };
      // Like whatsapp-web.js `message_create`, our own sends come as `message` events too. Queued right
      // here, before the frames that follow the reply, so listeners see the message before its acks.
      const info = content.media ? { mimetype: content.media.mimetype, filename: content.media.filename, size: content.media.data.length } : null;
      this.#events.enqueue(() => this.#events.emit({ type: 'message', message, media: info, redelivery: false }), run);
    });
    if (!out.sent) throw new AppError(ErrorCodes.ENGINE, 'The send reply was not decoded');
    return out.sent;
  }

  async downloadMedia(messageId: string): Promise<MediaFile | null> {
    const res = await this.#call({ type: 'req.media', reqId: 0, messageId }, 'res.media');
    if (!res.media) return null;
    return { mimetype: res.media.mimetype, filename: res.media.filename, data: new Uint8Array(Buffer.from(res.media.dataBase64, 'base64')) };
  }

  async getProfilePhoto(chatId: string): Promise<ProfilePhoto | null> {
    if (!CHAT_ID.test(chatId)) return null;
    const res = await this.#call({ type: 'req.profile_photo', reqId: 0, chatId }, 'res.profile_photo');
    if (!res.photo) return null;
    return { mimetype: res.photo.mimetype, data: new Uint8Array(Buffer.from(res.photo.dataBase64, 'base64')) };
  }

  // ---- connection -----------------------------------------------------------------------------

  #connect(): void {
    const ws = new WebSocket(this.#url, { maxPayload: MAX_FRAME_BYTES, handshakeTimeout: 10_000 });
    const conn: Connection = { ws, terminal: null, heartbeat: null, alive: true, ready: false };
    this.#conn = conn;
    this.#events.setState('connecting');
    ws.on('open', () => {
      this.#send(conn, { type: 'hello', credentials: this.#credentials });
      this.#startHeartbeat(conn);
    });
    ws.on('message', (data: RawData, isBinary: boolean) => this.#onData(conn, data, isBinary));
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('close', (code: number) => this.#onClose(conn, code));
    // A failed connect or a reset: 'close' follows and decides what happens next.
    ws.on('error', (err) => this.#log.debug({ err }, 'simulator socket error'));
  }

  #startHeartbeat(conn: Connection): void {
    conn.heartbeat = setInterval(() => {
      if (!conn.alive) {
        this.#log.warn('simulator missed a heartbeat, dropping the connection');
        conn.ws.terminate();
        return;
      }
      conn.alive = false;
      conn.ws.ping();
    }, this.#opts.heartbeatMs);
  }

  #onData(conn: Connection, data: RawData, isBinary: boolean): void {
    const frame = isBinary ? null : parseFrame(ServerFrame, rawText(data));
    if (!frame) {
      // The network speaks nonsense: drop the connection and come back, as after any transport fault.
      this.#log.warn('invalid frame from simulator, reconnecting');
      conn.ws.terminate();
      return;
    }
    switch (frame.type) {
      case 'link_failed':
      case 'conflict':
      case 'logged_out':
        conn.terminal = frame.type === 'link_failed' ? 'qr_timeout' : frame.type;
        if (frame.type === 'logged_out') this.#credentials = null;
        return;
      case 'res.send':
      case 'res.media':
      case 'res.profile_photo':
      case 'res.logout':
      case 'res.error':
        this.#calls.settle(frame);
        return;
      case 'authenticated':
        // Taken at once, like `logged_out` above, so a later logout cannot be undone by a queued event.
        this.#credentials = frame.credentials;
        this.#me = frame.me;
        this.#events.enqueue(() => this.#handleEvent(conn, frame));
        return;
      case 'ready':
        conn.ready = true;
        this.#events.enqueue(() => this.#handleEvent(conn, frame));
        return;
      default:
        this.#events.enqueue(() => this.#handleEvent(conn, frame));
    }
  }

  async #handleEvent(conn: Connection, frame: Exclude<ServerFrame, ServerReply | { type: 'link_failed' | 'conflict' | 'logged_out' }>): Promise<void> {
    switch (frame.type) {
      case 'qr':
        await this.#events.transition('qr');
        return this.#events.emit({ type: 'qr', qr: frame.qr, index: frame.index, expiresInMs: frame.expiresInMs });
      case 'authenticated':
        return this.#events.emit({ type: 'authenticated', credentials: frame.credentials });
      case 'history': {
        const me = this.#requireMe();
        return this.#events.emit({ type: 'chats', chats: frame.chats.map(toChat), messages: frame.messages.map((m) => toMessage(m, me)) });
      }
      case 'ready':
        this.#attempt = 0;
        await this.#events.transition('connected');
        return this.#events.emit({ type: 'ready', me: this.#requireMe() });
      case 'message': {
        const delivered = this.#deliver(conn, frame.message, frame.redelivery);
        // A message with media is awaited: its listener downloads the attachment before handing the
        // message on, and a later message must not overtake it.
        if (frame.message.media) return delivered;
        // A text message lets the queue move on while it is stored (see #unacked).
        return this.#unacked.admit(delivered);
      }
      case 'ack':
        return this.#events.emit({ type: 'message_ack', id: frame.id, chatId: frame.chatId, ack: frame.ack });
      default:
        assertNever(frame, 'simulator event frame');
    }
  }

  /** Persist, then ack: the ack goes out only when every listener resolved. */
  async #deliver(conn: Connection, wire: WireMessage, redelivery: boolean): Promise<void> {
    const media = wire.media ? { mimetype: wire.media.mimetype, filename: wire.media.filename, size: wire.media.size } : null;
    try {
      await this.#events.emit({ type: 'message', message: toMessage(wire, this.#requireMe()), media, redelivery });
    } catch (err) {
      this.#log.warn({ err, messageId: wire.id }, 'message listener failed; the message stays unacked and will be redelivered');
      return;
    }
    // Acked on its own socket with the others stored in this turn; if that one is gone, it is redelivered.
    this.#acks.add(conn, wire.id);
  }

  #onClose(conn: Connection, code: number): void {
    if (conn.heartbeat) clearInterval(conn.heartbeat);
    if (this.#conn !== conn) return; // stopped, or an older connection
    this.#conn = null;
    this.#calls.failAll(new AppError(ErrorCodes.ENGINE, 'The connection to WhatsApp closed during the call'));
    const terminal = conn.terminal ?? TERMINAL_BY_CLOSE_CODE[code] ?? null;
    if (terminal === 'logged_out') this.#credentials = null;
    if (terminal !== null) this.#running = false;
    else this.#scheduleReconnect();
    this.#events.enqueue(async () => {
      await this.#events.emit({ type: 'disconnected', reason: terminal ?? 'network', willReconnect: terminal === null });
      await this.#events.transition(terminal === null ? 'reconnecting' : 'disconnected');
    });
  }

  #scheduleReconnect(): void {
    // Exponential backoff with equal jitter: never a hammering loop, never all sessions in lockstep.
    const ceiling = Math.min(this.#opts.maxMs, this.#opts.initialMs * 2 ** Math.min(this.#attempt, 30));
    const delay = Math.round(ceiling / 2 + (this.#opts.random() * ceiling) / 2);
    this.#attempt += 1;
    this.#log.info({ attempt: this.#attempt, delayMs: delay }, 'simulator connection lost, reconnecting');
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      if (this.#running) this.#connect();
    }, delay);
  }

  // ---- requests -------------------------------------------------------------------------------

  #call<T extends ServerReply['type']>(
    frame: Extract<ClientFrame, { reqId: number }>,
    expect: T,
    onReply?: (frame: Extract<ServerReply, { type: T }>) => void,
  ): Promise<Extract<ServerReply, { type: T }>> {
    const conn = this.#conn;
    if (!conn?.ready || conn.ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new AppError(ErrorCodes.SESSION_NOT_RUNNING, 'The WhatsApp session is not connected'));
    }
    const { reqId, reply } = this.#calls.open(expect, this.#opts.requestTimeoutMs, onReply);
    this.#send(conn, { ...frame, reqId });
    return reply;
  }

  // ---- helpers --------------------------------------------------------------------------------

  #send(conn: Connection, frame: ClientFrame): void {
    conn.ws.send(JSON.stringify(frame));
  }

  #requireMe(): EngineAccount {
    if (!this.#me) throw new AppError(ErrorCodes.ENGINE, 'The simulator sent account data before authenticating');
    return this.#me;
  }
}

async function closeSocket(conn: Connection): Promise<void> {
  if (conn.heartbeat) clearInterval(conn.heartbeat);
  const ws = conn.ws;
  if (ws.readyState === WebSocket.CLOSED) return;
  const closed = once(ws, 'close');
  if (ws.readyState === WebSocket.OPEN) {
    ws.close(1000, 'stop');
    // A peer that never answers the close handshake must not hold stop() forever.
    const timer = setTimeout(() => ws.terminate(), 2_000);
    await closed;
    clearTimeout(timer);
    return;
  }
  ws.terminate();
  await closed;
}
