import type { RawData } from 'ws';
import type { Chat, Message } from '../domain/types.js';
import { chatIdOf, WS_PATH, type WireChat, type WireMessage } from './protocol.js';

/**
 * Helpers for clients of the session protocol (the sandbox engine, tests): the socket URL, frame text,
 * and the translation of what the network says into the gateway's domain types.
 */

/** `ws(s)://host:port/ws` from the simulator's base URL (`http(s)://` or `ws(s)://`). */
export function socketUrl(base: string): string {
  const url = new URL(base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.pathname === '/' || url.pathname === '') url.pathname = WS_PATH;
  return url.toString();
}

export function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A network message as `me` sees it: chat id of the other party, `fromMe`, ISO time. */
export function toMessage(w: WireMessage, me: { number: string }): Message {
  const fromMe = w.from === me.number;
  return {
    id: w.id,
    chatId: chatIdOf(fromMe ? w.to : w.from),
    from: chatIdOf(w.from),
    fromMe,
    body: w.body,
    timestamp: iso(w.timestamp),
    type: w.type,
    hasMedia: w.media !== null,
    ack: w.ack,
  };
}

export function toChat(c: WireChat): Chat {
  return {
    id: c.id,
    name: c.name,
    isGroup: false,
    unreadCount: c.unreadCount,
    lastMessageAt: c.lastTimestamp === null ? null : iso(c.lastTimestamp),
    lastMessagePreview: c.lastPreview,
  };
}
