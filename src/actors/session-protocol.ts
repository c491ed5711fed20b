import { Type, type Static } from '@sinclair/typebox';
import { lazyCheck } from '../domain/compiled-check.js';
import { Ack, Chat, Message, SessionStatus } from '../domain/types.js';

/*
 * What a node and a tenant's session actor say to each other, on top of the runtime's envelope
 * (protocol.ts): commands the node sends (`session.*`), the replies, and the events the actor emits
 * (`evt.*`). Every shape is a TypeBox schema; the node narrows each event with `parseSessionEvent`.
 */

const Bytes = Type.Uint8Array();

export const MediaPayload = Type.Object({
  mimetype: Type.String({ minLength: 1, maxLength: 255 }),
  filename: Type.Union([Type.String({ maxLength: 255 }), Type.Null()]),
  data: Bytes,
});
export type MediaPayload = Static<typeof MediaPayload>;

// Node -> actor commands.

export const SendCommand = Type.Object({
  type: Type.Literal('session.send'),
  chatId: Type.String(),
  body: Type.String(),
  media: Type.Optional(Type.Object({ mimetype: Type.String(), filename: Type.String(), data: Bytes })),
});
export const LogoutCommand = Type.Object({ type: Type.Literal('session.logout') });
/** Connect again after the engine ended for a reason that needs a decision (conflict, QR timeout). */
export const ConnectCommand = Type.Object({ type: Type.Literal('session.connect') });
export const MediaCommand = Type.Object({ type: Type.Literal('session.media'), messageId: Type.String() });
export const ProfilePhotoCommand = Type.Object({ type: Type.Literal('session.profile_photo'), chatId: Type.String() });
/**
 * Link with a pairing code instead of a QR: the engine asks WhatsApp for the code the user types on the
 * phone with this number (digits only, country code first). Only while the session waits for a link.
 */
export const PairingCodeCommand = Type.Object({
  type: Type.Literal('session.pairing_code'),
  phone: Type.String({ pattern: '^[0-9]{6,15}$' }),
});
/**
 * The node committed (ok) or could not commit these deliveries. Only then does the actor let the
 * engine acknowledge the messages to the network: persist, then ack. A notice (`tell`), not a command:
 * it is taken at once, never queued behind a send that waits for the network.
 */
export const PersistedNotice = Type.Object({
  type: Type.Literal('session.persisted'),
  deliveryIds: Type.Array(Type.Integer({ minimum: 1 })),
  ok: Type.Boolean(),
});

export type SessionCommand =
  | Static<typeof SendCommand>
  | Static<typeof LogoutCommand>
  | Static<typeof ConnectCommand>
  | Static<typeof MediaCommand>
  | Static<typeof ProfilePhotoCommand>
  | Static<typeof PairingCodeCommand>;
export type PersistedNotice = Static<typeof PersistedNotice>;
export const isPersistedNotice = lazyCheck(PersistedNotice);

/** Reply of `session.send`. */
export const SendReply = Type.Object({ id: Type.String(), timestamp: Type.String(), message: Message });
export type SendReply = Static<typeof SendReply>;
export const MediaReply = Type.Union([MediaPayload, Type.Null()]);
export const ProfilePhotoReply = Type.Union([Type.Object({ mimetype: Type.String(), data: Bytes }), Type.Null()]);
/** Reply of `session.pairing_code`: the code to type on the phone (never logged). */
export const PairingCodeReply = Type.Object({ code: Type.String({ minLength: 1 }) });
export type PairingCodeReply = Static<typeof PairingCodeReply>;

/**
 * The name whatsapp-web.js' RemoteAuth gives a tenant's stored session (`RemoteAuth-<clientId>`, the
 * client id being the tenant id): the node reads and deletes it by this name, the wwebjs engine writes it.
 */
export function remoteAuthSessionName(tenantId: string): string {
  return `RemoteAuth-${tenantId}`;
}

// Actor -> node events.

export const SessionEvent = Type.Union([
  Type.Object({ type: Type.Literal('evt.status'), status: SessionStatus, reason: Type.Union([Type.String(), Type.Null()]) }),
  Type.Object({ type: Type.Literal('evt.qr'), qr: Type.String(), index: Type.Integer(), expiresInMs: Type.Union([Type.Integer(), Type.Null()]) }),
  /** Persist these (fenced); null after a logout. Never logged. */
  Type.Object({ type: Type.Literal('evt.credentials'), credentials: Type.Union([Type.String(), Type.Null()]) }),
  Type.Object({ type: Type.Literal('evt.history'), chats: Type.Array(Chat), messages: Type.Array(Message) }),
  /** A message to persist; the node answers with `session.persisted { deliveryIds: [deliveryId] }`. */
  Type.Object({
    type: Type.Literal('evt.message'),
    deliveryId: Type.Integer({ minimum: 1 }),
    message: Message,
    media: Type.Union([MediaPayload, Type.Null()]),
  }),
  Type.Object({ type: Type.Literal('evt.ack'), id: Type.String(), chatId: Type.String(), ack: Ack }),
  /**
   * The wwebjs engine's RemoteAuth stored its browser profile (a zip): the node writes it to PostgreSQL
   * with the actor's lease epoch, and hands it to the next start of this actor. Never logged.
   */
  Type.Object({ type: Type.Literal('evt.auth_save'), session: Type.String({ pattern: '^[-_A-Za-z0-9]{1,128}$' }), zip: Bytes }),
  /** The stored browser profile is void (logout, the phone unlinked the device): the node deletes it. */
  Type.Object({ type: Type.Literal('evt.auth_delete'), session: Type.String({ pattern: '^[-_A-Za-z0-9]{1,128}$' }) }),
]);
export type SessionEvent = Static<typeof SessionEvent>;

// Run by the node on every event of an actor; compiled on first use, so actors do not compile it.
const isSessionEvent = lazyCheck(SessionEvent);

export function parseSessionEvent(raw: unknown): SessionEvent | undefined {
  return isSessionEvent(raw) ? raw : undefined;
}

/** What the node passes as the actor's `options` when it spawns it. */
export const SessionActorOptions = Type.Object({
  engine: Type.Union([Type.Literal('sandbox'), Type.Literal('wwebjs')]),
  credentials: Type.Union([Type.String(), Type.Null()]),
  simUrl: Type.String(),
  /** Inbound media larger than this is not copied to the store; it stays downloadable on demand. */
  mediaMaxBytes: Type.Integer({ minimum: 0 }),
  /** How long a delivery may wait for the node's `session.persisted` before it is left unacked. */
  persistTimeoutMs: Type.Integer({ minimum: 1 }),
  /** Engine-specific settings (wwebjs: Chromium path, flags ...), passed through. */
  engineOptions: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type SessionActorOptions = Static<typeof SessionActorOptions>;
