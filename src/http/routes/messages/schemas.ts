import { Type } from '@sinclair/typebox';
import { ChatId, Message } from '../../../domain/types.js';

export const MessageSchema = Type.Composite([Message], { title: 'Message' });

export const SendParams = Type.Object({ chatId: ChatId });

export const SendJsonBody = Type.Object(
  {
    body: Type.String({ minLength: 1, maxLength: 65_536, description: 'The text (or the caption of `media`).' }),
    media: Type.Optional(
      Type.Object({
        mimetype: Type.String({ minLength: 3, maxLength: 255, pattern: '^[\\w.+-]+/[\\w.+-]+$' }),
        filename: Type.String({ minLength: 1, maxLength: 255 }),
        dataBase64: Type.String({ minLength: 1, contentEncoding: 'base64' }),
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * Documents the multipart form. @fastify/multipart streams the parts to the handler (readUpload checks
 * them), so the validator sees the placeholder `{}` the route sets, never the file.
 */
export const SendMultipartBody = Type.Object(
  {
    file: Type.Optional(Type.Unsafe<unknown>({ type: 'string', format: 'binary', description: 'The file to send (required).' })),
    body: Type.Optional(Type.String({ maxLength: 65_536, description: 'Caption.' })),
  },
  { description: 'A media upload: one `file` part and an optional `body` caption.' },
);

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: 255, description: 'Same key, same result: the message is sent once.' }),
  ),
});
