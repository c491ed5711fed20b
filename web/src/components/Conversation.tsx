import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Api } from '../lib/api.js';
import type { Bus } from '../lib/bus.js';
import type { LiveEvent } from '../lib/realtime.js';
import { navigate } from '../lib/router.js';
import { MessagePage, type Chat, type Message } from '../lib/schemas.js';
import { applyAck, mergeMessages } from '../lib/state.js';
import { ChatAccess } from './ChatAccess.js';
import { Composer } from './Composer.js';
import { MessageItem } from './MessageItem.js';
import { Avatar, messageOf } from './ui.js';

/** Messages per page: enough to fill a tall screen, small enough to answer fast. */
const PAGE_SIZE = 30;
/** Within this many pixels of the bottom, a new message keeps the view pinned to the bottom. */
const STICK_PX = 120;

export interface ConversationProps {
  api: Api;
  bus: Bus<LiveEvent>;
  chatId: string;
  /** null while the list is loading, or for a chat not (yet) in it. */
  chat: Chat | null;
  isAdmin: boolean;
  /** The server refused this chat (403/404): the console drops it. */
  onForbidden: () => void;
}

/**
 * One chat: its history newest at the bottom, older pages loaded when the top comes into view (or by the
 * button, for keyboards), live messages and acks, and the composer.
 */
export function Conversation({ api, bus, chatId, chat, isAdmin, onForbidden }: ConversationProps) {
  const [messages, setMessages] = useState<Message[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [showAccess, setShowAccess] = useState(false);
  /** What the screen reader says: live incoming messages only, not the history. */
  const [announcement, setAnnouncement] = useState('');
  const scroller = useRef<HTMLOListElement>(null);
  const sentinel = useRef<HTMLLIElement>(null);
  const topVisible = useRef(false);
  /** What the next layout pass must do with the scroll position. */
  const scrollPlan = useRef<{ kind: 'bottom' } | { kind: 'keep'; height: number; top: number } | null>(null);

  const fetchPage = useCallback(
    async (before: string | null) => {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (before !== null) query.set('before', before);
      try {
        return await api.json(`/api/chats/${encodeURIComponent(chatId)}/messages?${query.toString()}`, MessagePage);
      } catch (err) {
        if (err instanceof ApiError && (err.status === 403 || err.status === 404)) onForbidden();
        else setError(messageOf(err));
        return null;
      }
    },
    [api, chatId, onForbidden],
  );

  useEffect(() => {
    void fetchPage(null).then((page) => {
      if (page === null) return;
      scrollPlan.current = { kind: 'bottom' };
      setMessages((current) => mergeMessages(current, page.messages));
      setCursor(page.nextCursor);
      setLoaded(true);
    });
  }, [fetchPage]);

  const loadOlder = useCallback(async () => {
    if (cursor === null || loadingOlder) return;
    setLoadingOlder(true);
    const page = await fetchPage(cursor);
    const el = scroller.current;
    if (page !== null) {
      if (el !== null) scrollPlan.current = { kind: 'keep', height: el.scrollHeight, top: el.scrollTop };
      setMessages((current) => mergeMessages(current, page.messages));
      setCursor(page.nextCursor);
    }
    setLoadingOlder(false);
  }, [cursor, loadingOlder, fetchPage]);

  // Infinite scroll: the sentinel above the first message triggers the next page while it is visible.
  useEffect(() => {
    const el = sentinel.current;
    if (el === null || !loaded) return undefined;
    const observer = new IntersectionObserver(
      (entries) => {
        topVisible.current = entries.some((e) => e.isIntersecting);
        if (topVisible.current) void loadOlder();
      },
      { root: scroller.current, rootMargin: '200px 0px 0px 0px' },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [loaded, loadOlder]);

  // A page that did not fill the screen leaves the sentinel visible, which fires no new intersection.
  useEffect(() => {
    if (loaded && topVisible.current && cursor !== null && !loadingOlder) void loadOlder();
  }, [loaded, cursor, loadingOlder, loadOlder]);

  useLayoutEffect(() => {
    const el = scroller.current;
    const plan = scrollPlan.current;
    scrollPlan.current = null;
    if (el === null || plan === null) return;
    el.scrollTop = plan.kind === 'bottom' ? el.scrollHeight : el.scrollHeight - plan.height + plan.top;
  }, [messages]);

  useEffect(
    () =>
      bus.subscribe((event) => {
        if (event.type === 'message' && event.message.chatId === chatId) {
          const el = scroller.current;
          if (el !== null && el.scrollHeight - el.scrollTop - el.clientHeight < STICK_PX) scrollPlan.current = { kind: 'bottom' };
          setMessages((current) => mergeMessages(current, [event.message]));
          if (!event.message.fromMe) setAnnouncement(`New message: ${event.message.body}`);
        } else if (event.type === 'message_ack' && event.ack.chatId === chatId) {
          setMessages((current) => applyAck(current, event.ack.id, event.ack.ack));
        }
      }),
    [bus, chatId],
  );

  const onSent = useCallback((message: Message) => {
    scrollPlan.current = { kind: 'bottom' };
    setMessages((current) => mergeMessages(current, [message]));
  }, []);

  const name = chat?.name ?? chatId;
  return (
    <section class="pane conversation" aria-labelledby="conv-title" data-testid="conversation">
      <header class="conv-header">
        <a
          href="/chats"
          class="back"
          aria-label="Back to chats"
          onClick={(e) => {
            e.preventDefault();
            navigate({ name: 'chats', chatId: null });
          }}
        >
          ←
        </a>
        <Avatar api={api} chatId={chatId} name={name} />
        <h2 id="conv-title">{name}</h2>
        {isAdmin && (
          <button type="button" aria-expanded={showAccess} aria-controls="chat-access" onClick={() => setShowAccess((v) => !v)}>
            Access
          </button>
        )}
      </header>
      {isAdmin && showAccess && <ChatAccess api={api} chatId={chatId} />}
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <ol class="messages" ref={scroller} aria-label={`Messages with ${name}`} tabIndex={0}>
        <li ref={sentinel} class="older">
          {cursor !== null && (
            <button type="button" class="link" disabled={loadingOlder} onClick={() => void loadOlder()}>
              {loadingOlder ? 'Loading older messages…' : 'Load older messages'}
            </button>
          )}
          {loaded && cursor === null && messages.length > 0 && <span class="muted small">Start of the conversation</span>}
          {!loaded && error === null && <span class="muted small">Loading…</span>}
        </li>
        {messages.map((m) => (
          <MessageItem key={m.id} api={api} message={m} />
        ))}
      </ol>
      <div class="sr-only" aria-live="polite">
        {announcement}
      </div>
      <Composer api={api} chatId={chatId} onSent={onSent} />
    </section>
  );
}
