import { Type, type Static } from '@sinclair/typebox';
import { BASE64_PATTERN, MediaUpload, MessageBody, PhoneNumber, UserChatId, WireMessage } from './protocol.js';

/** TypeBox schemas of the simulator's phone API (request validation and response serialisation). */

export const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String(),
});
export type ErrorBody = Static<typeof ErrorBody>;

export const NumberParams = Type.Object({ number: PhoneNumber });

export const CreatePhoneBody = Type.Object(
  { number: PhoneNumber, name: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

export const PhoneView = Type.Object({
  number: PhoneNumber,
  name: Type.String(),
  hasPhoto: Type.Boolean(),
  linked: Type.Boolean(),
  online: Type.Boolean(),
  pendingDeliveries: Type.Integer({ description: 'Messages handed to the linked session and not acked by it yet' }),
});
export type PhoneView = Static<typeof PhoneView>;

export const LinkBody = Type.Object({ qr: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });

export const SendBody = Type.Object(
  {
    to: PhoneNumber,
    body: Type.Optional(MessageBody),
    media: Type.Optional(MediaUpload),
  },
  { additionalProperties: false },
);

export const SentView = Type.Object({ id: Type.String(), timestamp: Type.Integer() });

export const MessagesQuery = Type.Object({
  box: Type.Optional(
    Type.Union([Type.Literal('inbox'), Type.Literal('sent'), Type.Literal('all')], {
      description: 'inbox: received by this phone (default); sent: sent by it; all: both',
    }),
  ),
});

export const PhoneMessage = Type.Composite([WireMessage, Type.Object({ chatId: UserChatId })]);
export const MessagesView = Type.Object({ messages: Type.Array(PhoneMessage) });

export const ReadBody = Type.Object({ chatId: UserChatId }, { additionalProperties: false });

export const PhotoBody = Type.Object(
  {
    mimetype: Type.String({ pattern: '^image/[-+.0-9A-Za-z]+$', maxLength: 127 }),
    dataBase64: Type.String({ pattern: BASE64_PATTERN, minLength: 4 }),
  },
  { additionalProperties: false },
);

/** Many phones writing at once (load generation): one request carries what a tick of traffic sends. */
export const BulkSendBody = Type.Object(
  {
    messages: Type.Array(Type.Object({ from: PhoneNumber, to: PhoneNumber, body: MessageBody }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 1000,
    }),
  },
  { additionalProperties: false },
);

export const BulkSentView = Type.Object({
  /** One entry per message, in request order: its id, or why the network refused it. */
  results: Type.Array(Type.Union([Type.Object({ id: Type.String() }), Type.Object({ code: Type.String(), message: Type.String() })])),
});

export const RedeliverBody = Type.Object({ messageId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

export const StatsView = Type.Object({
  accounts: Type.Integer(),
  linkedDevices: Type.Integer(),
  onlineDevices: Type.Integer(),
  pending: Type.Integer({ description: 'Deliveries not yet acked by their session, right now' }),
  sent: Type.Integer(),
  delivered: Type.Integer(),
  redelivered: Type.Integer(),
  queued: Type.Integer(),
  connections: Type.Integer(),
  conflicts: Type.Integer(),
});

export const ConnectionsView = Type.Object({
  connections: Type.Array(
    Type.Object({
      connectionId: Type.String(),
      number: PhoneNumber,
      deviceId: Type.String(),
      from: Type.String({ description: 'ISO time the connection was attached to the account' }),
      to: Type.Union([Type.String(), Type.Null()]),
      endReason: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});
