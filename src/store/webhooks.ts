import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { ValidationError } from '../domain/errors.js';
import { EventName, WebhookEventName } from '../domain/types.js';
import type { Sql } from './db.js';
import { EventRow, formatEventId, toStoredEvent } from './outbox.js';
import type { DeliveryState, DeliveryView, StoredEvent, WebhookRecord, WebhookRepo } from './types.js';
import { asOwner, iso, isoOrNull, isUuid, parseRow, parseRows, withTenant } from './with-tenant.js';

const FeedRow = Type.Object({ created: Type.Integer(), moved: Type.Integer() });
const DeliveryStateRow = Type.Object({ state: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]), attempts: Type.Integer(), endpoints: Type.Integer() });

const WebhookRow = Type.Object({
  id: Type.String(),
  tenant_id: Type.String(),
  url: Type.String(),
  events: Type.Array(WebhookEventName),
  enabled: Type.Boolean(),
  disabled_reason: Type.Union([Type.String(), Type.Null()]),
  max_concurrency: Type.Integer({ minimum: 1 }),
  failing_since: Type.Union([Type.Date(), Type.Null()]),
  created_at: Type.Date(),
  updated_at: Type.Date(),
});

function toWebhook(row: Static<typeof WebhookRow>): WebhookRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    url: row.url,
    events: row.events,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    maxConcurrency: row.max_concurrency,
    failingSince: isoOrNull(row.failing_since),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

const DeliveryRow = Type.Object({
  seq: Type.String({ pattern: '^\\d+$' }),
  name: EventName,
  state: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
  next_attempt_at: Type.Date(),
  last_status: Type.Union([Type.Integer(), Type.Null()]),
  last_error: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.Date(),
  completed_at: Type.Union([Type.Date(), Type.Null()]),
  attempts_log: Type.Array(
    Type.Object({
      attempt: Type.Integer(),
      started_at: Type.String(),
      duration_ms: Type.Integer(),
      status_code: Type.Union([Type.Integer(), Type.Null()]),
      error: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});

function toDelivery(tenantId: string, row: Static<typeof DeliveryRow>): DeliveryView {
  const seq = Number(row.seq);
  return {
    eventId: formatEventId(tenantId, seq),
    seq,
    event: row.name,
    state: row.state,
    attempts: row.attempts_log.map((a) => ({
      attempt: a.attempt,
      startedAt: new Date(a.started_at).toISOString(),
      durationMs: a.duration_ms,
      statusCode: a.status_code,
      error: a.error,
    })),
    nextAttemptAt: row.state === 'pending' ? iso(row.next_attempt_at) : null,
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: iso(row.created_at),
    completedAt: isoOrNull(row.completed_at),
  };
}

const COLUMNS = ['id', 'tenant_id', 'url', 'events', 'enabled', 'disabled_reason', 'max_concurrency', 'failing_since', 'created_at', 'updated_at'];

/** A tenant's webhook endpoints: what the admin REST routes read and change. */
export function createWebhookRepo(sql: Sql): WebhookRepo {
  return {
    async create(tenantId, input) {
      const id = randomUUID();
      return withTenant(sql, tenantId, async (tx) => {
        // Starts at the tenant's current head: a new endpoint gets what happens from now on, not history
        // (GET /api/events replays that).
        const rows = await tx`
          INSERT INTO webhooks (id, tenant_id, url, events, secret, enabled, max_concurrency, scheduled_seq)
          VALUES (${id}, ${tenantId}, ${input.url}, ${input.events}::text[], ${input.secret}, ${input.enabled}, ${input.maxConcurrency},
                  COALESCE((SELECT last_seq FROM event_counters WHERE tenant_id = ${tenantId}), 0))
          RETURNING ${tx(COLUMNS)}`;
        const row = parseRow(WebhookRow, rows, 'webhook');
        if (row === null) throw new Error('insert returned no row');
        return toWebhook(row);
      });
    },

    async list(tenantId) {
      return withTenant(sql, tenantId, async (tx) => {
        const rows = await tx`SELECT ${tx(COLUMNS)} FROM webhooks WHERE tenant_id = ${tenantId} ORDER BY created_at, id`;
        return parseRows(WebhookRow, rows, 'webhook').map(toWebhook);
      });
    },

    async get(tenantId, id) {
      if (!isUuid(id)) return null;
      return withTenant(sql, tenantId, async (tx) => {
        const rows = await tx`SELECT ${tx(COLUMNS)} FROM webhooks WHERE tenant_id = ${tenantId} AND id = ${id}`;
        const row = parseRow(WebhookRow, rows, 'webhook');
        return row === null ? null : toWebhook(row);
      });
    },

    async update(tenantId, id, patch) {
      if (!isUuid(id)) return null;
      const enable = patch.enabled === true;
      return withTenant(sql, tenantId, async (tx) => {
        const rows = await tx`
          UPDATE webhooks SET
            url = COALESCE(${patch.url ?? null}, url),
            events = COALESCE(${patch.events ?? null}::text[], events),
            secret = COALESCE(${patch.secret ?? null}, secret),
            max_concurrency = COALESCE(${patch.maxConcurrency ?? null}::integer, max_concurrency),
            enabled = COALESCE(${patch.enabled ?? null}::boolean, enabled),
            -- Enabling again starts a new chance: no old reason, no old failure streak.
            disabled_reason = CASE WHEN ${enable} THEN NULL ELSE disabled_reason END,
            failing_since = CASE WHEN ${enable} THEN NULL ELSE failing_since END,
            updated_at = now()
          WHERE tenant_id = ${tenantId} AND id = ${id}
          RETURNING ${tx(COLUMNS)}`;
        const row = parseRow(WebhookRow, rows, 'webhook');
        return row === null ? null : toWebhook(row);
      });
    },

    async remove(tenantId, id) {
      if (!isUuid(id)) return false;
      return withTenant(sql, tenantId, async (tx) => {
        const rows = await tx`DELETE FROM webhooks WHERE tenant_id = ${tenantId} AND id = ${id} RETURNING 1`;
        return rows.length > 0;
      });
    },

    async deliveries(tenantId, webhookId, opts) {
      if (!Number.isInteger(opts.limit) || opts.limit < 1 || opts.limit > 200) throw new ValidationError('limit must be an integer from 1 to 200');
      if (!isUuid(webhookId)) return [];
      const before = opts.before ?? Number.MAX_SAFE_INTEGER;
      return withTenant(sql, tenantId, async (tx) => {
        const rows = await tx`
          SELECT d.seq::text AS seq, e.name, d.state, d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.completed_at,
                 COALESCE((SELECT json_agg(json_build_object('attempt', a.attempt, 'started_at', a.started_at, 'duration_ms', a.duration_ms,
                                                             'status_code', a.status_code, 'error', a.error) ORDER BY a.attempt)
                           FROM webhook_attempts a WHERE a.webhook_id = d.webhook_id AND a.seq = d.seq), '[]'::json) AS attempts_log
          FROM webhook_deliveries d JOIN events e ON e.tenant_id = d.tenant_id AND e.seq = d.seq
          WHERE d.tenant_id = ${tenantId} AND d.webhook_id = ${webhookId} AND d.seq < ${before}
          ORDER BY d.seq DESC LIMIT ${opts.limit}`;
        return parseRows(DeliveryRow, rows, 'delivery').map((r) => toDelivery(tenantId, r));
      });
    },
  };
}

/** A delivery a node has claimed: everything needed to send it. */
export interface ClaimedDelivery {
  webhookId: string;
  tenantId: string;
  url: string;
  secret: string;
  subscribed: WebhookEventName[];
  /** This attempt's number (1 = first): the claim's fencing token in `complete`. */
  attempt: number;
  event: StoredEvent;
}

/** How an attempt ended, as the worker classified it. */
export interface AttemptResult {
  webhookId: string;
  seq: number;
  attempt: number;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  outcome: 'succeeded' | 'retry' | 'failed';
  /** For `retry`: the delay before the next attempt (backoff with jitter, or Retry-After). */
  retryInMs: number;
  /** Disable the endpoint with this reason (a 410). */
  disableReason: string | null;
}

export interface QueueLimits {
  /** Give a delivery up once its next attempt would start later than this after it was scheduled. */
  retryWindowMs: number;
  /** Disable an endpoint whose attempts have all failed for this long. */
  disableAfterMs: number;
}

/**
 * The delivery queue the webhook worker of every node shares (cross-tenant, as the owner role, like the
 * other system jobs). Claims take the endpoint's row `FOR UPDATE SKIP LOCKED`, so two nodes never claim
 * for one endpoint at once and never wait on each other.
 */
export interface WebhookQueue {
  /** Creates the delivery rows of new events for enabled endpoints; returns how many. */
  feed(maxWebhooks: number, maxEventsPerWebhook: number): Promise<number>;
  /** Claims up to `limit` due deliveries for `leaseMs`, keeping each endpoint's window (see claim SQL). */
  claim(nodeId: string, limit: number, leaseMs: number): Promise<ClaimedDelivery[]>;
  /** Records an attempt; returns the delivery's new state, or null when the claim had expired and was taken over. */
  complete(nodeId: string, result: AttemptResult, limits: QueueLimits): Promise<DeliveryState | null>;
}

const ClaimRow = Type.Composite([
  EventRow,
  Type.Object({
    webhook_id: Type.String(),
    tenant_id: Type.String(),
    url: Type.String(),
    secret: Type.String(),
    events: Type.Array(WebhookEventName),
    attempts: Type.Integer({ minimum: 1 }),
  }),
]);

const secs = (ms: number): number => Math.max(0, ms) / 1000;

export function createWebhookQueue(sql: Sql): WebhookQueue {
  return {
    async feed(maxWebhooks, maxEventsPerWebhook) {
      return asOwner(async () => {
        // One statement, one snapshot: the head and the events are read together, and every seq up to the
        // head is committed (outbox.ts), so moving the cursor to `upto` skips nothing. `message` is
        // inbound messages only; `message.any` every message.
        const rows = await sql`
          WITH w AS (
            SELECT wh.id, wh.tenant_id, wh.events, wh.scheduled_seq, LEAST(c.last_seq, wh.scheduled_seq + ${maxEventsPerWebhook}) AS upto
            FROM webhooks wh JOIN event_counters c ON c.tenant_id = wh.tenant_id
            WHERE wh.enabled AND wh.scheduled_seq < c.last_seq
            ORDER BY wh.updated_at LIMIT ${maxWebhooks}
            FOR UPDATE OF wh SKIP LOCKED
          ), ins AS (
            INSERT INTO webhook_deliveries (tenant_id, webhook_id, seq)
            SELECT w.tenant_id, w.id, e.seq FROM w
            JOIN events e ON e.tenant_id = w.tenant_id AND e.seq > w.scheduled_seq AND e.seq <= w.upto
            WHERE (e.name <> 'message' AND e.name = ANY(w.events))
               OR (e.name = 'message' AND ('message.any' = ANY(w.events)
                   OR ('message' = ANY(w.events) AND NOT COALESCE((e.payload->>'fromMe')::boolean, false))))
            ON CONFLICT (webhook_id, seq) DO NOTHING
            RETURNING 1
          ), moved AS (
            UPDATE webhooks SET scheduled_seq = w.upto FROM w WHERE webhooks.id = w.id RETURNING 1
          )
          SELECT (SELECT count(*) FROM ins)::integer AS created, (SELECT count(*) FROM moved)::integer AS moved`;
        return parseRow(FeedRow, rows, 'feed')?.created ?? 0;
      });
    },

    async claim(nodeId, limit, leaseMs) {
      if (limit < 1) return [];
      // One statement (one round trip per claim). Endpoints with due work are locked SKIP LOCKED, so two
      // nodes do not work on one endpoint at once. Each endpoint's window is its oldest `max_concurrency`
      // pending deliveries: at most that many in flight, never further ahead of the oldest one; with 1,
      // strictly in seq order. The statement's snapshot may predate another node's claim or completion
      // committed a moment ago: the UPDATE re-checks each row it takes on its newest version (pending,
      // due, not in flight), so a stale view can only claim less, never a row already taken, and every
      // row it takes lies in the endpoint's current window.
      const rows = await asOwner(
        () => sql`
          WITH locked AS (
            SELECT wh.id, wh.max_concurrency FROM webhooks wh
            WHERE wh.enabled AND EXISTS (
              SELECT 1 FROM webhook_deliveries d
              WHERE d.webhook_id = wh.id AND d.state = 'pending' AND d.next_attempt_at <= now()
                AND (d.locked_until IS NULL OR d.locked_until <= now()))
            -- Random: with more busy endpoints than the limit, none waits behind the same others every time.
            ORDER BY random() LIMIT ${limit}
            FOR UPDATE OF wh SKIP LOCKED
          ), win AS (
            SELECT d.webhook_id, d.seq, d.next_attempt_at, d.locked_until
            FROM locked
            CROSS JOIN LATERAL (
              SELECT webhook_id, seq, next_attempt_at, locked_until FROM webhook_deliveries
              WHERE webhook_id = locked.id AND state = 'pending' ORDER BY seq LIMIT locked.max_concurrency
            ) d
          ), picked AS (
            SELECT webhook_id, seq FROM win
            WHERE next_attempt_at <= now() AND (locked_until IS NULL OR locked_until <= now())
            ORDER BY next_attempt_at, seq LIMIT ${limit}
          )
          UPDATE webhook_deliveries d SET attempts = d.attempts + 1,
            locked_until = now() + make_interval(secs => ${secs(leaseMs)}), locked_by = ${nodeId}
          FROM picked, webhooks wh, events e
          WHERE d.webhook_id = picked.webhook_id AND d.seq = picked.seq
            AND d.state = 'pending' AND d.next_attempt_at <= now() AND (d.locked_until IS NULL OR d.locked_until <= now())
            AND wh.id = d.webhook_id AND e.tenant_id = d.tenant_id AND e.seq = d.seq
          RETURNING d.webhook_id, d.tenant_id, d.attempts, wh.url, wh.secret, wh.events,
                    e.seq::text AS seq, e.name, e.chat_id, e.payload, e.created_at`,
      );
      return parseRows(ClaimRow, rows, 'claimed delivery')
        .map(
          (r): ClaimedDelivery => ({
            webhookId: r.webhook_id,
            tenantId: r.tenant_id,
            url: r.url,
            secret: r.secret,
            subscribed: r.events,
            attempt: r.attempts,
            event: toStoredEvent(r.tenant_id, r),
          }),
        )
        .sort((a, b) => a.event.seq - b.event.seq);
    },

    async complete(nodeId, result, limits) {
      const ok = result.outcome === 'succeeded';
      const retry = result.outcome === 'retry';
      const nextAt = sql`now() + make_interval(secs => ${secs(result.retryInMs)})`;
      const giveUpAt = sql`d.created_at + make_interval(secs => ${secs(limits.retryWindowMs)})`;
      const streakOver = sql`COALESCE(failing_since, ${result.startedAt}) + make_interval(secs => ${secs(limits.disableAfterMs)}) <= now()`;
      // One statement (one round trip): the delivery, its attempt and the endpoint's failure streak. The
      // delivery is fenced by the attempt number: a claim that expired and was taken over records nothing.
      // A success ends the streak; a failure starts it, and one that lasted disableAfterMs (or a 410)
      // disables the endpoint with the reason, for the admin to read and re-enable.
      const rows = await asOwner(
        () => sql`
          WITH d AS (
            UPDATE webhook_deliveries d SET
              state = CASE WHEN ${ok} THEN 'succeeded' WHEN ${retry} AND ${nextAt} < ${giveUpAt} THEN 'pending' ELSE 'failed' END,
              next_attempt_at = ${nextAt},
              locked_until = NULL, locked_by = NULL,
              last_status = ${result.statusCode}, last_error = ${result.error},
              completed_at = CASE WHEN ${ok} OR NOT ${retry} OR ${nextAt} >= ${giveUpAt} THEN now() ELSE NULL END
            WHERE d.webhook_id = ${result.webhookId} AND d.seq = ${result.seq} AND d.attempts = ${result.attempt}
              AND d.state = 'pending' AND d.locked_by = ${nodeId}
            RETURNING d.state, d.tenant_id
          ), attempt AS (
            INSERT INTO webhook_attempts (tenant_id, webhook_id, seq, attempt, started_at, duration_ms, status_code, error, node_id)
            SELECT d.tenant_id, ${result.webhookId}, ${result.seq}, ${result.attempt}, ${result.startedAt},
                   ${Math.round(result.durationMs)}, ${result.statusCode}, ${result.error}, ${nodeId}
            FROM d
            ON CONFLICT DO NOTHING
            RETURNING 1
          ), endpoint AS (
            UPDATE webhooks SET
              failing_since = CASE WHEN ${ok} THEN NULL ELSE COALESCE(failing_since, ${result.startedAt}) END,
              enabled = CASE
                WHEN ${result.disableReason}::text IS NOT NULL THEN false
                WHEN NOT ${ok} AND ${streakOver} THEN false
                ELSE enabled END,
              disabled_reason = CASE
                WHEN ${result.disableReason}::text IS NOT NULL THEN ${result.disableReason}::text
                WHEN NOT ${ok} AND enabled AND ${streakOver}
                  THEN 'every attempt failed since ' || to_char(COALESCE(failing_since, ${result.startedAt}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                       || '; last: ' || ${result.error ?? `HTTP ${result.statusCode ?? '?'}`}::text
                ELSE disabled_reason END,
              updated_at = CASE WHEN ${ok} AND failing_since IS NULL THEN updated_at ELSE now() END
            WHERE id = ${result.webhookId} AND EXISTS (SELECT 1 FROM d)
              -- A success on an endpoint that never failed changes nothing: no write.
              AND NOT (${ok} AND failing_since IS NULL)
            RETURNING 1
          )
          SELECT d.state, (SELECT count(*) FROM attempt)::integer AS attempts, (SELECT count(*) FROM endpoint)::integer AS endpoints FROM d`,
      );
      const row = parseRow(DeliveryStateRow, rows, 'delivery');
      return row?.state ?? null;
    },
  };
}
