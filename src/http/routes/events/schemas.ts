import { Type } from '@sinclair/typebox';
import { EventName } from '../../../domain/types.js';

export const EventQuery = Type.Object({
  after: Type.String({
    minLength: 1,
    maxLength: 128,
    default: '0',
    description: 'An event id you received (or `next` of the previous page); `0`: from the oldest event kept.',
  }),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
});

export const EventEnvelope = Type.Object(
  {
    id: Type.String({ description: '`<tenantId>:<seq>`: unique, and the same on every redelivery.' }),
    seq: Type.Integer({ description: "The tenant's events are numbered 1, 2, 3 ... in commit order, without gaps." }),
    event: EventName,
    chatId: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    payload: Type.Unknown({ description: 'What the Socket.IO event of the same name carries.' }),
  },
  { title: 'Event' },
);

export const EventPage = Type.Object(
  {
    events: Type.Array(EventEnvelope, { description: 'Oldest first.' }),
    next: Type.String({ description: 'Pass as `after` to continue (also when `events` is empty: you are up to date to here).' }),
    truncated: Type.Boolean({ description: 'Events after your cursor were deleted by retention before you read them.' }),
  },
  { title: 'EventPage' },
);
