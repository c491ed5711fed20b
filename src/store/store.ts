import type { Sql } from './db.js';
import { CHAT_LISTS_CHANNEL, type ChatListCache } from './chat-list-cache.js';
import { createChatListNotifier } from './chat-list-notifier.js';
import { createChatRepo } from './chats.js';
import { createMediaRepo } from './media.js';
import { createMessageRepo } from './messages.js';
import { createOutboxRepo } from './outbox.js';
import { createPermissionRepo } from './permissions.js';
import { createRefreshTokenRepo } from './refresh-tokens.js';
import { createSessionRepo } from './sessions.js';
import { createIdempotencyRepo } from './idempotency.js';
import { createTenantRepo } from './tenants.js';
import type { EventListener, Store } from './types.js';
import { createUserRepo } from './users.js';
import { createWebhookRepo } from './webhooks.js';
import { asOwner } from './with-tenant.js';

export interface CreateStoreOptions {
  /**
   * What `store.close()` releases. Default: ends the postgres.js pool. Pass `Database.close` from
   * openDatabase so the embedded server stops too.
   */
  close?: () => Promise<void>;
  /** Told of the outbox events of every committed write, in seq order (the node publishes them). */
  onEvents?: EventListener;
  /** Chat lists kept in memory between changes (chat-list-cache.ts); closed with the store. */
  chatListCache?: ChatListCache;
  /** Told when the NOTIFY of an ingest batch's chat list change could not be sent (chat-list-notifier.ts). */
  onNotifyError?: (err: unknown) => void;
}

/** Builds every repository on one postgres.js pool (migrations must have run: see migrate.ts). */
export function createStore(sql: Sql, opts: CreateStoreOptions = {}): Store {
  let closing: Promise<void> | undefined;
  // This node reads its own writes at once: the cache forgets a tenant as soon as a write that changes
  // its chat lists commits (other nodes hear the database's notification).
  const cache = opts.chatListCache;
  const chatListsChanged = (tenantId: string): void => cache?.forget(tenantId);
  const onEvents: EventListener | undefined =
    cache === undefined
      ? opts.onEvents
      : (tenantId, events) => {
          if (events.some((e) => e.name === 'chat_updated')) cache.forget(tenantId);
          opts.onEvents?.(tenantId, events);
        };
  // Ingest batches announce their chat list changes after their commit, several tenants per NOTIFY
  // (migration 006); `current_schema()` is the schema the trigger would name.
  const notifier = createChatListNotifier(async (tenantIds) => {
    await asOwner(() => sql`SELECT pg_notify(${CHAT_LISTS_CHANNEL}, current_schema() || '/' || t) FROM unnest(${tenantIds}::text[]) AS t`);
  }, opts.onNotifyError ?? (() => undefined));
  const closePool = opts.close ?? (() => sql.end({ timeout: 5 }));
  const close = async (): Promise<void> => {
    await notifier.close();
    await opts.chatListCache?.close();
    await closePool();
  };
  return {
    tenants: createTenantRepo(sql),
    users: createUserRepo(sql, chatListsChanged),
    refreshTokens: createRefreshTokenRepo(sql),
    chats: createChatRepo(sql, onEvents, cache),
    messages: createMessageRepo(sql, onEvents, (tenantId) => notifier.changed(tenantId)),
    media: createMediaRepo(sql),
    permissions: createPermissionRepo(sql, chatListsChanged),
    sessions: createSessionRepo(sql, onEvents),
    idempotency: createIdempotencyRepo(sql),
    outbox: createOutboxRepo(sql, onEvents),
    webhooks: createWebhookRepo(sql),
    async ping() {
      await asOwner(() => sql`SELECT 1`);
    },
    close: () => (closing ??= close()),
  };
}
