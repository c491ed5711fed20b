import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type {
  CommandOutcome,
  HttpMetricsHooks,
  LeaseLossReason,
  LeaseMetricsHooks,
  MessageDirection,
  RealtimeMetricsHooks,
  SessionMetricsHooks,
  WebhookMetricsHooks,
  WebhookOutcome,
} from './hooks.js';
import { observeSupervisor, type SupervisorSource } from './observe-supervisor.js';

export type { SupervisorSource } from './observe-supervisor.js';

/** Session statuses as stored (domain SessionStatus): every one is always exported, 0 when none. */
const SESSION_STATUSES = ['stopped', 'starting', 'qr', 'connected', 'disconnected', 'logged_out', 'failed'] as const;

const SECONDS_FAST = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SECONDS_COMMAND = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_SIZES = [1, 2, 5, 10, 20, 50, 100, 200, 500];

export interface Metrics extends SessionMetricsHooks, LeaseMetricsHooks, RealtimeMetricsHooks, HttpMetricsHooks, WebhookMetricsHooks {
  /** This node's own registry (never prom-client's global one): two nodes in one process do not mix. */
  readonly registry: Registry;
  /** Content-Type of `render()`'s text (Prometheus text format 0.0.4). */
  readonly contentType: string;
  /** The exposition text: what GET /metrics answers. */
  render(): Promise<string>;
  /**
   * Actor statuses, starts, restarts by exit cause, give-ups, mailbox depth and systemic faults of this
   * supervisor. Call once per node; returns the unsubscribe function.
   */
  observeSupervisor(supervisor: SupervisorSource): () => void;
  /** Where the connected Socket.IO client count is read at each scrape. */
  observeRealtime(source: { connectedClients(): number }): void;
  /** A tenant's session status as this node last published it; null when the node no longer runs it. */
  sessionStatus(tenantId: string, status: string | null): void;
}

export interface MetricsOptions {
  /** Also export prom-client's default process and Node.js metrics (CPU, memory, event loop, GC). Default true. */
  defaultMetrics?: boolean;
}

/**
 * Creates the node's metrics: a fresh registry with every `wa_` metric, and the hooks that feed them.
 * Creating it has no effect beyond the returned object (no global registry, no timers).
 */
export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    // Gauges named like counters: `promtool check metrics` rejects them, and they only count libuv
    // handles (walking every handle at each scrape). CPU, memory, event loop and GC stay.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      registry.removeSingleMetric(name);
    }
  }
  const registers = [registry];

  const sessions = new Map<string, string>();
  const sessionsGauge = new Gauge({
    name: 'wa_sessions',
    help: 'Tenant sessions this node runs, by session status.',
    labelNames: ['status'],
    registers,
    collect() {
      const counts = new Map<string, number>(SESSION_STATUSES.map((s) => [s, 0]));
      for (const status of sessions.values()) counts.set(status, (counts.get(status) ?? 0) + 1);
      for (const [status, n] of counts) sessionsGauge.set({ status }, n);
    },
  });

  const commandSeconds = new Histogram({
    name: 'wa_actor_command_duration_seconds',
    help: 'Request/reply time of commands sent to tenant actors, by command type and outcome.',
    labelNames: ['command', 'outcome'],
    buckets: SECONDS_COMMAND,
    registers,
  });
  const messagesTotal = new Counter({
    name: 'wa_messages_total',
    help: 'Messages newly stored: in = received from WhatsApp, out = sent through the API.',
    labelNames: ['direction'],
    registers,
  });
  const batchSize = new Histogram({
    name: 'wa_persist_batch_size',
    help: 'Inbound messages written per persistence batch (group commit).',
    buckets: BATCH_SIZES,
    registers,
  });
  const batchSeconds = new Histogram({
    name: 'wa_persist_batch_duration_seconds',
    help: 'Time to store one persistence batch of inbound messages.',
    buckets: SECONDS_FAST,
    registers,
  });
  const leaseAcquisitions = new Counter({ name: 'wa_lease_acquisitions_total', help: 'Tenant leases this node acquired.', registers });
  const leaseRenewals = new Counter({ name: 'wa_lease_renewals_total', help: 'Tenant lease renewals by this node.', registers });
  const leaseLosses = new Counter({
    name: 'wa_lease_losses_total',
    help: 'Tenant leases this node lost, by reason (fenced, renew_failed, expired).',
    labelNames: ['reason'],
    registers,
  });
  const webhookAttempts = new Histogram({
    name: 'wa_webhook_attempt_duration_seconds',
    help: 'Webhook delivery attempts made by this node, by outcome (succeeded, retry, failed: given up), and how long each request took.',
    labelNames: ['outcome'],
    buckets: SECONDS_FAST,
    registers,
  });
  let realtime: { connectedClients(): number } | undefined;
  new Gauge({
    name: 'wa_socketio_connected_clients',
    help: 'Authenticated Socket.IO clients connected to this node.',
    registers,
    collect() {
      this.set(realtime?.connectedClients() ?? 0);
    },
  });
  const eventsEmitted = new Counter({
    name: 'wa_socketio_events_emitted_total',
    help: 'Events emitted to tenant rooms, by event name (one per emit, not per receiving socket).',
    labelNames: ['event'],
    registers,
  });
  const httpSeconds = new Histogram({
    name: 'wa_http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'],
    buckets: SECONDS_FAST,
    registers,
  });

  let observing: SupervisorSource | undefined;

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),

    command(type: string, outcome: CommandOutcome, seconds: number) {
      commandSeconds.observe({ command: type, outcome }, seconds);
    },
    messages(direction: MessageDirection, count: number) {
      if (count > 0) messagesTotal.inc({ direction }, count);
    },
    persistBatch(size: number, seconds: number) {
      batchSize.observe(size);
      batchSeconds.observe(seconds);
    },
    leaseAcquired: () => leaseAcquisitions.inc(),
    leaseRenewed: () => leaseRenewals.inc(),
    leaseLost: (reason: LeaseLossReason) => leaseLosses.inc({ reason }),
    eventEmitted: (name: string) => eventsEmitted.inc({ event: name }),
    httpRequest(method: string, route: string, status: number, seconds: number) {
      httpSeconds.observe({ method, route, status: String(status) }, seconds);
    },
    webhookAttempt(outcome: WebhookOutcome, seconds: number) {
      webhookAttempts.observe({ outcome }, seconds);
    },

    observeSupervisor(supervisor) {
      if (observing !== undefined) throw new Error('metrics already observe a supervisor');
      observing = supervisor;
      return observeSupervisor(supervisor, {
        registers,
        onStopped: (tenantId) => sessions.delete(tenantId),
      });
    },
    observeRealtime(source) {
      realtime = source;
    },
    sessionStatus(tenantId, status) {
      if (status === null) sessions.delete(tenantId);
      else sessions.set(tenantId, status);
    },
  };
}
