import { createHash } from 'node:crypto';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ConflictError, ValidationError } from '../../../domain/errors.js';
import type { Message } from '../../../domain/types.js';
import type { Store } from '../../../store/types.js';
import type { OutgoingMessage, SessionService } from '../../../supervisor/sessions/session-service.js';
import { principalOf, protect, requireChatAccess, type Guard } from '../../auth/guard.js';
import { errorResponses } from '../../errors.js';
import { fromJson, readUpload } from './upload.js';
import { IdempotencyHeaders, MessageSchema, SendJsonBody, SendMultipartBody, SendParams } from './schemas.js';

export interface MessageRoutesOptions {
  store: Store;
  sessions: SessionService;
  guard: Guard;
  mediaMaxBytes: number;
}

/** Sending: POST /api/chats/:chatId/messages, JSON or a multipart upload, with an optional Idempotency-Key. */
export const messageRoutes: FastifyPluginAsyncTypebox<MessageRoutesOptions> = async (app, opts) => {
  const { store, sessions, guard } = opts;
  await app.register(multipart, { limits: { fileSize: opts.mediaMaxBytes, files: 1, fields: 4, parts: 5 } });
  protect(app, guard, 'user');

  app.post(
    '/:chatId/messages',
    {
      schema: {
        tags: ['chats'],
        summary: 'Send a message (text, or a file with a caption)',
        description:
          'An admin may write to any chat id; an employee only to chats assigned to it. Needs a ' +
          'connected session (409 otherwise); 504 when the session does not answer in time.',
        params: SendParams,
        headers: IdempotencyHeaders,
        body: {
          content: {
            'application/json': { schema: SendJsonBody },
            'multipart/form-data': { schema: SendMultipartBody },
          },
        },
        response: { 201: MessageSchema, ...errorResponses(400, 403, 404, 409, 413, 503, 504) },
      },
      // The parts are still unread here: validation gets a placeholder, readUpload checks the real parts.
      preValidation: async (request) => {
        if (request.isMultipart()) request.body = {};
        // A request without any body matches neither content type, so no schema ran: refuse it here.
        else if (request.body === undefined || request.body === null) {
          throw new ValidationError('Send a JSON body {"body": "..."} or a multipart upload with a "file" part');
        }
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { chatId } = request.params;
      if (principal.role !== 'admin') await requireChatAccess(store, principal, chatId);
      const content: OutgoingMessage = request.isMultipart()
        ? await readUpload(request)
        : fromJson(request.body as { body: string }, opts.mediaMaxBytes);
      const key = request.headers['idempotency-key'];
      const send = (): Promise<Message> => sessions.send(principal.tenantId, chatId, content);
      const message = key === undefined ? await send() : await once(store, principal.tenantId, key, requestHash(chatId, content), send);
      return reply.code(201).send(message);
    },
  );
};

function requestHash(chatId: string, content: OutgoingMessage): string {
  const h = createHash('sha256').update(chatId).update('\u0000').update(content.body).update('\u0000');
  if (content.media !== undefined) h.update(content.media.mimetype).update(content.media.filename).update(content.media.data);
  return h.digest('hex');
}

/** Runs `send` once per idempotency key; a repeat gets the first result. */
async function once(store: Store, tenantId: string, key: string, hash: string, send: () => Promise<Message>): Promise<Message> {
  const claim = await store.idempotency.begin(tenantId, key, hash);
  switch (claim.state) {
    case 'done':
      return claim.response as Message;
    case 'pending':
      throw new ConflictError('A request with this Idempotency-Key is still running; retry shortly');
    case 'mismatch':
      throw new ConflictError('This Idempotency-Key was used for a different request');
    case 'new':
      break;
  }
  try {
    const message = await send();
    await store.idempotency.complete(tenantId, key, message);
    return message;
  } catch (err) {
    await store.idempotency.release(tenantId, key);
    throw err;
  }
}
