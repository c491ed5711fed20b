import type { Api } from '../lib/api.js';
import { navigate } from '../lib/router.js';
import type { Chat, SessionStatus } from '../lib/schemas.js';
import { Avatar, formatTime } from './ui.js';

export interface ChatListProps {
  api: Api;
  /** null while loading. */
  chats: Chat[] | null;
  error: string | null;
  openChatId: string | null;
  isAdmin: boolean;
  status: SessionStatus | null;
}

/** The chats, most recent first, each a link (keyboard and middle-click work), with unread counts. */
export function ChatList({ api, chats, error, openChatId, isAdmin, status }: ChatListProps) {
  return (
    <section class="pane chat-list" aria-labelledby="chats-title">
      <h1 id="chats-title" class="pane-title">
        Chats
      </h1>
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {chats === null && error === null && <p class="muted pad">Loading chats…</p>}
      {chats !== null && chats.length === 0 && <EmptyHint isAdmin={isAdmin} status={status} />}
      {chats !== null && chats.length > 0 && (
        <ul class="chats" data-testid="chat-list">
          {chats.map((chat) => (
            <li key={chat.id}>
              <a
                href={`/chats/${encodeURIComponent(chat.id)}`}
                class="chat-item"
                data-chat-id={chat.id}
                aria-current={chat.id === openChatId ? 'page' : undefined}
                onClick={(e) => {
                  e.preventDefault();
                  navigate({ name: 'chats', chatId: chat.id });
                }}
              >
                <Avatar api={api} chatId={chat.id} name={chat.name} />
                <span class="chat-text">
                  <span class="chat-name">{chat.name}</span>
                  <span class="chat-preview">{chat.lastMessagePreview ?? ''}</span>
                </span>
                <span class="chat-meta">
                  <time dateTime={chat.lastMessageAt ?? undefined}>{formatTime(chat.lastMessageAt)}</time>
                  {chat.unreadCount > 0 && (
                    <span class="unread" aria-label={`${chat.unreadCount} unread`}>
                      {chat.unreadCount}
                    </span>
                  )}
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function EmptyHint({ isAdmin, status }: { isAdmin: boolean; status: SessionStatus | null }) {
  if (!isAdmin) return <p class="muted pad">No chats are assigned to you yet. Your admin chooses which chats you see.</p>;
  if (status !== 'connected') {
    return (
      <p class="muted pad">
        No chats yet.{' '}
        <a
          href="/whatsapp"
          onClick={(e) => {
            e.preventDefault();
            navigate({ name: 'whatsapp' });
          }}
        >
          Link your WhatsApp
        </a>{' '}
        to see them here.
      </p>
    );
  }
  return <p class="muted pad">No chats yet. They appear here as soon as someone writes to you.</p>;
}
