import type WAWebJS from 'whatsapp-web.js';
import type { Ack, Chat, Message, MessageType } from '../../domain/types.js';
import type { DisconnectReason, EngineState, MediaInfo } from './engine.js';

/** Pure translations from whatsapp-web.js' shapes (index.d.ts) to our domain types. No I/O here. */

/** Our ChatId schema (src/domain/types.ts): people `<number>@c.us`, groups `<id>@g.us`. */
const CHAT_ID = /^[0-9A-Za-z._-]+@(c|g)\.us$/;

/** Chats we keep: people and groups. Status broadcasts, channels (`@newsletter`) and bare LIDs are not. */
export function isSupportedChatId(id: string): boolean {
  return id.length >= 6 && id.length <= 64 && CHAT_ID.test(id);
}

/** The chat a message belongs to, as whatsapp-web.js names it (may be a `@lid` id to resolve). */
export function rawChatIdOf(msg: WAWebJS.Message): string {
  return msg.fromMe ? msg.to : msg.from;
}

/** Who wrote it: in a group the author, otherwise the other side (or us). */
export function rawSenderOf(msg: WAWebJS.Message, meId: string): string {
  if (msg.fromMe) return meId;
  return msg.author !== undefined && msg.author !== '' ? msg.author : msg.from;
}

export function messageTypeOf(type: string): MessageType {
  switch (type) {
    case 'chat':
    case 'image':
    case 'video':
    case 'document':
    case 'sticker':
      return type;
    case 'audio':
    case 'ptt': // voice note
      return 'audio';
    default:
      return 'other';
  }
}

export function ackOf(value: number): Ack {
  switch (value) {
    case -1:
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
      return value;
    default:
      return value > 4 ? 4 : 0;
  }
}

function isoFromSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** whatsapp-web.js puts the caption of a media message in `body`. */
export function toMessage(msg: WAWebJS.Message, ids: { chatId: string; from: string }): Message {
  return {
    id: msg.id._serialized,
    chatId: ids.chatId,
    from: ids.from,
    fromMe: msg.fromMe,
    body: typeof msg.body === 'string' ? msg.body : '',
    timestamp: isoFromSeconds(msg.timestamp),
    type: messageTypeOf(msg.type),
    hasMedia: msg.hasMedia,
    ack: ackOf(msg.ack),
  };
}

function field(raw: object, key: string): unknown {
  return (raw as Record<string, unknown>)[key];
}

/** What the raw message model says about the attachment, before it is downloaded. */
export function mediaInfoOf(msg: WAWebJS.Message): MediaInfo | null {
  if (!msg.hasMedia) return null;
  const raw: unknown = msg.rawData;
  const data = typeof raw === 'object' && raw !== null ? raw : {};
  const mimetype = field(data, 'mimetype');
  const filename = field(data, 'filename');
  const size = field(data, 'size');
  return {
    mimetype: typeof mimetype === 'string' && mimetype !== '' ? mimetype : 'application/octet-stream',
    filename: typeof filename === 'string' && filename !== '' ? filename : null,
    size: typeof size === 'number' && Number.isFinite(size) && size >= 0 ? Math.round(size) : null,
  };
}

const PREVIEW_CHARS = 200;

export function toChat(chat: WAWebJS.Chat, id: string): Chat {
  const last = chat.lastMessage as WAWebJS.Message | undefined;
  const preview = last !== undefined && typeof last.body === 'string' && last.body !== '' ? last.body.slice(0, PREVIEW_CHARS) : null;
  return {
    id,
    name: typeof chat.name === 'string' ? chat.name : '',
    isGroup: chat.isGroup,
    unreadCount: Number.isInteger(chat.unreadCount) && chat.unreadCount > 0 ? chat.unreadCount : 0,
    lastMessageAt: typeof chat.timestamp === 'number' && chat.timestamp > 0 ? isoFromSeconds(chat.timestamp) : null,
    lastMessagePreview: preview,
  };
}

/** What the `change_state` states mean for our state; null: a `disconnected` event follows instead. */
export function engineStateOf(state: string): EngineState | null {
  switch (state) {
    case 'CONNECTED':
      return 'connected';
    case 'OPENING':
    case 'PAIRING':
      return 'connecting';
    case 'TIMEOUT': // WhatsApp Web lost its socket and retries by itself
      return 'reconnecting';
    default:
      return null;
  }
}

/** whatsapp-web.js' message when `qrMaxRetries` QR codes went unscanned. */
export const QR_RETRIES_REASON = 'Max qrcode retries reached';

/** whatsapp-web.js' `disconnected` reason (a WAState, 'LOGOUT' or the QR message) in our terms. */
export function disconnectReasonOf(reason: string): { reason: DisconnectReason; detail: string } {
  switch (reason) {
    case 'LOGOUT':
      return { reason: 'logged_out', detail: 'the device was unlinked (WhatsApp Web logged out)' };
    case 'UNPAIRED':
    case 'UNPAIRED_IDLE':
      return { reason: 'logged_out', detail: `WhatsApp Web is no longer paired (${reason})` };
    case 'CONFLICT':
      return { reason: 'conflict', detail: 'WhatsApp Web was opened for this account elsewhere (CONFLICT)' };
    case QR_RETRIES_REASON:
      return { reason: 'qr_timeout', detail: 'no phone scanned the QR codes' };
    default:
      return { reason, detail: `WhatsApp Web state ${reason}` };
  }
}

/** Thrown by our own deadline around `client.initialize()`. */
export class InitTimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`WhatsApp Web did not load within ${ms} ms`);
    this.name = 'InitTimeoutError';
  }
}

const DETAIL_CHARS = 300;

function oneLine(text: string): string {
  const first = text.split('\n').find((l) => l.trim() !== '') ?? text;
  return first.trim().slice(0, DETAIL_CHARS);
}

/**
 * Why a start failed, from what `initialize()` threw. whatsapp-web.js also throws plain strings
 * ('auth timeout', 'ready timeout') when the page never became WhatsApp Web.
 */
export function startFailureOf(err: unknown): { reason: DisconnectReason; detail: string } {
  const text = err instanceof Error ? err.message : String(err);
  const detail = oneLine(text) || 'unknown error';
  if (err instanceof InitTimeoutError || /net::ERR_|auth timeout|ready timeout|Navigation timeout/i.test(text)) {
    return { reason: 'network', detail };
  }
  if (/Failed to launch the browser process|spawn .* (ENOENT|EACCES)/i.test(text)) return { reason: 'browser_failed', detail };
  if (/Target closed|Session closed|Protocol error|detached|Connection closed/i.test(text)) return { reason: 'browser_crashed', detail };
  return { reason: 'start_failed', detail };
}
