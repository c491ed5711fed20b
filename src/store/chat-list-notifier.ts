/**
 * Tells every node that tenants' chat lists changed, for the writes that leave it to the node rather
 * than to the migration 005 trigger: ingest batches (see migration 006 for why). Tenants marked in one
 * turn of the event loop go out in one statement, at most one statement in flight; what is marked
 * meanwhile goes in the next. The node that wrote forgets its own cached lists at once (store.ts); other
 * nodes learn a round trip later. If the node dies between its commit and the NOTIFY, other nodes show
 * the old last message and unread count until their cache entry expires (10 s); permissions are never
 * deferred, so a revoke still acts at once everywhere.
 */
/** The setting (migration 006) under which the chats trigger leaves the NOTIFY to this notifier. */
export const DEFERRED_CHAT_LIST_NOTIFY = { 'app.chat_lists_notify': 'deferred' } as const;

export interface ChatListNotifier {
  changed(tenantId: string): void;
  /** Sends what is marked and waits for the statement in flight. */
  close(): Promise<void>;
}

export function createChatListNotifier(send: (tenantIds: string[]) => Promise<void>, onError: (err: unknown) => void): ChatListNotifier {
  const dirty = new Set<string>();
  let scheduled = false;
  let inFlight: Promise<void> | null = null;

  const schedule = (): void => {
    if (scheduled || inFlight !== null) return;
    scheduled = true;
    setImmediate(flush);
  };

  function flush(): void {
    scheduled = false;
    if (dirty.size === 0 || inFlight !== null) return;
    const tenantIds = [...dirty];
    dirty.clear();
    inFlight = send(tenantIds)
      .catch(onError)
      .finally(() => {
        inFlight = null;
        if (dirty.size > 0) schedule();
      });
  }

  return {
    changed(tenantId) {
      dirty.add(tenantId);
      schedule();
    },
    async close() {
      flush();
      while (inFlight !== null) {
        await inFlight;
        flush();
      }
    },
  };
}
