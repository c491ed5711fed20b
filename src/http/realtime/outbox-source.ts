import { formatEventId, parseEventCursor } from '../../store/outbox.js';
import type { OutboxRepo, StoredEvent } from '../../store/types.js';
import type { DurableEvent, EventSource } from './event-stream.js';

/** A stored event as the realtime channel sends it. */
export function toDurableEvent(event: StoredEvent): DurableEvent {
  return { id: event.id, seq: event.seq, name: event.name, ...(event.chatId === null ? {} : { chatId: event.chatId }), payload: event.payload };
}

/** The realtime channel's event source over the store's outbox. */
export function outboxEventSource(outbox: OutboxRepo): EventSource & { parseCursor(tenantId: string, value: string): number } {
  return {
    async read(tenantId, opts) {
      const page = await outbox.read(tenantId, opts);
      return { events: page.events.map(toDurableEvent), cursor: page.cursor, truncated: page.truncated };
    },
    head: (tenantId) => outbox.head(tenantId),
    idOf: formatEventId,
    parseCursor: parseEventCursor,
  };
}
