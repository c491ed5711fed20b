import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics/metrics.js';
import { giveUpReason, type SupervisorSource } from '../../../src/metrics/observe-supervisor.js';
import type { CodeCacheStats } from '../../../src/supervisor/code-cache.js';
import type { ActorStatus, TenantActorInfo } from '../../../src/supervisor/supervisor-types.js';

const TENANT = '7d1f0a52-3c1e-4a51-9b0e-2f8f5d0c1a11';

/** The value of one series in exposition text, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

/** A supervisor's status stream and inspect(), driven by the test. */
function fakeSupervisor() {
  const statusListeners = new Set<(t: string, s: ActorStatus, r: string) => void>();
  const faultListeners = new Set<() => void>();
  const infos = new Map<string, Partial<TenantActorInfo>>();
  let codeCache: CodeCacheStats | undefined;
  const source: SupervisorSource = {
    onStatus: (l) => (statusListeners.add(l), () => statusListeners.delete(l)),
    onSystemicFault: (l) => (faultListeners.add(l as () => void), () => faultListeners.delete(l as () => void)),
    inspect: (t) => infos.get(t) as TenantActorInfo | undefined,
    stats: () => ({ actors: 0, running: 0, failed: 0, restartsTotal: 0, lateRepliesTotal: 0, systemicFaultsTotal: 0, codeCache }),
  };
  return {
    source,
    infos,
    status: (t: string, s: ActorStatus, r: string) => statusListeners.forEach((l) => l(t, s, r)),
    fault: () => faultListeners.forEach((l) => l()),
    listeners: () => statusListeners.size + faultListeners.size,
    setCodeCache: (stats: CodeCacheStats | undefined) => {
      codeCache = stats;
    },
  };
}

describe('metrics', () => {
  it('records hooks as wa_ series labelled by bounded values only', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.command('session.send', 'ok', 0.02);
    m.command('session.send', 'timeout', 15);
    m.messages('in', 3);
    m.messages('out', 1);
    m.persistBatch(3, 0.004);
    m.leaseAcquired();
    m.leaseLost('fenced');
    m.eventEmitted('message');
    m.httpRequest('GET', '/api/chats/:chatId/messages', 200, 0.003);
    m.webhookAttempt('succeeded', 0.012);
    m.webhookAttempt('retry', 10);
    m.sessionStatus(TENANT, 'connected');
    m.observeRealtime({ connectedClients: () => 4 });
    const text = await m.render();

    expect(sample(text, 'wa_actor_command_duration_seconds_count{command="session.send",outcome="ok"}')).toBe(1);
    expect(sample(text, 'wa_actor_command_duration_seconds_count{command="session.send",outcome="timeout"}')).toBe(1);
    expect(sample(text, 'wa_messages_total{direction="in"}')).toBe(3);
    expect(sample(text, 'wa_messages_total{direction="out"}')).toBe(1);
    expect(sample(text, 'wa_persist_batch_size_sum')).toBe(3);
    expect(sample(text, 'wa_lease_acquisitions_total')).toBe(1);
    expect(sample(text, 'wa_lease_losses_total{reason="fenced"}')).toBe(1);
    expect(sample(text, 'wa_socketio_events_emitted_total{event="message"}')).toBe(1);
    expect(sample(text, 'wa_socketio_connected_clients')).toBe(4);
    expect(sample(text, 'wa_http_request_duration_seconds_count{method="GET",route="/api/chats/:chatId/messages",status="200"}')).toBe(1);
    expect(sample(text, 'wa_webhook_attempt_duration_seconds_count{outcome="succeeded"}')).toBe(1);
    expect(sample(text, 'wa_webhook_attempt_duration_seconds_count{outcome="retry"}')).toBe(1);
    expect(sample(text, 'wa_sessions{status="connected"}')).toBe(1);
    expect(sample(text, 'wa_sessions{status="qr"}')).toBe(0);
    expect(text).not.toContain(TENANT);
  });

  it('keeps two nodes in one process apart and leaves the global registry alone', async () => {
    const { register } = await import('prom-client');
    const before = (await register.getMetricsAsJSON()).length;
    const a = createMetrics();
    const b = createMetrics();
    a.messages('in', 5);
    expect(sample(await a.render(), 'wa_messages_total{direction="in"}')).toBe(5);
    expect(sample(await b.render(), 'wa_messages_total{direction="in"}')).toBeUndefined();
    expect(await a.render()).toContain('process_cpu_seconds_total');
    expect((await register.getMetricsAsJSON()).length).toBe(before);
  });

  it('counts actor starts, restarts by exit cause, give-ups and mailbox depth from the supervisor', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const sup = fakeSupervisor();
    const stop = m.observeSupervisor(sup.source);
    m.sessionStatus(TENANT, 'connected');
    sup.status(TENANT, 'starting', 'start');
    sup.status(TENANT, 'running', 'ready');
    sup.infos.set(TENANT, { lastExit: { cause: 'out-of-memory', reason: 'oom', wasReady: true, code: 1, signal: null } });
    sup.status(TENANT, 'restarting', 'oom');
    sup.status(TENANT, 'starting', 'restart 1');
    sup.status(TENANT, 'failed', 'restart intensity exceeded: 5 failures within 60 s; last: oom');
    sup.fault();
    sup.infos.set(TENANT, { actor: { stats: { mailboxDepth: 7, lateReplies: 0 } } as TenantActorInfo['actor'] });
    let text = await m.render();
    expect(sample(text, 'wa_actor_starts_total{kind="first"}')).toBe(1);
    expect(sample(text, 'wa_actor_starts_total{kind="restart"}')).toBe(1);
    expect(sample(text, 'wa_actor_restarts_total{reason="out-of-memory"}')).toBe(1);
    expect(sample(text, 'wa_actor_give_ups_total{reason="restart_intensity"}')).toBe(1);
    expect(sample(text, 'wa_supervisor_systemic_faults_total')).toBe(1);
    expect(sample(text, 'wa_actors{status="failed"}')).toBe(1);
    expect(sample(text, 'wa_actor_mailbox_messages')).toBe(7);
    expect(sample(text, 'wa_actor_mailbox_depth_max')).toBe(7);

    // From sources (no code cache): no compile series at all, and no cache.
    expect(text).not.toContain('wa_actor_code_compiles_total{');
    expect(sample(text, 'wa_actor_code_cache_bytes')).toBe(0);
    sup.setCodeCache({ hits: 40, rejected: 1, misses: 3, bytes: 400_000 });
    text = await m.render();
    expect(sample(text, 'wa_actor_code_compiles_total{from="cache"}')).toBe(40);
    expect(sample(text, 'wa_actor_code_compiles_total{from="source"}')).toBe(4);
    expect(sample(text, 'wa_actor_code_cache_bytes')).toBe(400_000);

    // A stopped actor leaves every gauge, and its session is no longer this node's.
    sup.status(TENANT, 'stopped', 'logout');
    text = await m.render();
    expect(sample(text, 'wa_actors{status="failed"}')).toBe(0);
    expect(sample(text, 'wa_actor_mailbox_messages')).toBe(0);
    expect(sample(text, 'wa_sessions{status="connected"}')).toBe(0);
    stop();
    expect(sup.listeners()).toBe(0);
    expect(() => m.observeSupervisor(sup.source)).toThrow(/already/);
  });

  it('classifies give-up reasons into a closed set', () => {
    expect(giveUpReason('failed to start 3 times in a row; last: boom')).toBe('start_failures');
    expect(giveUpReason('could not spawn: DataCloneError')).toBe('spawn_error');
    expect(giveUpReason('restart intensity exceeded: 5 failures within 60 s; last: x')).toBe('restart_intensity');
    expect(giveUpReason('something new')).toBe('other');
  });
});
