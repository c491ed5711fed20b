import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Api } from '../lib/api.js';
import { createBus } from '../lib/bus.js';
import { connectLive, type ConnectionState, type LiveEvent } from '../lib/realtime.js';
import { navigate, type Route } from '../lib/router.js';
import { ChatList as ChatListSchema, type Chat, type Session } from '../lib/schemas.js';
import { applyIncoming, markRead, removeChat, sortChats, upsertChat } from '../lib/state.js';
import { ChatList } from './ChatList.js';
import { Conversation } from './Conversation.js';
import { Employees } from './Employees.js';
import { messageOf } from './ui.js';
import { useWhatsapp, WhatsAppPanel } from './WhatsAppPanel.js';

type User = Session['user'];

const CONNECTION_TEXT: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  offline: 'Offline',
  signed_out: 'Signed out',
};

/** The signed-in console: header and navigation, the live channel, the chat list and the open screen. */
export function Console({ api, user, route }: { api: Api; user: User; route: Route }) {
  const bus = useMemo(() => createBus<LiveEvent>(), []);
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [chats, setChats] = useState<Chat[] | null>(null);
  const [chatsError, setChatsError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const isAdmin = user.role === 'admin';
  const openChatId = route.name === 'chats' ? route.chatId : null;
  const openRef = useRef(openChatId);
  openRef.current = openChatId;
  const whatsapp = useWhatsapp(api, bus, isAdmin);

  const loadChats = useCallback(async () => {
    try {
      setChats(sortChats(await api.json('/api/chats', ChatListSchema)));
      setChatsError(null);
    } catch (err) {
      setChatsError(messageOf(err));
    }
  }, [api]);

  /** The chat disappears at once; if it was open, the screen says why. */
  const loseChat = useCallback((chatId: string) => {
    setChats((list) => (list === null ? list : removeChat(list, chatId)));
    if (openRef.current === chatId) {
      setNotice('This chat is not available to you.');
      navigate({ name: 'chats', chatId: null }, { replace: true });
    }
  }, []);

  useEffect(() => {
    void loadChats();
    const live = connectLive(api, (event) => bus.emit(event));
    return () => live.close();
  }, [api, bus, loadChats]);

  useEffect(
    () =>
      bus.subscribe((event) => {
        switch (event.type) {
          case 'connection':
            setConnection(event.state);
            if (event.state === 'signed_out') api.setSession(null);
            return;
          case 'ready':
            // Every (re)connection: catch up on what happened while the socket was away.
            if (event.info.chatIds !== undefined) {
              const allowed = new Set(event.info.chatIds);
              if (openRef.current !== null && !allowed.has(openRef.current)) loseChat(openRef.current);
            }
            void loadChats();
            return;
          case 'chat_updated': {
            // The open chat is being read: the server's count (it has no "read" command) is not shown.
            const chat = event.chat.id === openRef.current ? { ...event.chat, unreadCount: 0 } : event.chat;
            setChats((list) => upsertChat(list ?? [], chat));
            return;
          }
          case 'message':
            setChats((list) => {
              const next = applyIncoming(list ?? [], event.message, openRef.current);
              if (!next.known) void loadChats();
              return next.chats;
            });
            return;
          case 'chat_assigned':
            void loadChats();
            return;
          case 'chat_revoked':
            loseChat(event.chatId);
            return;
          default:
            return;
        }
      }),
    [api, bus, loadChats, loseChat],
  );

  useEffect(() => {
    if (openChatId !== null) setChats((list) => (list === null ? list : markRead(list, openChatId)));
  }, [openChatId]);

  const signOut = async (): Promise<void> => {
    const session = api.current();
    if (session !== null) {
      // Best effort: the tokens are dropped here either way.
      await api.empty('/api/auth/logout', { method: 'POST', body: { refreshToken: session.refreshToken }, anonymous: true }).catch(() => undefined);
    }
    api.setSession(null);
  };

  const openChat = chats?.find((c) => c.id === openChatId) ?? null;
  const screen = route.name === 'whatsapp' || route.name === 'employees' ? route.name : 'chats';

  return (
    <div class={`shell ${openChatId !== null && screen === 'chats' ? 'has-open-chat' : ''}`}>
      <header class="topbar">
        <span class="brand">wa-tenants</span>
        <nav aria-label="Main">
          <NavLink to={{ name: 'chats', chatId: null }} current={screen === 'chats'} label="Chats" />
          {isAdmin && <NavLink to={{ name: 'whatsapp' }} current={screen === 'whatsapp'} label="WhatsApp" />}
          {isAdmin && <NavLink to={{ name: 'employees' }} current={screen === 'employees'} label="Employees" />}
        </nav>
        <span class={`conn conn-${connection}`} role="status" aria-live="polite">
          {CONNECTION_TEXT[connection]}
        </span>
        <span class="who" title={user.email}>
          {user.name} <span class="badge">{user.role}</span>
        </span>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      {notice !== null && (
        <div class="notice" role="alert">
          {notice}{' '}
          <button type="button" class="link" onClick={() => setNotice(null)}>
            Dismiss
          </button>
        </div>
      )}
      {screen === 'whatsapp' && <WhatsAppPanel api={api} state={whatsapp} />}
      {screen === 'employees' && <Employees api={api} chats={chats ?? []} />}
      {screen === 'chats' && (
        <div class="panes">
          <ChatList api={api} chats={chats} error={chatsError} openChatId={openChatId} isAdmin={isAdmin} status={whatsapp.status} />
          {openChatId !== null && (
            <Conversation
              key={openChatId}
              api={api}
              bus={bus}
              chatId={openChatId}
              chat={openChat}
              isAdmin={isAdmin}
              onForbidden={() => loseChat(openChatId)}
            />
          )}
          {openChatId === null && (
            <section class="pane empty-pane" aria-label="Conversation">
              <p class="muted">Choose a chat to read and answer it.</p>
            </section>
          )}
        </div>
      )}
    </div>
  );
}

function NavLink({ to, current, label }: { to: Route; current: boolean; label: string }) {
  const href = to.name === 'chats' ? '/chats' : `/${to.name}`;
  return (
    <a
      href={href}
      aria-current={current ? 'page' : undefined}
      onClick={(e) => {
        e.preventDefault();
        navigate(to);
      }}
    >
      {label}
    </a>
  );
}
