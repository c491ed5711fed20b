import type { Chat, Message } from './schemas.js';

/**
 * Pure state rules of the console: how live events change the chat list and an open conversation.
 * Kept apart from the components so they are unit-tested without a browser.
 */

type Ack = Message['ack'];

function time(iso: string | null): number {
  return iso === null ? 0 : Date.parse(iso);
}

/** Most recent first; chats with no message last, by name. */
export function sortChats(chats: readonly Chat[]): Chat[] {
  return [...chats].sort((a, b) => time(b.lastMessageAt) - time(a.lastMessageAt) || a.name.localeCompare(b.name));
}

/** A `chat_updated` from the server replaces what we had: it is the stored truth. */
export function upsertChat(chats: readonly Chat[], chat: Chat): Chat[] {
  return sortChats([...chats.filter((c) => c.id !== chat.id), chat]);
}

export function removeChat(chats: readonly Chat[], chatId: string): Chat[] {
  return chats.filter((c) => c.id !== chatId);
}

/** What the list shows as a chat's last message. */
export function previewOf(message: Pick<Message, 'body' | 'type' | 'hasMedia'>): string {
  if (message.body.trim().length > 0) return message.body;
  return message.hasMedia ? `[${message.type}]` : '';
}

/**
 * A live message moves its chat to the top with the new preview, and counts as unread unless it is ours
 * or its chat is open. A chat that already shows this message or a later one (its `chat_updated` came
 * first) is left as it is, so a message is never counted twice. `known` is false when the chat is not in
 * the list (the caller reloads the list).
 */
export function applyIncoming(
  chats: readonly Chat[],
  message: Message,
  openChatId: string | null,
): { chats: Chat[]; known: boolean } {
  const chat = chats.find((c) => c.id === message.chatId);
  if (chat === undefined) return { chats: [...chats], known: false };
  if (chat.lastMessageAt !== null && time(chat.lastMessageAt) >= time(message.timestamp)) return { chats: [...chats], known: true };
  const unread = message.fromMe || message.chatId === openChatId ? chat.unreadCount : chat.unreadCount + 1;
  const next: Chat = { ...chat, lastMessageAt: message.timestamp, lastMessagePreview: previewOf(message), unreadCount: unread };
  return { chats: upsertChat(chats, next), known: true };
}

/** Opening a chat reads it, as far as this screen is concerned. */
export function markRead(chats: readonly Chat[], chatId: string): Chat[] {
  return chats.map((c) => (c.id === chatId && c.unreadCount > 0 ? { ...c, unreadCount: 0 } : c));
}

/** Oldest first, each id once; a later copy of a message (a new ack) replaces the older one. */
export function mergeMessages(existing: readonly Message[], incoming: readonly Message[]): Message[] {
  const byId = new Map<string, Message>();
  for (const m of existing) byId.set(m.id, m);
  for (const m of incoming) {
    const old = byId.get(m.id);
    byId.set(m.id, old === undefined ? m : { ...m, ack: laterAck(old.ack, m.ack) });
  }
  return [...byId.values()].sort((a, b) => time(a.timestamp) - time(b.timestamp) || a.id.localeCompare(b.id));
}

/**
 * Acks only move forward (sent, delivered, read, played) and may arrive out of order; an error (-1)
 * replaces only a pending (0) one.
 */
export function laterAck(current: Ack, next: Ack): Ack {
  if (next === -1) return current <= 0 ? -1 : current;
  return next > current ? next : current;
}

export function applyAck(messages: readonly Message[], id: string, ack: Ack): Message[] {
  return messages.map((m) => (m.id === id ? { ...m, ack: laterAck(m.ack, ack) } : m));
}

/** Words a screen reader says for an ack, and the mark shown. */
export function ackLabel(ack: Ack): { mark: string; label: string } {
  switch (ack) {
    case -1:
      return { mark: '!', label: 'not sent' };
    case 0:
      return { mark: '🕓', label: 'pending' };
    case 1:
      return { mark: '✓', label: 'sent' };
    case 2:
      return { mark: '✓✓', label: 'delivered' };
    case 3:
      return { mark: '✓✓', label: 'read' };
    case 4:
      return { mark: '✓✓', label: 'played' };
  }
}
