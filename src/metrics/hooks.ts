/**
 * What the layers report to metrics, as plain callbacks. Each layer takes an optional object of its
 * hook type through its factory, so it never imports prom-client nor a global registry, and a test can
 * pass a recording fake. `createMetrics()` (metrics.ts) implements all of them.
 *
 * Labels are small closed sets (command type, outcome, direction, event name, reason class): never a
 * tenant, user, chat or message id, whose number grows without bound.
 */

/** How a command sent to an actor ended. */
export type CommandOutcome = 'ok' | 'timeout' | 'error';

/** Inbound: received from WhatsApp and stored. Outbound: sent through the API and stored. */
export type MessageDirection = 'in' | 'out';

/** Reported by the session service and its ingest (src/supervisor/sessions). */
export interface SessionMetricsHooks {
  /** One request/reply with an actor: its command type (`session.send`, ...), outcome and duration. */
  command(type: string, outcome: CommandOutcome, seconds: number): void;
  /** Inbound: messages newly stored (redeliveries are not counted). Outbound: messages sent through the API. */
  messages(direction: MessageDirection, count: number): void;
  /** One persistence batch of inbound messages committed: its size and how long the write took. */
  persistBatch(size: number, seconds: number): void;
}

/** Why a lease was lost: a write fenced off by a newer epoch, a renewal that failed, or expiry. */
export type LeaseLossReason = 'fenced' | 'renew_failed' | 'expired';

/** Reported by lease managers (local or Redis). */
export interface LeaseMetricsHooks {
  leaseAcquired(): void;
  leaseRenewed(): void;
  leaseLost(reason: LeaseLossReason): void;
}

/** Reported by the Socket.IO channel (src/http/realtime). */
export interface RealtimeMetricsHooks {
  /** One event emitted to a tenant's rooms (one emit, however many sockets receive it). */
  eventEmitted(name: string): void;
}

/** Reported by the HTTP app for every answered request. */
export interface HttpMetricsHooks {
  /** `route` is the route pattern (`/api/chats/:chatId/messages`), never the raw URL. */
  httpRequest(method: string, route: string, status: number, seconds: number): void;
}

/** How a webhook delivery attempt ended: delivered, to be retried, or given up for good. */
export type WebhookOutcome = 'succeeded' | 'retry' | 'failed';

/** Reported by the webhook worker (src/webhooks) for every attempt it records. */
export interface WebhookMetricsHooks {
  webhookAttempt(outcome: WebhookOutcome, seconds: number): void;
}
