import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { formatEventId, parseEventCursor } from '../../../store/outbox.js';
import type { Store } from '../../../store/types.js';
import { principalOf, protect, type Guard } from '../../auth/guard.js';
import { errorResponses } from '../../errors.js';
import { EventPage, EventQuery } from './schemas.js';

export interface EventRoutesOptions {
  store: Store;
  guard: Guard;
}

/** Replay of the tenant's stored events from a cursor, under /api/events (docs/webhooks.md). */
export const eventRoutes: FastifyPluginAsyncTypebox<EventRoutesOptions> = async (app, { store, guard }) => {
  protect(app, guard, 'user');

  app.get(
    '/',
    {
      prefixTrailingSlash: 'no-slash',
      schema: {
        tags: ['events'],
        summary: 'Events after a cursor, oldest first',
        description:
          'The same events Socket.IO and webhooks carry, each with a stable id. Keep `next` and ask again to get only what is new. An employee gets only the events of its chats.',
        querystring: EventQuery,
        response: { 200: EventPage, ...errorResponses(400, 503) },
      },
    },
    async (request) => {
      const { tenantId, userId, role } = principalOf(request);
      const after = parseEventCursor(tenantId, request.query.after);
      const chatIds = role === 'admin' ? undefined : (await store.permissions.listForUser(tenantId, userId)).map((p) => p.chatId);
      const page = await store.outbox.read(tenantId, { after, limit: request.query.limit, ...(chatIds === undefined ? {} : { chatIds }) });
      return {
        events: page.events.map((e) => ({ id: e.id, seq: e.seq, event: e.name, chatId: e.chatId, createdAt: e.createdAt, payload: e.payload })),
        next: formatEventId(tenantId, page.cursor),
        truncated: page.truncated,
      };
    },
  );
};
