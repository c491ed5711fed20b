import { AppError, ErrorCodes, ValidationError } from '../../domain/errors.js';
import type { MediaFile, OutgoingContent, ProfilePhoto, SentMessage } from './engine.js';
import type { WwebjsClient, WwebjsLibrary } from './wwebjs-library.js';
import { isSupportedChatId, toMessage } from './wwebjs-mapping.js';
import { withTimeout } from './wwebjs-util.js';

/**
 * The engine's commands on a connected whatsapp-web.js client, translated both ways. Failures of the
 * page become `WA_ENGINE`, a chat WhatsApp does not know `WA_NOT_FOUND`, bad input `WA_VALIDATION`.
 */

export interface CommandContext {
  client: WwebjsClient;
  library: WwebjsLibrary;
  timeoutMs: number;
  fetch: typeof fetch;
}

/** Profile photos are small thumbnails; anything bigger is not what we asked for. */
const MAX_PHOTO_BYTES = 5 * 1024 * 1024;

function engineError(what: string, err: unknown): AppError {
  const text = err instanceof Error ? err.message : String(err);
  return new AppError(ErrorCodes.ENGINE, `WhatsApp Web failed to ${what}: ${text.split('\n')[0] ?? ''}`.slice(0, 300), { cause: err });
}

function call<T>(ctx: CommandContext, what: string, run: () => Promise<T>): Promise<T> {
  return withTimeout(run(), ctx.timeoutMs, () => new AppError(ErrorCodes.ENGINE, `WhatsApp Web did not ${what} within ${ctx.timeoutMs} ms`)).catch(
    (err: unknown) => {
      throw err instanceof AppError ? err : engineError(what, err);
    },
  );
}

export async function sendMessage(ctx: CommandContext, chatId: string, content: OutgoingContent): Promise<SentMessage> {
  if (!isSupportedChatId(chatId)) throw new ValidationError(`Cannot send to "${chatId}": expected <number>@c.us or <group>@g.us`);
  if (content.media === undefined && content.body.trim() === '') throw new ValidationError('A message needs a text or a media file');
  const media = content.media;
  // waitUntilMsgSent: resolve once WhatsApp accepted the message (ack 1), not when it was queued locally.
  const sent = await call(ctx, 'send the message', () =>
    media === undefined
      ? ctx.client.sendMessage(chatId, content.body, { waitUntilMsgSent: true })
      : ctx.client.sendMessage(chatId, ctx.library.createMedia(media.mimetype, Buffer.from(media.data).toString('base64'), media.filename), {
          caption: content.body === '' ? undefined : content.body,
          waitUntilMsgSent: true,
        }),
  );
  // whatsapp-web.js returns null/undefined when it found no such chat.
  if (sent === null || sent === undefined) throw new AppError(ErrorCodes.NOT_FOUND, `Chat ${chatId} not found on WhatsApp`);
  if (sent.ack === -1) throw new AppError(ErrorCodes.ENGINE, 'WhatsApp refused the message (ack error)');
  const message = toMessage(sent, { chatId, from: sent.from });
  if (message.ack < 1) message.ack = 1;
  return { id: message.id, timestamp: message.timestamp, message };
}

export async function downloadMedia(ctx: CommandContext, messageId: string): Promise<MediaFile | null> {
  let msg;
  try {
    msg = await withTimeout(ctx.client.getMessageById(messageId), ctx.timeoutMs, () => new Error('timeout'));
  } catch (err) {
    // whatsapp-web.js throws for ids it cannot parse: such a message does not exist.
    if (err instanceof Error && /Invalid serialized message id/.test(err.message)) return null;
    throw engineError('find the message', err);
  }
  if (msg === null || msg === undefined || !msg.hasMedia) return null;
  const found = msg;
  const media = await call(ctx, 'download the media', () => found.downloadMedia());
  if (media === null || media === undefined) return null;
  const data = Buffer.from(media.data, 'base64');
  return { mimetype: media.mimetype, filename: media.filename ?? null, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export async function getProfilePhoto(ctx: CommandContext, chatId: string): Promise<ProfilePhoto | null> {
  if (!isSupportedChatId(chatId)) return null;
  const url = await call(ctx, 'look up the profile photo', () => ctx.client.getProfilePicUrl(chatId));
  if (typeof url !== 'string' || url === '') return null;
  let res: Response;
  try {
    res = await ctx.fetch(url, { signal: AbortSignal.timeout(ctx.timeoutMs) });
  } catch (err) {
    throw engineError('fetch the profile photo', err);
  }
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (!res.ok || declared > MAX_PHOTO_BYTES) {
    await res.body?.cancel();
    return null;
  }
  const data = new Uint8Array(await res.arrayBuffer());
  if (data.byteLength > MAX_PHOTO_BYTES) return null;
  return { mimetype: res.headers.get('content-type')?.split(';')[0]?.trim() || 'image/jpeg', data };
}

const PHONE = /^[1-9][0-9]{5,14}$/;

/**
 * whatsapp-web.js would generate a fresh code every `intervalMs` and only report it as a `code` event;
 * our Engine returns the code from the call instead, so rotation is pushed out of reach (2^31-1 ms, the
 * largest timer) and a caller asks again when the user needs a new code.
 */
const NO_ROTATION_MS = 2 ** 31 - 1;

export async function requestPairingCode(ctx: CommandContext, phoneNumber: string): Promise<string> {
  if (!PHONE.test(phoneNumber)) throw new ValidationError('phoneNumber must be digits only, with the country code (e.g. 491701234567)');
  const code = await call(ctx, 'request a pairing code', () => ctx.client.requestPairingCode(phoneNumber, true, NO_ROTATION_MS));
  if (typeof code !== 'string' || code === '') throw new AppError(ErrorCodes.ENGINE, 'WhatsApp Web returned no pairing code');
  return code;
}
