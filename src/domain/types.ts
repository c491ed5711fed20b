import { Type, type Static } from '@sinclair/typebox';
import { registerFormats } from './formats.js';

// The one import-time effect in domain: TypeBox's checker must know the formats these schemas use.
registerFormats();

/**
 * Domain shapes shared by every layer. Each type comes from its TypeBox schema, so the HTTP layer can
 * reuse the schema for validation and OpenAPI, and nothing keeps a hand-written twin.
 */

export const Role = Type.Union([Type.Literal('admin'), Type.Literal('employee')]);
export type Role = Static<typeof Role>;

export const Uuid = Type.String({ format: 'uuid' });

/** A WhatsApp chat id: `<number>@c.us` for people, `<id>@g.us` for groups. */
export const ChatId = Type.String({ minLength: 6, maxLength: 64, pattern: '^[0-9A-Za-z._-]+@(c|g)\\.us$' });

export const User = Type.Object({
  id: Uuid,
  tenantId: Uuid,
  name: Type.String(),
  email: Type.String(),
  role: Role,
  disabled: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
});
export type User = Static<typeof User>;

export const Chat = Type.Object({
  id: ChatId,
  name: Type.String(),
  isGroup: Type.Boolean(),
  unreadCount: Type.Integer({ minimum: 0 }),
  lastMessageAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastMessagePreview: Type.Union([Type.String(), Type.Null()]),
});
export type Chat = Static<typeof Chat>;

export const MessageType = Type.Union([
  Type.Literal('chat'),
  Type.Literal('image'),
  Type.Literal('video'),
  Type.Literal('audio'),
  Type.Literal('document'),
  Type.Literal('sticker'),
  Type.Literal('other'),
]);
export type MessageType = Static<typeof MessageType>;

/** WhatsApp ack levels as whatsapp-web.js numbers them. */
export const Ack = Type.Union([
  Type.Literal(-1), // error
  Type.Literal(0), // pending
  Type.Literal(1), // sent (server)
  Type.Literal(2), // delivered (device)
  Type.Literal(3), // read
  Type.Literal(4), // played
]);
export type Ack = Static<typeof Ack>;

export const Message = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128 }),
  chatId: ChatId,
  from: Type.String(),
  fromMe: Type.Boolean(),
  body: Type.String(),
  timestamp: Type.String({ format: 'date-time' }),
  type: MessageType,
  hasMedia: Type.Boolean(),
  ack: Ack,
});
export type Message = Static<typeof Message>;

export const SessionStatus = Type.Union([
  Type.Literal('stopped'),
  Type.Literal('starting'),
  Type.Literal('qr'),
  Type.Literal('connected'),
  Type.Literal('disconnected'),
  Type.Literal('logged_out'),
  Type.Literal('failed'),
]);
export type SessionStatus = Static<typeof SessionStatus>;

export const DesiredState = Type.Union([Type.Literal('active'), Type.Literal('stopped')]);
export type DesiredState = Static<typeof DesiredState>;

/**
 * Names of the durable events a tenant's outbox holds (docs/webhooks.md). Each has a stable id, is
 * replayable from a cursor and can be delivered to webhooks.
 */
export const EventName = Type.Union([
  Type.Literal('message'),
  Type.Literal('message_ack'),
  Type.Literal('session_status'),
  Type.Literal('chat_updated'),
  Type.Literal('qr'),
]);
export type EventName = Static<typeof EventName>;

/**
 * What a webhook subscribes to: the event names, plus `message.any`. `message` is inbound messages only
 * (what others sent); `message.any` is every message, the tenant's own included.
 */
export const WebhookEventName = Type.Union([...EventName.anyOf, Type.Literal('message.any')]);
export type WebhookEventName = Static<typeof WebhookEventName>;
