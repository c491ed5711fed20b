import type { FastifyRequest } from 'fastify';
import { isAppError, ValidationError } from '../../../domain/errors.js';
import type { OutgoingMessage } from '../../../supervisor/sessions/session-service.js';

const MIME = /^[\w.+-]+\/[\w.+-]+$/;
const MAX_CAPTION = 65_536;

/**
 * Reads a multipart send: exactly one `file` part and an optional `body` caption. Size limits are
 * enforced by @fastify/multipart while streaming (413 before the whole file is buffered).
 */
export async function readUpload(request: FastifyRequest): Promise<OutgoingMessage> {
  try {
    return await readParts(request);
  } catch (err) {
    // busboy reports a truncated or malformed body ("Unexpected end of multipart data") as a plain
    // Error without a status: the client's mistake, not a server fault.
    if (err instanceof Error && !isAppError(err) && (err as Error & { statusCode?: unknown }).statusCode === undefined) {
      throw new ValidationError(`The multipart body is malformed: ${err.message}`);
    }
    throw err;
  }
}

async function readParts(request: FastifyRequest): Promise<OutgoingMessage> {
  let caption = '';
  let media: OutgoingMessage['media'];
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (part.fieldname !== 'file') throw new ValidationError(`unexpected file part "${part.fieldname}": send the file as "file"`);
      if (media !== undefined) throw new ValidationError('send one file per message');
      const data = await part.toBuffer();
      if (data.byteLength === 0) throw new ValidationError('the uploaded file is empty');
      const mimetype = MIME.test(part.mimetype) ? part.mimetype : 'application/octet-stream';
      media = { mimetype, filename: part.filename || 'file', data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
    } else if (part.fieldname === 'body') {
      if (typeof part.value !== 'string') throw new ValidationError('body must be text');
      // The JSON form's limit (and WhatsApp's): the multipart form is not checked by the route schema.
      if (part.value.length > MAX_CAPTION) throw new ValidationError(`body (the caption) is longer than ${MAX_CAPTION} characters`);
      caption = part.value;
    } else {
      throw new ValidationError(`unexpected field "${part.fieldname}": only "file" and "body" are accepted`);
    }
  }
  if (media === undefined) throw new ValidationError('a multipart send needs a "file" part');
  return { body: caption, media };
}

/** A JSON send, with optional base64 media. */
export function fromJson(body: { body: string; media?: { mimetype: string; filename: string; dataBase64: string } | undefined }, maxBytes: number): OutgoingMessage {
  if (body.media === undefined) return { body: body.body };
  const data = Buffer.from(body.media.dataBase64, 'base64');
  if (data.byteLength === 0) throw new ValidationError('media.dataBase64 holds no bytes');
  if (data.byteLength > maxBytes) throw new ValidationError(`media is larger than ${maxBytes} bytes`);
  return {
    body: body.body,
    media: { mimetype: body.media.mimetype, filename: body.media.filename, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) },
  };
}
