import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { compiledCheck } from '../domain/compiled-check.js';

/**
 * The wire protocol between a linked-device session (the sandbox engine) and the simulator, over one
 * WebSocket at `/ws`. Every frame is a JSON object with a `type`; both sides validate what they receive
 * against these schemas. The simulator plays WhatsApp, so the wire speaks WhatsApp's terms (numbers,
 * `<number>@c.us` chat ids, epoch-millisecond timestamps) and never the gateway's domain types: the
 * engine translates.
 *
 * Session lifecycle:
 *   client `hello { credentials: null }` -> server `qr` (rotating) ... until a phone scans one
 *     -> `authenticated { credentials, me }` -> `history` -> `ready` -> queued `message`s and `ack`s
 *   client `hello { credentials }`        -> `authenticated` -> `history` -> `ready` -> queued ...
 *   terminal frames, each followed by a close: `link_failed`, `conflict`, `logged_out`.
 * Delivery is at least once: the client answers each `message` with `delivery.ack { id }`; the server
 * redelivers un-acked messages on the next connection of the same device.
 * Requests carry a client-chosen `reqId` and get exactly one `res.*` frame with the same `reqId`.
 */

/** WhatsApp number: digits only, country code first, no `+` (E.164 allows at most 15 digits). */
export const PhoneNumber = Type.String({ pattern: '^[0-9]{5,15}$', description: 'Digits only, e.g. 491701234567' });
/** A person's chat id in WhatsApp form. The simulator has no groups. */
export const UserChatId = Type.String({ pattern: '^[0-9]{5,15}@c\\.us$', description: '<number>@c.us' });
export const BASE64_PATTERN = '^[A-Za-z0-9+/]*={0,2}$';
export const Base64 = Type.String({ pattern: BASE64_PATTERN });
export const MimeType = Type.String({ minLength: 3, maxLength: 127, pattern: '^[a-z]+/[-+.0-9A-Za-z]+$' });
export const FileName = Type.String({ minLength: 1, maxLength: 255 });
export const MessageBody = Type.String({ maxLength: 65_536 });
export const WireAck = Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3)], {
  description: '1 sent (stored by the server), 2 delivered (the recipient account has it), 3 read',
});
export type WireAck = Static<typeof WireAck>;

export const MediaUpload = Type.Object({ mimetype: MimeType, filename: FileName, dataBase64: Base64 });
export type MediaUpload = Static<typeof MediaUpload>;
export const MediaInfo = Type.Object({ mimetype: MimeType, filename: FileName, size: Type.Integer({ minimum: 0 }) });
export type MediaInfo = Static<typeof MediaInfo>;

export const WireMessageType = Type.Union([
  Type.Literal('chat'),
  Type.Literal('image'),
  Type.Literal('video'),
  Type.Literal('audio'),
  Type.Literal('document'),
]);
export type WireMessageType = Static<typeof WireMessageType>;

/** A message as the network stores it, the same for both parties; each side derives its own chat id. */
export const WireMessage = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  from: PhoneNumber,
  to: PhoneNumber,
  body: MessageBody,
  timestamp: Type.Integer({ minimum: 0, description: 'epoch milliseconds' }),
  type: WireMessageType,
  media: Type.Union([MediaInfo, Type.Null()]),
  ack: WireAck,
});
export type WireMessage = Static<typeof WireMessage>;

export const WireChat = Type.Object({
  id: UserChatId,
  name: Type.String(),
  unreadCount: Type.Integer({ minimum: 0 }),
  lastTimestamp: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  lastPreview: Type.Union([Type.String(), Type.Null()]),
});
export type WireChat = Static<typeof WireChat>;

const ReqId = Type.Integer({ minimum: 0 });

// ---- client -> server -------------------------------------------------------------------------

export const ClientFrame = Type.Union([
  Type.Object({ type: Type.Literal('hello'), credentials: Type.Union([Type.String({ minLength: 1, maxLength: 512 }), Type.Null()]) }),
  Type.Object({ type: Type.Literal('delivery.ack'), id: Type.String({ minLength: 1, maxLength: 64 }) }),
  // Several acks in one frame: a session that stores messages in batches acks them in batches.
  Type.Object({
    type: Type.Literal('delivery.acks'),
    ids: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 1000 }),
  }),
  Type.Object({
    type: Type.Literal('req.send'),
    reqId: ReqId,
    to: UserChatId,
    body: MessageBody,
    media: Type.Optional(MediaUpload),
  }),
  Type.Object({ type: Type.Literal('req.profile_photo'), reqId: ReqId, chatId: UserChatId }),
  Type.Object({ type: Type.Literal('req.media'), reqId: ReqId, messageId: Type.String({ minLength: 1, maxLength: 64 }) }),
  Type.Object({ type: Type.Literal('req.logout'), reqId: ReqId }),
]);
export type ClientFrame = Static<typeof ClientFrame>;

// ---- server -> client -------------------------------------------------------------------------

export const LoggedOutReason = Type.Union([
  Type.Literal('phone_unlinked'),
  Type.Literal('logout'),
  Type.Literal('invalid_credentials'),
]);
export type LoggedOutReason = Static<typeof LoggedOutReason>;

export const ErrorReplyCode = Type.Union([
  Type.Literal('not_found'),
  Type.Literal('invalid'),
  Type.Literal('not_ready'),
]);
export type ErrorReplyCode = Static<typeof ErrorReplyCode>;

export const ServerFrame = Type.Union([
  Type.Object({
    type: Type.Literal('qr'),
    qr: Type.String({ minLength: 1 }),
    index: Type.Integer({ minimum: 0 }),
    expiresInMs: Type.Integer({ minimum: 0 }),
  }),
  Type.Object({
    type: Type.Literal('authenticated'),
    credentials: Type.String({ minLength: 1 }),
    me: Type.Object({ number: PhoneNumber, name: Type.String() }),
  }),
  Type.Object({ type: Type.Literal('history'), chats: Type.Array(WireChat), messages: Type.Array(WireMessage) }),
  Type.Object({ type: Type.Literal('ready') }),
  Type.Object({ type: Type.Literal('message'), message: WireMessage, redelivery: Type.Boolean() }),
  Type.Object({ type: Type.Literal('ack'), id: Type.String({ minLength: 1 }), chatId: UserChatId, ack: WireAck }),
  Type.Object({ type: Type.Literal('link_failed'), reason: Type.Literal('qr_timeout') }),
  Type.Object({ type: Type.Literal('conflict'), reason: Type.Literal('replaced') }),
  Type.Object({ type: Type.Literal('logged_out'), reason: LoggedOutReason }),
  Type.Object({ type: Type.Literal('res.send'), reqId: ReqId, id: Type.String({ minLength: 1 }), timestamp: Type.Integer({ minimum: 0 }) }),
  Type.Object({
    type: Type.Literal('res.profile_photo'),
    reqId: ReqId,
    photo: Type.Union([Type.Object({ mimetype: MimeType, dataBase64: Base64 }), Type.Null()]),
  }),
  Type.Object({ type: Type.Literal('res.media'), reqId: ReqId, media: Type.Union([MediaUpload, Type.Null()]) }),
  Type.Object({ type: Type.Literal('res.logout'), reqId: ReqId }),
  Type.Object({ type: Type.Literal('res.error'), reqId: ReqId, code: ErrorReplyCode, message: Type.String() }),
]);
export type ServerFrame = Static<typeof ServerFrame>;
export type ServerReply = Extract<ServerFrame, { type: `res.${string}` }>;

/** WebSocket close codes (4000-4999 are for applications). */
export const CloseCodes = {
  LINK_FAILED: 4001,
  CONFLICT: 4002,
  LOGGED_OUT: 4003,
  INVALID_FRAME: 4004,
  HELLO_TIMEOUT: 4005,
} as const;

export const WS_PATH = '/ws';
/** Largest frame either side accepts: media travels inline as base64 (16 MB file -> ~22 MB). */
export const MAX_FRAME_BYTES = 32 * 1024 * 1024;

/** Parse one text frame; `null` when it is not JSON or does not match `schema`. */
export function parseFrame<T extends TSchema>(schema: T, text: string): Static<T> | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  // Compiled once per schema: validating every frame with the interpreter would cost more than the rest
  // of the frame handling.
  return compiledCheck(schema).Check(value) ? value : null;
}

/** The chat id a party uses for a conversation with `number`. */
export function chatIdOf(number: string): string {
  return `${number}@c.us`;
}

/** The number inside a `<number>@c.us` chat id (assumes the id passed `UserChatId`). */
export function numberOf(chatId: string): string {
  return chatId.slice(0, chatId.indexOf('@'));
}
