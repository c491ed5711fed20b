import { describe, expect, it } from 'vitest';
import type { Chat, Message } from '../../../src/domain/types.js';
import { parseRoute, routePath, type Route } from '../../../web/src/lib/routes.js';
import { ackLabel, applyAck, applyIncoming, laterAck, markRead, mergeMessages, previewOf, sortChats, upsertChat } from '../../../web/src/lib/state.js';

/** The console's pure state rules: what live events do to the chat list and an open conversation. */

const chat = (id: string, at: string | null, extra: Partial<Chat> = {}): Chat => ({
  id,
  name: `Chat ${id}`,
  isGroup: false,
  unreadCount: 0,
  lastMessageAt: at,
  lastMessagePreview: null,
  ...extra,
});

const message = (id: string, chatId: string, at: string, extra: Partial<Message> = {}): Message => ({
  id,
  chatId,
  from: chatId,
  fromMe: false,
  body: `body ${id}`,
  timestamp: at,
  type: 'chat',
  hasMedia: false,
  ack: 1,
  ...extra,
});

describe('the chat list', () => {
  it('orders chats by their last message, newest first, chats without messages last by name', () => {
    const sorted = sortChats([chat('b@c.us', null), chat('old@c.us', '2025-01-01T00:00:00Z'), chat('a@c.us', null), chat('new@c.us', '2025-02-01T00:00:00Z')]);
    expect(sorted.map((c) => c.id)).toEqual(['new@c.us', 'old@c.us', 'a@c.us', 'b@c.us']);
  });

  it('replaces a chat with the server\'s copy and re-sorts', () => {
    const list = [chat('a@c.us', '2025-01-02T00:00:00Z'), chat('b@c.us', '2025-01-01T00:00:00Z')];
    const next = upsertChat(list, chat('b@c.us', '2025-01-03T00:00:00Z', { unreadCount: 7 }));
    expect(next.map((c) => [c.id, c.unreadCount])).toEqual([['b@c.us', 7], ['a@c.us', 0]]);
  });

  it('moves a chat with a new inbound message to the top, previews it and counts it unread', () => {
    const list = [chat('a@c.us', '2025-01-02T00:00:00Z'), chat('b@c.us', '2025-01-01T00:00:00Z', { unreadCount: 1 })];
    const { chats, known } = applyIncoming(list, message('m1', 'b@c.us', '2025-01-05T00:00:00Z', { body: 'hi' }), null);
    expect(known).toBe(true);
    expect(chats[0]).toMatchObject({ id: 'b@c.us', unreadCount: 2, lastMessagePreview: 'hi', lastMessageAt: '2025-01-05T00:00:00Z' });
  });

  it('does not count our own messages, nor those of the open chat, as unread', () => {
    const list = [chat('a@c.us', '2025-01-01T00:00:00Z')];
    expect(applyIncoming(list, message('m1', 'a@c.us', '2025-01-02T00:00:00Z', { fromMe: true }), null).chats[0]?.unreadCount).toBe(0);
    expect(applyIncoming(list, message('m2', 'a@c.us', '2025-01-02T00:00:00Z'), 'a@c.us').chats[0]?.unreadCount).toBe(0);
  });

  it('does not count a message twice when the server\'s chat update came first', () => {
    const updated = [chat('a@c.us', '2025-01-02T00:00:00Z', { unreadCount: 3 })];
    const { chats } = applyIncoming(updated, message('m1', 'a@c.us', '2025-01-02T00:00:00Z'), null);
    expect(chats[0]?.unreadCount).toBe(3);
  });

  it('reports a message of a chat it does not know, so the list is reloaded', () => {
    const { chats, known } = applyIncoming([chat('a@c.us', null)], message('m1', 'new@c.us', '2025-01-02T00:00:00Z'), null);
    expect(known).toBe(false);
    expect(chats.map((c) => c.id)).toEqual(['a@c.us']);
  });

  it('clears the unread count of the chat that is opened only', () => {
    const list = [chat('a@c.us', null, { unreadCount: 2 }), chat('b@c.us', null, { unreadCount: 5 })];
    expect(markRead(list, 'a@c.us').map((c) => c.unreadCount)).toEqual([0, 5]);
  });

  it('previews media without a caption by its type', () => {
    expect(previewOf({ body: '', type: 'image', hasMedia: true })).toBe('[image]');
    expect(previewOf({ body: 'caption', type: 'image', hasMedia: true })).toBe('caption');
  });
});

describe('a conversation', () => {
  it('keeps each message once, oldest first, whatever order pages and live events come in', () => {
    const newest = message('m3', 'a@c.us', '2025-01-03T00:00:00Z');
    const page = [newest, message('m2', 'a@c.us', '2025-01-02T00:00:00Z')];
    const older = [message('m1', 'a@c.us', '2025-01-01T00:00:00Z')];
    const merged = mergeMessages(mergeMessages(mergeMessages([], page), older), [newest]);
    expect(merged.map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
  });

  it('never moves an ack backwards, whether it comes as an event or in a later copy of the message', () => {
    const read = [message('m1', 'a@c.us', '2025-01-01T00:00:00Z', { fromMe: true, ack: 3 })];
    expect(applyAck(read, 'm1', 2)[0]?.ack).toBe(3);
    expect(mergeMessages(read, [message('m1', 'a@c.us', '2025-01-01T00:00:00Z', { fromMe: true, ack: 1 })])[0]?.ack).toBe(3);
    expect(applyAck(read, 'm1', 4)[0]?.ack).toBe(4);
  });

  it('marks only a pending message as failed', () => {
    expect(laterAck(0, -1)).toBe(-1);
    expect(laterAck(2, -1)).toBe(2);
    expect(laterAck(-1, 1)).toBe(1);
  });

  it('names every ack for screen readers', () => {
    expect([-1, 0, 1, 2, 3, 4].map((a) => ackLabel(a as Message['ack']).label)).toEqual(['not sent', 'pending', 'sent', 'delivered', 'read', 'played']);
  });
});

describe('console routes', () => {
  it('round-trip through their paths, chat ids included', () => {
    const routes: Route[] = [
      { name: 'chats', chatId: null },
      { name: 'chats', chatId: '4915550101@c.us' },
      { name: 'chats', chatId: '120363@g.us' },
      { name: 'whatsapp' },
      { name: 'employees' },
      { name: 'signin' },
      { name: 'signup' },
    ];
    for (const route of routes) expect(parseRoute(routePath(route))).toEqual(route);
  });

  it('sends unknown paths to the chat list', () => {
    expect(parseRoute('/')).toEqual({ name: 'chats', chatId: null });
    expect(parseRoute('/nope/x')).toEqual({ name: 'chats', chatId: null });
  });
});
