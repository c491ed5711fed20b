import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Chat } from '../../../domain/types.js';
import type { Store } from '../../../store/types.js';
import { accessUser, enforceChatAccess, principalOf, protect, type Guard } from '../../auth/guard.js';
import { errorResponses } from '../../errors.js';
import { ChatList, ChatParams, MessagePage, MessagePageQuery } from './schemas.js';

export interface ChatRoutesOptions {
  store: Store;
  guard: Guard;
}

/** Chat reads under /api/chats. They read the store only, so they work while the phone is offline. */
export const chatRoutes: FastifyPluginAsyncTypebox<ChatRoutesOptions> = async (app, { store, guard }) => {
  protect(app, guard, 'user');
  const serializedLists = new WeakMap<readonly Chat[], string>();

  app.get(
    '/',
    {
      // The list lives at the prefix itself (/api/...), not at a trailing-slash twin.
      prefixTrailingSlash: 'no-slash',
      schema: {
        tags: ['chats'],
        summary: 'List chats, most recent first',
        description: 'An admin sees every chat of its tenant; an employee only the chats assigned to it.',
        response: { 200: ChatList, ...errorResponses(503) },
      },
    },
    async (request, reply) => {
      const { tenantId, userId, role } = principalOf(request);
      const chats = role === 'admin' ? await store.chats.listAll(tenantId) : await store.chats.listForUser(tenantId, userId);
      // A list from the chat-list cache is frozen and shared until it changes: serialize it once.
      if (!Object.isFrozen(chats)) return chats;
      let body = serializedLists.get(chats);
      if (body === undefined) {
        const out = reply.serialize(chats); // the route's own response serializer
        body = typeof out === 'string' ? out : Buffer.from(out as Uint8Array).toString('utf8');
        serializedLists.set(chats, body);
      }
      const json = body;
      return reply.serializer(() => json).send(chats);
    },
  );

  app.get(
    '/:chatId/messages',
    {
      schema: {
        tags: ['chats'],
        summary: 'Page through a chat\'s messages, newest first',
        params: ChatParams,
        querystring: MessagePageQuery,
        response: { 200: MessagePage, ...errorResponses(400, 403, 404, 503) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { chatId } = request.params;
      const { before, limit } = request.query;
      // The access facts and the page in one transaction (one round trip for both reads, where a check
      // then a read took two transactions); the page is dropped unless the rule allows it.
      const { access, page } = await store.messages.pageWithAccess(principal.tenantId, chatId, accessUser(principal), before === undefined ? { limit } : { before, limit });
      enforceChatAccess(principal, access);
      return page;
    },
  );
};
