import type WAWebJS from 'whatsapp-web.js';
import type { LeveledLog } from '../../domain/log.js';
import type { Chat, Message } from '../../domain/types.js';
import type { WwebjsClient } from './wwebjs-library.js';
import { isSupportedChatId, rawChatIdOf, rawSenderOf, toChat, toMessage } from './wwebjs-mapping.js';

/**
 * Chat ids as we store them. WhatsApp now names many contacts by a LID (`<digits>@lid`) instead of
 * their number; whatsapp-web.js can map a LID to the phone id (`getContactLidAndPhone`). Results are
 * cached for the life of one client.
 */
export class ChatIdResolver {
  readonly #cache = new Map<string, string | null>();

  constructor(private readonly client: Pick<WwebjsClient, 'getContactLidAndPhone'>) {}

  /** The `@c.us`/`@g.us` id for `raw`, or null when it is not a person or group we can name. */
  async resolve(raw: string): Promise<string | null> {
    if (isSupportedChatId(raw)) return raw;
    if (!raw.endsWith('@lid')) return null;
    const cached = this.#cache.get(raw);
    if (cached !== undefined) return cached;
    let resolved: string | null;
    try {
      const [pair] = await this.client.getContactLidAndPhone([raw]);
      resolved = pair !== undefined && isSupportedChatId(pair.pn) ? pair.pn : null;
    } catch {
      resolved = null; // unknown LID: the message is skipped, like any chat we cannot name
    }
    this.#cache.set(raw, resolved);
    return resolved;
  }

  /** A message in our terms, or null when its chat cannot be named. */
  async message(msg: WAWebJS.Message): Promise<Message | null> {
    const chatId = await this.resolve(rawChatIdOf(msg));
    if (chatId === null) return null;
    const rawFrom = rawSenderOf(msg, msg.from);
    const from = (await this.resolve(rawFrom)) ?? rawFrom;
    return toMessage(msg, { chatId, from });
  }
}

export interface BackfillLimits {
  /** Most recent chats taken (default 50). */
  chats: number;
  /** Latest messages per chat (default 20). */
  messagesPerChat: number;
  /** Chats per `chats` event, so no single event carries the whole history (default 10). */
  batchSize: number;
}

export const DEFAULT_BACKFILL: BackfillLimits = { chats: 50, messagesPerChat: 20, batchSize: 10 };

/**
 * The history sync after `ready`: the most recent chats and each one's latest messages, emitted in
 * batches (oldest message first within a batch). Consumers are idempotent by id, so running it again
 * after a reconnect only fills gaps. A chat whose messages cannot be fetched is sent without them.
 */
export async function backfillHistory(
  client: Pick<WwebjsClient, 'getChats'>,
  ids: ChatIdResolver,
  limits: BackfillLimits,
  emit: (chats: Chat[], messages: Message[]) => Promise<void>,
  log: LeveledLog,
): Promise<{ chats: number; messages: number }> {
  const all = await client.getChats();
  const recent = [...all].sort((a, b) => (b.timestamp || 0) - (a.timestamp || 0));
  let chatCount = 0;
  let messageCount = 0;
  let batch: { chats: Chat[]; messages: Message[] } = { chats: [], messages: [] };
  for (const chat of recent) {
    if (chatCount >= limits.chats) break;
    const id = await ids.resolve(chat.id._serialized);
    if (id === null) continue;
    chatCount += 1;
    batch.chats.push(toChat(chat, id));
    let fetched: WAWebJS.Message[] = [];
    try {
      fetched = await chat.fetchMessages({ limit: limits.messagesPerChat });
    } catch (err) {
      log.warn({ err }, 'history backfill could not fetch the messages of a chat');
    }
    for (const msg of fetched) {
      const message = await ids.message(msg);
      if (message !== null) batch.messages.push(message);
    }
    if (batch.chats.length >= limits.batchSize) {
      messageCount += await flush(batch, emit);
      batch = { chats: [], messages: [] };
    }
  }
  if (batch.chats.length > 0) messageCount += await flush(batch, emit);
  return { chats: chatCount, messages: messageCount };
}

async function flush(batch: { chats: Chat[]; messages: Message[] }, emit: (chats: Chat[], messages: Message[]) => Promise<void>): Promise<number> {
  const messages = [...batch.messages].sort((a, b) => a.timestamp.localeCompare(b.timestamp));
  await emit(batch.chats, messages);
  return messages.length;
}
