import type { Config } from '../config.js';
import type { Logger } from '../domain/log.js';
import type { WebhookEventName } from '../domain/types.js';
import type { StoredEvent } from '../store/types.js';
import type { AttemptResult, ClaimedDelivery, QueueLimits, WebhookQueue } from '../store/webhooks.js';
import { parseRetryAfter, retryDelayMs, verdictForStatus, type Verdict } from './policy.js';
import { BlockedAddressError, createHttpSender, type Sender } from './sender.js';
import { signatureHeader } from './signature.js';

export interface WebhookWorkerOptions {
  /** Deliveries this node makes at once, all endpoints together. */
  concurrency: number;
  /** Deadline of one request. */
  timeoutMs: number;
  /** How often to look for due work when nothing wakes the worker. */
  pollMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  retryWindowMs: number;
  disableAfterMs: number;
  allowPrivateUrls: boolean;
}

export function webhookOptionsFromConfig(config: Config): WebhookWorkerOptions {
  return {
    concurrency: config.WEBHOOK_CONCURRENCY,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    pollMs: config.WEBHOOK_POLL_MS,
    backoffBaseMs: config.WEBHOOK_BACKOFF_BASE_MS,
    backoffMaxMs: config.WEBHOOK_BACKOFF_MAX_MS,
    retryWindowMs: config.WEBHOOK_RETRY_WINDOW_S * 1000,
    disableAfterMs: config.WEBHOOK_DISABLE_AFTER_S * 1000,
    allowPrivateUrls: config.WEBHOOK_ALLOW_PRIVATE_URLS,
  };
}

export interface WebhookWorkerDeps {
  queue: WebhookQueue;
  nodeId: string;
  log: Logger;
  options: WebhookWorkerOptions;
  /** Default: node:http(s) with the private-address guard of the options. */
  sender?: Sender;
  /** Jitter source; default Math.random. */
  random?: () => number;
  /** Told of every finished attempt (metrics, bench); optional. */
  onAttempt?: (result: AttemptResult, event: StoredEvent) => void;
}

export interface WebhookWorker {
  /** Starts polling. Idempotent. */
  start(): void;
  /** New events were committed (on this node): look for work now instead of at the next poll. */
  nudge(): void;
  /** Stops claiming, waits for the requests in flight (each ends by its timeout) and records them. Idempotent. */
  close(): Promise<void>;
}

/** Endpoints fed per pass, and events per endpoint: bounds one statement's work. */
const FEED_WEBHOOKS = 100;
const FEED_EVENTS = 1000;

/** The name a receiver sees: `message.any` for messages it gets only through that subscription. */
export function deliveredName(event: StoredEvent, subscribed: WebhookEventName[]): WebhookEventName {
  if (event.name !== 'message') return event.name;
  const inbound = typeof event.payload === 'object' && event.payload !== null && 'fromMe' in event.payload && event.payload.fromMe === false;
  return inbound && subscribed.includes('message') ? 'message' : 'message.any';
}

/** The JSON a receiver gets: the same bytes on every attempt of one event (the signature header changes). */
export function deliveryBody(event: StoredEvent, subscribed: WebhookEventName[]): string {
  return JSON.stringify({
    id: event.id,
    seq: event.seq,
    event: deliveredName(event, subscribed),
    tenantId: event.tenantId,
    chatId: event.chatId,
    createdAt: event.createdAt,
    payload: event.payload,
  });
}

/**
 * Delivers webhooks from the outbox. Every node runs one; they share the work through the queue (claims
 * with SKIP LOCKED), so any node delivers and a node that dies mid-delivery only delays the deliveries it
 * held until their claim expires: they are made again, with the same event id, never dropped.
 */
export function createWebhookWorker(deps: WebhookWorkerDeps): WebhookWorker {
  const { queue, options } = deps;
  const log = deps.log.child({ component: 'webhooks' });
  const random = deps.random ?? Math.random;
  const sender = deps.sender ?? createHttpSender({ allowPrivate: options.allowPrivateUrls, maxSockets: options.concurrency });
  // The claim outlives the request's deadline, so a live node's request never overlaps a takeover.
  const leaseMs = options.timeoutMs * 2 + 1000;
  const limits: QueueLimits = { retryWindowMs: options.retryWindowMs, disableAfterMs: options.disableAfterMs };
  const inFlight = new Set<Promise<void>>();
  let started = false;
  let closed = false;
  let ticking: Promise<void> | null = null;
  let again = false;
  /** New events may exist (a nudge or a poll): fan them out before claiming. A finished delivery only claims. */
  let feedDue = true;
  let timer: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;

  function wake(feed = true): void {
    if (feed) feedDue = true;
    if (closed || !started) return;
    if (ticking !== null) {
      again = true;
      return;
    }
    clearTimeout(timer);
    ticking = tick().finally(() => {
      ticking = null;
      if (closed) return;
      if (again) {
        again = false;
        wake(false);
      } else {
        timer = setTimeout(wake, options.pollMs);
        // The node's server keeps the process alive; a poll timer should not.
        timer.unref();
      }
    });
  }

  async function tick(): Promise<void> {
    try {
      if (feedDue) {
        feedDue = false;
        // A full pass may leave more for the next one.
        if ((await queue.feed(FEED_WEBHOOKS, FEED_EVENTS)) >= FEED_EVENTS) feedDue = again = true;
      }
      const free = options.concurrency - inFlight.size;
      if (free <= 0) return;
      const claimed = await queue.claim(deps.nodeId, free, leaseMs);
      for (const delivery of claimed) track(deliver(delivery));
      // A full claim means more may be due right away.
      if (claimed.length === free) again = true;
    } catch (err) {
      // The database may be restarting: the next poll tries again; claims held meanwhile expire and return.
      feedDue = true;
      log.warn({ err }, 'webhook poll failed');
    }
  }

  function track(work: Promise<void>): void {
    inFlight.add(work);
    void work.finally(() => {
      inFlight.delete(work);
      // A finished delivery frees a slot and may open its endpoint's window to the next event.
      wake(false);
    });
  }

  async function deliver(d: ClaimedDelivery): Promise<void> {
    const body = deliveryBody(d.event, d.subscribed);
    const started = new Date();
    const t0 = performance.now();
    let verdict: Verdict;
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const answer = await sender.send({
        url: d.url,
        body,
        timeoutMs: options.timeoutMs,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'wa-tenants-webhooks/1',
          'x-wa-event-id': d.event.id,
          'x-wa-event': deliveredName(d.event, d.subscribed),
          'x-wa-delivery-attempt': String(d.attempt),
          'x-wa-signature': signatureHeader(d.secret, Math.floor(Date.now() / 1000), body),
        },
      });
      statusCode = answer.status;
      verdict = verdictForStatus(answer.status, parseRetryAfter(answer.retryAfter, Date.now()));
      if (verdict.outcome !== 'succeeded') error = `HTTP ${answer.status}`;
    } catch (err) {
      error = err instanceof Error ? err.message.slice(0, 500) : 'request failed';
      verdict = err instanceof BlockedAddressError ? { outcome: 'failed', disableReason: null } : { outcome: 'retry', retryAfterMs: null };
    }
    const result: AttemptResult = {
      webhookId: d.webhookId,
      seq: d.event.seq,
      attempt: d.attempt,
      startedAt: started,
      durationMs: performance.now() - t0,
      statusCode,
      error,
      outcome: verdict.outcome,
      retryInMs: verdict.outcome === 'retry' ? retryDelayMs(d.attempt, { baseMs: options.backoffBaseMs, maxMs: options.backoffMaxMs }, random, verdict.retryAfterMs) : 0,
      disableReason: verdict.outcome === 'failed' ? verdict.disableReason : null,
    };
    await record(result, d);
  }

  async function record(result: AttemptResult, d: ClaimedDelivery): Promise<void> {
    try {
      const state = await queue.complete(deps.nodeId, result, limits);
      if (state === null) log.warn({ webhookId: d.webhookId, seq: d.event.seq }, 'delivery claim expired before its result was recorded');
      else if (state === 'failed') log.info({ webhookId: d.webhookId, tenantId: d.tenantId, seq: d.event.seq, status: result.statusCode, error: result.error }, 'webhook delivery given up');
      deps.onAttempt?.(result, d.event);
    } catch (err) {
      // Unrecorded: the claim expires and the delivery is made again (the receiver dedupes by event id).
      log.warn({ err, webhookId: d.webhookId, seq: d.event.seq }, 'could not record a webhook attempt');
    }
  }

  return {
    start() {
      if (started || closed) return;
      started = true;
      wake();
    },
    nudge: () => wake(true),
    close() {
      closing ??= (async () => {
        closed = true;
        clearTimeout(timer);
        await ticking;
        while (inFlight.size > 0) await Promise.all([...inFlight]);
        sender.close();
      })();
      return closing;
    },
  };
}
