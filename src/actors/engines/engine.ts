import type { LeveledLog } from '../../domain/log.js';
import type { Ack, Chat, Message } from '../../domain/types.js';

/**
 * The port between a tenant's session actor and one WhatsApp connection (DESIGN.md section 5).
 *
 * Two implementations: `SandboxEngine` (a client of src/simulator, sandbox.ts) and `WwebjsEngine`
 * (whatsapp-web.js driving Chromium). The interface follows whatsapp-web.js so that adapter stays thin:
 *
 * | whatsapp-web.js                      | Engine                                                        |
 * | ------------------------------------ | ------------------------------------------------------------- |
 * | `initialize()`                       | `start()` (resolves once connecting; progress comes as events) |
 * | `destroy()`                          | `stop()`                                                      |
 * | `logout()`                           | `logout()`                                                    |
 * | `sendMessage(chatId, content, opts)` | `sendMessage(chatId, { body, media })`                        |
 * | `getMessageById(id).downloadMedia()` | `downloadMedia(messageId)`                                    |
 * | `getProfilePicUrl(id)` + fetch       | `getProfilePhoto(chatId)`                                     |
 * | `qr`, `authenticated`, `ready`       | `qr`, `authenticated`, `ready`                                |
 * | `getChats()` after `ready`           | `chats` (history sync)                                        |
 * | `message`, `message_create` (fromMe) | `message` (`message.fromMe` tells them apart)                 |
 * | `message_ack`                        | `message_ack`                                                 |
 * | `auth_failure`, `disconnected`       | `disconnected { reason }`                                     |
 * | `change_state`                       | `state`                                                       |
 *
 * How the session actor uses it: it constructs the engine with the credentials it persisted (or null),
 * subscribes one listener that turns each `EngineEvent` into a protocol event (exhaustive switch), calls
 * `start()`, and forwards commands to the methods. Expected network conditions are events, never
 * throws: a QR that nobody scans (`disconnected { reason: 'qr_timeout' }`), another connection taking
 * over the account (`conflict`), the phone unlinking the device (`logged_out`), a dropped connection
 * (`network`, after which the engine reconnects by itself). Methods throw `AppError`s only for a call
 * that cannot be served: `WA_SESSION_NOT_RUNNING` when not connected, `WA_VALIDATION` for bad input,
 * `WA_NOT_FOUND` for an unknown recipient, `WA_ENGINE` for a timeout or a broken connection mid-call.
 */

export type EngineKind = 'sandbox' | 'wwebjs';

/**
 * Where the connection is. `stopped`: not started, or `stop()` called. `connecting`: opening a
 * connection. `qr`: waiting for a phone to scan a QR code. `connected`: linked and ready.
 * `reconnecting`: the connection dropped; the engine retries with backoff. `disconnected`: ended for a
 * reason that needs a decision (conflict, logout, QR timeout); only `start()` connects again.
 */
export type EngineState = 'stopped' | 'connecting' | 'qr' | 'connected' | 'reconnecting' | 'disconnected';

/**
 * Why a connection ended. `conflict`: the same account connected elsewhere (WhatsApp's "replaced").
 * `logged_out`: the device was unlinked or the stored credentials are no longer valid; the next start
 * needs a QR. `network`: a transport failure; the engine reconnects. `qr_timeout`: no phone scanned any
 * of the QR codes. Other strings come from the engine as-is (whatsapp-web.js states).
 */
export type DisconnectReason = 'conflict' | 'logged_out' | 'network' | 'qr_timeout' | (string & {});

/** The account the engine is linked to. */
export interface EngineAccount {
  /** Digits only, e.g. `491701234567`; the chat id of the account is `${number}@c.us`. */
  number: string;
  name: string;
}

/** What is known about a message's attachment before it is downloaded. */
export interface MediaInfo {
  mimetype: string;
  filename: string | null;
  /** Bytes, when the network says. */
  size: number | null;
}

export interface MediaFile {
  mimetype: string;
  filename: string | null;
  data: Uint8Array;
}

export interface OutgoingContent {
  /** The text, or the caption of the media. */
  body: string;
  media?: { mimetype: string; filename: string; data: Uint8Array };
}

export interface SentMessage {
  /** WhatsApp's message id, stable: acks and redeliveries refer to it. */
  id: string;
  /** ISO time the network accepted the message. */
  timestamp: string;
  /** The message as the sender's history will show it (`fromMe`, ack 1 = sent). */
  message: Message;
}

export interface ProfilePhoto {
  mimetype: string;
  data: Uint8Array;
}

export type EngineEvent =
  /** A QR code to show; each replaces the previous. `index` counts from 0; `expiresInMs` when known. */
  | { type: 'qr'; qr: string; index: number; expiresInMs: number | null }
  /**
   * Linked (after a scan) or restored (with stored credentials). `credentials` is opaque: persist it
   * and pass it to the next engine to reconnect without a QR. It may change; persist every one.
   */
  | { type: 'authenticated'; credentials: string }
  /** The session works: commands can be sent. Follows `authenticated` and the history sync. */
  | { type: 'ready'; me: EngineAccount }
  /** History sync: the account's chats and their recent messages, oldest first. Idempotent by id. */
  | { type: 'chats'; chats: Chat[]; messages: Message[] }
  /**
   * A message of this account: from a contact (`fromMe: false`), typed on the linked phone, or sent
   * through this engine (`fromMe: true`, like whatsapp-web.js `message_create`; it comes before any
   * `message_ack` of it, so a listener that persists messages has the row before its acks).
   * Delivery is at least once: the same `message.id` can come again (`redelivery`
   * says the network resent it, but a duplicate can also arrive without it), so consumers must be
   * idempotent by id. See `EngineListener` for when the engine tells the network it has the message.
   */
  | { type: 'message'; message: Message; media: MediaInfo | null; redelivery: boolean }
  /** The ack level of a message this account sent changed (2 delivered, 3 read). */
  | { type: 'message_ack'; id: string; chatId: string; ack: Ack }
  /**
   * The connection ended. `willReconnect` says whether the engine retries on its own. `detail`, when
   * present, says what happened in words for status displays and logs (e.g. `net::ERR_NAME_NOT_RESOLVED
   * at https://web.whatsapp.com/`); it never holds credentials, QR or pairing codes.
   */
  | { type: 'disconnected'; reason: DisconnectReason; willReconnect: boolean; detail?: string }
  | { type: 'state'; state: EngineState };

export type EngineEventType = EngineEvent['type'];
export type EngineEventOf<T extends EngineEventType> = Extract<EngineEvent, { type: T }>;

/**
 * A listener may be async. The engine delivers events one at a time, in order, and waits for every
 * listener to settle before the next event. For `message` this is the persistence hook: the engine
 * acknowledges the message to the network only after all listeners resolved, so "persist, then ack"
 * is simply an awaited insert in the listener. A listener that rejects leaves the message
 * unacknowledged; the network redelivers it with the same id on a later connection.
 * A listener must not wait for a later event of the same engine (it cannot come while the listener
 * runs). Awaiting commands (`sendMessage`, `downloadMedia`, `stop` ...) inside a listener is fine.
 */
export type EngineListener<E extends EngineEvent = EngineEvent> = (event: E) => void | Promise<void>;

export interface Engine {
  readonly kind: EngineKind;
  readonly tenantId: string;
  /** Current state (the `state` events report the same transitions, in order with the others). */
  readonly state: EngineState;
  /** The latest credentials (from the constructor or the last `authenticated`); null after logout. */
  readonly credentials: string | null;

  /**
   * Connect: with credentials, restore the session; without, start QR linking. Resolves once the
   * connection attempt is under way; progress and failures arrive as events. Calling it while
   * started does nothing; after `stop()` or a terminal `disconnected` it connects again.
   */
  start(): Promise<void>;
  /** Close the connection and stop reconnecting; pending calls fail. Idempotent. Credentials stay valid. */
  stop(): Promise<void>;
  /** Unlink this device from the account (credentials become invalid), then end the connection. */
  logout(): Promise<void>;
  /** Send to `<number>@c.us`. Resolves when the network stored it (ack 1); later acks are events. */
  sendMessage(chatId: string, content: OutgoingContent): Promise<SentMessage>;
  /** The attachment of a message this account can see; null when it has none or it is gone. */
  downloadMedia(messageId: string): Promise<MediaFile | null>;
  /** A contact's profile photo; null when none is set or it is not visible. */
  getProfilePhoto(chatId: string): Promise<ProfilePhoto | null>;
  /**
   * Optional: link with a pairing code instead of a QR (whatsapp-web.js `requestPairingCode`). Only while
   * the engine waits for a link (`state === 'qr'`). Resolves with the 8-character code the user types on
   * the phone (`phoneNumber`: digits only, with country code); each call replaces the previous code.
   * Engines without it link by QR only.
   */
  requestPairingCode?(phoneNumber: string): Promise<string>;

  /** Receive every event. Returns the unsubscribe function. */
  subscribe(listener: EngineListener): () => void;
  /** Receive one kind of event. Returns the unsubscribe function. */
  on<T extends EngineEventType>(type: T, listener: EngineListener<EngineEventOf<T>>): () => void;
}

/** What every engine constructor takes, plus its own options. */
export interface EngineOptions {
  tenantId: string;
  /** Credentials persisted from an earlier `authenticated` event, or null to link with a QR code. */
  credentials: string | null;
  /** Where the engine logs (the node adds the tenant id). Never log credentials, QR strings or message bodies. */
  log: LeveledLog;
}

/**
 * Listener registry shared by engine implementations. `emit` calls every listener (in subscription
 * order), waits for all of them, and rejects with the first failure after all have settled.
 */
export class EngineEventHub {
  readonly #listeners = new Set<EngineListener>();

  subscribe(listener: EngineListener): () => void {
    // Wrap so the same function can be subscribed twice and unsubscribed independently.
    const entry: EngineListener = (event) => listener(event);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  on<T extends EngineEventType>(type: T, listener: EngineListener<EngineEventOf<T>>): () => void {
    return this.subscribe((event) => (event.type === type ? listener(event as EngineEventOf<T>) : undefined));
  }

  async emit(event: EngineEvent): Promise<void> {
    const runs = [...this.#listeners].map((listener) => {
      try {
        return Promise.resolve(listener(event));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    const results = await Promise.allSettled(runs);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  }
}
