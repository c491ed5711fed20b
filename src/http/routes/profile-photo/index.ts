import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { NotFoundError } from '../../../domain/errors.js';
import { ChatId } from '../../../domain/types.js';
import type { Store } from '../../../store/types.js';
import type { SessionService } from '../../../supervisor/sessions/session-service.js';
import { principalOf, protect, requireChatAccess, type Guard } from '../../auth/guard.js';
import { errorResponses } from '../../errors.js';

export interface ProfilePhotoRoutesOptions {
  store: Store;
  sessions: SessionService;
  guard: Guard;
}

/** GET /api/media/profile-photo/:chatId: a contact's photo through the live session, cached by the node. */
export const profilePhotoRoutes: FastifyPluginAsyncTypebox<ProfilePhotoRoutesOptions> = async (app, { store, sessions, guard }) => {
  protect(app, guard, 'user');

  app.get(
    '/:chatId',
    {
      schema: {
        tags: ['media'],
        summary: 'A contact\'s profile photo',
        description: 'Image bytes; 404 when the contact has none. Needs a connected session (409 otherwise).',
        params: Type.Object({ chatId: ChatId }),
        response: {
          200: Type.Unsafe<Uint8Array>({ type: 'string', format: 'binary', description: 'The image.' }),
          ...errorResponses(403, 404, 409, 503, 504),
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { chatId } = request.params;
      await requireChatAccess(store, principal, chatId);
      const photo = await sessions.profilePhoto(principal.tenantId, chatId);
      if (photo === null) throw new NotFoundError('Profile photo');
      return reply
        .type(photo.mimetype)
        .header('cache-control', 'private, max-age=600')
        .header('x-content-type-options', 'nosniff')
        .send(Buffer.from(photo.data.buffer, photo.data.byteOffset, photo.data.byteLength));
    },
  );
};
