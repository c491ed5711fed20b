import type { RawData } from 'ws';
import { AppError, ErrorCodes } from '../domain/errors.js';
import type { Chat, Message } from '../domain/types.js';
import { chatIdOf, WS_PATH, type ServerReply, type WireChat, type WireMessage } from './protocol.js';

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

interface PendingCall {
  expect: ServerReply['type'];
  /** Runs synchronously on the reply, before any later frame is handled (the promise resolves later). */
  onReply: ((frame: ServerReply) => void) | undefined;
  resolve: (frame: ServerReply) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Requests in flight on one client, by `reqId`: every one ends with its reply, an error reply, its
 * deadline, or `failAll` when the connection goes, never hanging.
 */
export class PendingRequests {
  readonly #calls = new Map<number, PendingCall>();
  #nextId = 1;

  open<T extends ServerReply['type']>(
    expect: T,
    timeoutMs: number,
    onReply?: (frame: Extract<ServerReply, { type: T }>) => void,
  ): { reqId: number; reply: Promise<Extract<ServerReply, { type: T }>> } {
    const reqId = this.#nextId++;
    const reply = new Promise<Extract<ServerReply, { type: T }>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#calls.delete(reqId);
        reject(new AppError(ErrorCodes.ENGINE, `The simulator did not answer (${expect}) within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#calls.set(reqId, {
        expect,
        onReply: onReply as ((f: ServerReply) => void) | undefined,
        resolve: resolve as (f: ServerReply) => void,
        reject,
        timer,
      });
    });
    return { reqId, reply };
  }

  settle(frame: ServerReply): void {
    const call = this.#calls.get(frame.reqId);
    if (!call) return; // timed out already
    this.#calls.delete(frame.reqId);
    clearTimeout(call.timer);
    if (frame.type === 'res.error') {
      const code = frame.code === 'not_found' ? ErrorCodes.NOT_FOUND : frame.code === 'invalid' ? ErrorCodes.VALIDATION : ErrorCodes.SESSION_NOT_RUNNING;
      call.reject(new AppError(code, frame.message));
    } else if (frame.type !== call.expect) {
      call.reject(new AppError(ErrorCodes.ENGINE, `The simulator answered ${call.expect} with ${frame.type}`));
    } else {
      try {
        call.onReply?.(frame);
        call.resolve(frame);
      } catch (err) {
        call.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  failAll(err: Error): void {
    for (const call of this.#calls.values()) {
      clearTimeout(call.timer);
      call.reject(err);
    }
    this.#calls.clear();
  }
}
