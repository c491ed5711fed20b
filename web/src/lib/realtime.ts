import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { io, type Socket } from 'socket.io-client';
import type { Api } from './api.js';
import {
  Chat,
  ChatAccessEvent,
  Message,
  MessageAckEvent,
  PairingCodeEvent,
  QrEvent,
  ReadyEvent,
  SessionStatusEvent,
} from './schemas.js';

/** Everything the console reacts to, already validated. */
export type LiveEvent =
  | { type: 'ready'; info: Static<typeof ReadyEvent> }
  | { type: 'qr'; dataUrl: string }
  | { type: 'pairing_code'; code: string }
  | { type: 'session_status'; status: Static<typeof SessionStatusEvent> }
  | { type: 'message'; message: Static<typeof Message> }
  | { type: 'message_ack'; ack: Static<typeof MessageAckEvent> }
  | { type: 'chat_updated'; chat: Static<typeof Chat> }
  | { type: 'chat_assigned'; chatId: string }
  | { type: 'chat_revoked'; chatId: string }
  | { type: 'connection'; state: ConnectionState; detail?: string };

export type ConnectionState = 'connecting' | 'live' | 'offline' | 'signed_out';

/** Backoff between handshakes the server refused (e.g. a node shutting down). */
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;

export interface Live {
  close(): void;
}

/**
 * Opens the tenant's Socket.IO channel on this origin and turns its frames into `LiveEvent`s. A frame
 * that fails its schema is dropped (and logged to the console): the UI never renders unchecked data.
 *
 * Tokens: the handshake carries the current access token; when the server says `token_expired`, or
 * refuses a handshake as unauthenticated, the client refreshes once and reconnects with the new token.
 */
export function connectLive(api: Api, onEvent: (event: LiveEvent) => void): Live {
  const socket: Socket = io({
    auth: (cb) => cb({ token: api.current()?.accessToken ?? '' }),
    // WebSocket first: polling's long requests add nothing on a same-origin deployment.
    transports: ['websocket', 'polling'],
  });
  let closed = false;
  // A handshake refused as unauthenticated right after a refresh must not loop: one retry per connection.
  let authRetried = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let retryDelayMs = RETRY_MIN_MS;
  const emitState = (state: ConnectionState, detail?: string): void => {
    if (!closed) onEvent(detail === undefined ? { type: 'connection', state } : { type: 'connection', state, detail });
  };
  const on = <S extends TSchema>(name: string, schema: S, map: (payload: Static<S>) => LiveEvent): void => {
    socket.on(name, (payload: unknown) => {
      if (Value.Check(schema, payload)) onEvent(map(payload));
      else console.warn(`wa-tenants: ignored a malformed "${name}" event`);
    });
  };

  on('ready', ReadyEvent, (info) => ({ type: 'ready', info }));
  on('qr', QrEvent, (p) => ({ type: 'qr', dataUrl: typeof p === 'string' ? p : p.qr }));
  on('pairing_code', PairingCodeEvent, (p) => ({ type: 'pairing_code', code: typeof p === 'string' ? p : p.code }));
  on('session_status', SessionStatusEvent, (status) => ({ type: 'session_status', status }));
  on('message', Message, (message) => ({ type: 'message', message }));
  on('message_ack', MessageAckEvent, (ack) => ({ type: 'message_ack', ack }));
  on('chat_updated', Chat, (chat) => ({ type: 'chat_updated', chat }));
  on('chat_assigned', ChatAccessEvent, (p) => ({ type: 'chat_assigned', chatId: p.chatId }));
  on('chat_revoked', ChatAccessEvent, (p) => ({ type: 'chat_revoked', chatId: p.chatId }));

  const reconnectWithFreshToken = (): void => {
    api.freshSession().then(
      (session) => {
        if (closed) return;
        if (session === null) emitState('signed_out');
        else socket.connect();
      },
      () => emitState('offline', 'Could not renew the session; retrying when the page is reloaded'),
    );
  };

  socket.on('connect', () => {
    authRetried = false;
    retryDelayMs = RETRY_MIN_MS;
    emitState('live');
  });
  socket.on('token_expired', () => {
    // The server disconnects right after this; a server-side disconnect is not retried automatically.
    socket.disconnect();
    reconnectWithFreshToken();
  });
  socket.on('disconnect', (reason) => {
    if (closed) return;
    // 'io server disconnect': the server cut us (account disabled, or token expiry handled above).
    if (reason === 'io server disconnect') {
      reconnectWithFreshToken();
      return;
    }
    if (reason !== 'io client disconnect') emitState('connecting', 'Connection lost; reconnecting');
  });
  socket.on('connect_error', (err: Error & { data?: unknown }) => {
    const data = err.data;
    const code = typeof data === 'object' && data !== null && 'code' in data ? data.code : undefined;
    if (code === 'WA_UNAUTHENTICATED' && !authRetried) {
      authRetried = true;
      reconnectWithFreshToken();
      return;
    }
    emitState('connecting', err.message);
    // A refusal by the server's middleware ends the client's own retries (`active` is false): retry here.
    if (!socket.active) {
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => socket.connect(), retryDelayMs);
      retryDelayMs = Math.min(retryDelayMs * 2, RETRY_MAX_MS);
    }
  });

  emitState('connecting');
  return {
    close() {
      closed = true;
      clearTimeout(retryTimer);
      socket.removeAllListeners();
      socket.disconnect();
    },
  };
}
