import postgres from 'postgres';
import type { Clock } from '../domain/clock.js';
import type { Logger } from '../domain/log.js';
import { SingleFlight } from '../domain/single-flight.js';
import type { Chat } from '../domain/types.js';

/**
 * Chat lists (`GET /api/chats`) kept in memory on every node, dropped the moment the database says they
 * changed. The migration 005 trigger sends `NOTIFY wa_chat_lists '<schema>/<tenant>'` from every write to
 * `chats` or `chat_permissions`, delivered at commit to every node listening; a node drops that tenant's
 * lists when it hears it. So a revoke, a new message or a renamed chat shows on the very next read, on
 * every node, as it did without the cache, short of the notification's own delivery time.
 *
 * Safe against the races a cache like this has:
 * - a read that began before a change and ends after its notification is not stored (per-tenant and
 *   global generations, compared before storing);
 * - notifications missed while the listening connection is down: the cache serves nothing until it
 *   listens again, and starts empty then;
 * - a listening connection that dies silently (a network partition without a reset: TCP keepalive
 *   takes minutes to notice) or a write path nobody thought of (there is none outside the trigger):
 *   entries also expire after `maxAgeMs` (10 s), which bounds how stale a list can be in those cases;
 * - a stampede on a missing list: concurrent misses share one read, and a list in use is read again in
 *   the background after half its age, so busy readers never all wait for the database at once.
 */
export interface ChatListCache {
  /** The cached list for (tenant, key), or what `load` reads (then kept, if nothing changed meanwhile). */
  get(tenantId: string, key: string, load: () => Promise<Chat[]>): Promise<Chat[]>;
  /**
   * Drops the tenant's lists now. The store calls it after its own writes commit, so this node reads its
   * own writes at once (the notification, a moment later, does it for every node).
   */
  forget(tenantId: string): void;
  /** True while the listening connection is up and the cache may answer. */
  readonly live: boolean;
  readonly size: number;
  close(): Promise<void>;
}

export const CHAT_LISTS_CHANNEL = 'wa_chat_lists';

export interface ChatListCacheOptions {
  /** The database URL (the listener is one connection of its own, outside the pool). */
  url: string;
  /** The schema whose notifications concern this node (the payload names it). */
  schema: string;
  log: Logger;
  clock: Clock;
  /** Lists kept at most; the oldest goes first. */
  maxEntries?: number;
  /** A list older than this is read again (one read in use is refreshed in the background after half of it). */
  maxAgeMs?: number;
  /** Wait before listening again after the connection dropped (doubles up to 5 s). */
  retryMs?: number;
}

interface Entry {
  chats: Chat[];
  at: number;
}

export async function createChatListCache(opts: ChatListCacheOptions): Promise<ChatListCache> {
  const log = opts.log.child({ component: 'chat-list-cache' });
  const maxEntries = opts.maxEntries ?? 10_000;
  const maxAgeMs = opts.maxAgeMs ?? 10_000;
  const refreshAfterMs = maxAgeMs / 2;
  const retryMs = opts.retryMs ?? 250;
  const prefix = `${opts.schema}/`;
  // Per tenant, its lists by key; a tenant is moved to the end when its lists are used (oldest first out).
  const tenants = new Map<string, Map<string, Entry>>();
  let size = 0;
  const tenantGenerations = new Map<string, number>();
  let generation = 0;
  let live = false;
  let closed = false;
  let closing: Promise<void> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelay = retryMs;

  const forgetTenant = (tenantId: string): void => {
    tenantGenerations.set(tenantId, (tenantGenerations.get(tenantId) ?? 0) + 1);
    size -= tenants.get(tenantId)?.size ?? 0;
    tenants.delete(tenantId);
  };
  const forgetAll = (): void => {
    generation++;
    tenants.clear();
    size = 0;
  };
  const store = (tenantId: string, key: string, entry: Entry): void => {
    let lists = tenants.get(tenantId);
    if (lists === undefined) tenants.set(tenantId, (lists = new Map()));
    if (!lists.has(key)) size++;
    lists.set(key, entry);
    while (size > maxEntries) {
      const oldest = tenants.entries().next();
      if (oldest.done === true) break;
      size -= oldest.value[1].size;
      tenants.delete(oldest.value[0]);
    }
  };

  // postgres.js' own listen() is built on the `onnotify` option used here (not in its typings). It is not
  // used directly because when its reconnect fails it stops listening for good, and it never tells that
  // notifications were missed; this cache must know both.
  const onnotify = (channel: string, payload: string): void => {
    if (channel !== CHAT_LISTS_CHANNEL || !payload.startsWith(prefix)) return;
    forgetTenant(payload.slice(prefix.length));
  };
  const listenerOptions = {
    max: 1,
    max_lifetime: null,
    fetch_types: false,
    connect_timeout: 10,
    onnotice: () => undefined,
    onnotify,
    onclose: () => {
      if (!live) return;
      live = false;
      forgetAll();
      if (!closed) {
        log.warn('lost the database notifications; serving chat lists from the database until they are back');
        scheduleListen();
      }
    },
  };
  const listener = postgres(opts.url, listenerOptions);

  async function listen(): Promise<void> {
    await listener.unsafe(`LISTEN ${CHAT_LISTS_CHANNEL}`);
    // Whatever was stored before this point may have missed a notification.
    forgetAll();
    live = true;
    retryDelay = retryMs;
  }

  function scheduleListen(): void {
    if (closed || retryTimer !== undefined) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      listen().then(
        () => log.info('database notifications back; chat lists cached again'),
        (err: unknown) => {
          log.debug({ err }, 'could not listen for chat list changes yet');
          retryDelay = Math.min(5_000, retryDelay * 2);
          scheduleListen();
        },
      );
    }, retryDelay);
  }

  try {
    await listen();
  } catch (err) {
    log.warn({ err }, 'could not listen for chat list changes; chat lists are read from the database until it can');
    scheduleListen();
  }

  // Concurrent misses of one list share one read; a read begun before an invalidation is never joined
  // by a request that came after it (the generations are part of the key).
  const flights = new SingleFlight<Chat[]>();
  const loadAndKeep = (tenantId: string, key: string, load: () => Promise<Chat[]>): Promise<Chat[]> => {
    const before = generation;
    const tenantBefore = tenantGenerations.get(tenantId) ?? 0;
    return flights.run(`${before}\n${tenantBefore}\n${tenantId}\n${key}`, async () => {
      const at = opts.clock.now();
      const chats = await load();
      for (const chat of chats) Object.freeze(chat);
      Object.freeze(chats);
      if (live && generation === before && (tenantGenerations.get(tenantId) ?? 0) === tenantBefore) store(tenantId, key, { chats, at });
      return chats;
    });
  };

  return {
    async get(tenantId, key, load) {
      if (!live) return load();
      const lists = tenants.get(tenantId);
      const hit = lists?.get(key);
      const age = opts.clock.now() - (hit?.at ?? 0);
      if (lists === undefined || hit === undefined || age >= maxAgeMs) return loadAndKeep(tenantId, key, load);
      tenants.delete(tenantId);
      tenants.set(tenantId, lists);
      // A list in use is read again in the background before it expires, so a busy list never makes its
      // readers wait for the database; what it answers is still within maxAgeMs.
      if (age >= refreshAfterMs) {
        loadAndKeep(tenantId, key, load).catch((err: unknown) => log.debug({ err }, 'chat list refresh failed; the next read after expiry loads it'));
      }
      return hit.chats;
    },
    forget: forgetTenant,
    get live() {
      return live;
    },
    get size() {
      return size;
    },
    close() {
      if (closing !== undefined) return closing;
      closed = true;
      live = false;
      clearTimeout(retryTimer);
      forgetAll();
      return (closing = listener.end({ timeout: 1 }));
    },
  };
}
