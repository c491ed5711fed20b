import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NotFoundError } from '../../../domain/errors.js';
import type { Store } from '../../../store/types.js';
import { principalOf, protect, requireChatAccess, type Guard } from '../../auth/guard.js';
import { errorResponses } from '../../errors.js';
import { contentDisposition, safeContentType } from './headers.js';
import { MediaBytes, MediaParams } from './schemas.js';

export interface MediaRoutesOptions {
  store: Store;
  guard: Guard;
  /** When given, media the store does not hold yet (too large at arrival) is fetched through the session. */
  fetchMedia?: (tenantId: string, messageId: string) => Promise<{ mimetype: string; filename: string | null; data: Uint8Array } | null>;
}

/** Stored media bytes under /api/media, behind the same chat rule as the messages they belong to. */
export const mediaRoutes: FastifyPluginAsyncTypebox<MediaRoutesOptions> = async (app, { store, guard, fetchMedia }) => {
  protect(app, guard, 'user');

  app.get(
    '/:messageId',
    {
      schema: {
        tags: ['media'],
        summary: 'Download the media file of a message',
        params: MediaParams,
        response: { 200: MediaBytes, ...errorResponses(400, 403, 404, 409, 503, 504) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { messageId } = request.params;
      const message = await store.messages.find(principal.tenantId, messageId);
      if (message === null) throw new NotFoundError('Media');
      await requireChatAccess(store, principal, message.chatId);
      const media =
        (await store.media.get(principal.tenantId, messageId)) ??
        (message.hasMedia && fetchMedia !== undefined ? await fetchMedia(principal.tenantId, messageId) : null);
      if (media === null) throw new NotFoundError('Media');
      return reply
        .header('content-type', safeContentType(media.mimetype))
        .header('content-disposition', contentDisposition(media.filename))
        .header('x-content-type-options', 'nosniff')
        // Even if a browser rendered it, an HTML or SVG file could run nothing and reach nothing.
        .header('content-security-policy', "default-src 'none'; sandbox")
        .header('cache-control', 'private, no-store')
        .send(Buffer.from(media.data.buffer, media.data.byteOffset, media.data.byteLength));
    },
  );
};
