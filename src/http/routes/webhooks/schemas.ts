import { Type } from '@sinclair/typebox';
import { EventName, Uuid, WebhookEventName } from '../../../domain/types.js';

const Url = Type.String({ minLength: 8, maxLength: 2048, pattern: '^https?://', description: 'Where events are POSTed (http or https).' });
const Events = Type.Array(WebhookEventName, {
  minItems: 1,
  maxItems: 6,
  uniqueItems: true,
  description: '`message` is messages others sent; `message.any` every message, your own too.',
});
const Secret = Type.String({
  minLength: 16,
  maxLength: 256,
  description: 'Key of the HMAC-SHA256 signature in `X-Wa-Signature` (docs/webhooks.md). Omitted on create: one is generated and returned once.',
});
const MaxConcurrency = Type.Integer({
  minimum: 1,
  maximum: 64,
  description: 'Deliveries in flight at once. 1 (the default): strictly in event order; more: faster, order only within that window.',
});

export const WebhookParams = Type.Object({ id: Uuid });

export const NewWebhookBody = Type.Object(
  {
    url: Url,
    events: Events,
    secret: Type.Optional(Secret),
    enabled: Type.Optional(Type.Boolean({ default: true })),
    maxConcurrency: Type.Optional(MaxConcurrency),
  },
  { additionalProperties: false },
);

export const WebhookPatchBody = Type.Object(
  {
    url: Type.Optional(Url),
    events: Type.Optional(Events),
    secret: Type.Optional(Secret),
    enabled: Type.Optional(Type.Boolean({ description: 'true re-enables a disabled webhook and clears its reason.' })),
    maxConcurrency: Type.Optional(MaxConcurrency),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const Webhook = Type.Object(
  {
    id: Uuid,
    url: Type.String(),
    events: Type.Array(WebhookEventName),
    enabled: Type.Boolean(),
    disabledReason: Type.Union([Type.String(), Type.Null()], { description: 'Why the gateway disabled it (410 Gone, or failing for too long).' }),
    maxConcurrency: Type.Integer(),
    failingSince: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'First failed attempt since the last success.' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { title: 'Webhook' },
);

export const CreatedWebhook = Type.Composite([Webhook, Type.Object({ secret: Type.String({ description: 'Shown only here: keep it.' }) })], {
  title: 'CreatedWebhook',
});

export const WebhookList = Type.Array(Webhook);

export const DeliveryQuery = Type.Object({
  before: Type.Optional(Type.Integer({ minimum: 1, description: '`nextBefore` of the previous page.' })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
});

export const Delivery = Type.Object(
  {
    eventId: Type.String(),
    seq: Type.Integer(),
    event: EventName,
    state: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
    attempts: Type.Array(
      Type.Object({
        attempt: Type.Integer(),
        startedAt: Type.String({ format: 'date-time' }),
        durationMs: Type.Integer(),
        statusCode: Type.Union([Type.Integer(), Type.Null()]),
        error: Type.Union([Type.String(), Type.Null()]),
      }),
    ),
    nextAttemptAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    lastStatus: Type.Union([Type.Integer(), Type.Null()]),
    lastError: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    completedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { title: 'WebhookDelivery' },
);

export const DeliveryPage = Type.Object(
  {
    deliveries: Type.Array(Delivery, { description: 'Newest event first.' }),
    nextBefore: Type.Union([Type.Integer(), Type.Null()], { description: 'Pass as `before` for older deliveries; null at the end.' }),
  },
  { title: 'WebhookDeliveryPage' },
);
