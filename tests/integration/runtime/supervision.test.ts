import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/domain/clock.js';
import { ErrorCodes } from '../../../src/domain/errors.js';
import type { SystemicFault } from '../../../src/supervisor/restart-policy.js';
import { createSupervisor } from '../../../src/supervisor/supervisor.js';
import type { ActorStatus, SpawnOptions, Supervisor, SupervisorOptions } from '../../../src/supervisor/supervisor-types.js';
import type { TestActorOptions, TestCommand } from '../../fixtures/actors/test-actor.js';
import { isGone, rejectionOf, silentLog, testActorModule } from './helpers.js';

interface StatusEvent {
  tenantId: string;
  status: ActorStatus;
  reason: string;
}

/** Records every status change and lets a test wait for the next one it cares about. */
function watchStatuses(supervisor: Supervisor) {
  const seen: StatusEvent[] = [];
  const waiting: Array<{ tenantId: string; status: ActorStatus; resolve(event: StatusEvent): void }> = [];
  supervisor.onStatus((tenantId, status, reason) => {
    const event = { tenantId, status, reason };
    seen.push(event);
    for (const w of [...waiting]) {
      if (w.tenantId === tenantId && w.status === status) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(event);
      }
    }
  });
  return {
    seen,
    /** The next `status` of `tenantId` from now on (ask before triggering it). */
    next(tenantId: string, status: ActorStatus): Promise<StatusEvent> {
      return new Promise((resolve) => waiting.push({ tenantId, status, resolve }));
    },
    of(tenantId: string): ActorStatus[] {
      return seen.filter((e) => e.tenantId === tenantId).map((e) => e.status);
    },
  };
}

const spec = (options: TestActorOptions = {}) => ({ behaviorModule: testActorModule, options });

// Slow heartbeats unless a test is about hangs: a busy machine must not make a healthy actor look hung.
const baseSpawn: SpawnOptions = { isolation: 'worker', memoryMb: 64, heartbeatIntervalMs: 1_000, heartbeatMaxMissed: 10, stopTimeoutMs: 2_000 };

describe('supervision of actors on real workers', () => {
  const supervisors: Supervisor[] = [];
  const start = (opts: { spawn?: Partial<SpawnOptions>; policy?: SupervisorOptions['policy'] } = {}) => {
    const supervisor = createSupervisor({
      clock: systemClock,
      log: silentLog,
      spawn: { ...baseSpawn, ...opts.spawn },
      policy: { backoffBaseMs: 10, backoffMaxMs: 50, ...opts.policy },
    });
    supervisors.push(supervisor);
    return { supervisor, statuses: watchStatuses(supervisor) };
  };
  const call = (supervisor: Supervisor, tenantId: string, command: TestCommand, timeoutMs?: number) =>
    supervisor.call(tenantId, command, timeoutMs === undefined ? undefined : { timeoutMs });

  afterEach(async () => {
    await Promise.all(supervisors.splice(0).map((s) => s.close('test over')));
  });

  it('passes a notice to the tenant\'s running actor, and reports one it has no actor for as not sent', async () => {
    const { supervisor } = start();
    expect(supervisor.tell('t-notice', { note: 'nobody' })).toBe(false);
    await supervisor.ensure('t-notice', spec());
    const waiting = call(supervisor, 't-notice', { op: 'untilTold' });
    expect(supervisor.tell('t-notice', { note: 'go' })).toBe(true);
    await expect(waiting).resolves.toEqual({ note: 'go' });
    await supervisor.stop('t-notice');
    expect(supervisor.tell('t-notice', { note: 'too late' })).toBe(false);
  });

  it('restarts an actor that throws, while another tenant keeps working and never notices', async () => {
    const { supervisor, statuses } = start();
    await Promise.all([supervisor.ensure('a', spec()), supervisor.ensure('b', spec())]);
    const bActor = supervisor.inspect('b')?.actor;
    const aRunningAgain = statuses.next('a', 'running');

    expect((await rejectionOf(call(supervisor, 'a', { op: 'crash', message: 'engine exploded' }))).code).toBe(ErrorCodes.ACTOR_DIED);
    const bReplies = await Promise.all(Array.from({ length: 10 }, (_, i) => call(supervisor, 'b', { op: 'append', value: i })));
    await aRunningAgain;

    expect(bReplies.at(-1)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(supervisor.inspect('a')).toMatchObject({ status: 'running', restarts: 1, lastExit: { cause: 'crashed' } });
    expect(supervisor.inspect('a')?.lastExit?.reason).toContain('engine exploded');
    await expect(call(supervisor, 'a', { op: 'echo', value: 'back' })).resolves.toBe('back');
    expect(supervisor.inspect('b')).toMatchObject({ status: 'running', restarts: 0 });
    expect(supervisor.inspect('b')?.actor).toBe(bActor);
    expect(statuses.of('b')).toEqual(['starting', 'running']);
    expect(supervisor.stats()).toMatchObject({ actors: 2, running: 2, restartsTotal: 1 });
  });

  it('restarts an actor that exceeds its memory limit', async () => {
    const { supervisor, statuses } = start({ spawn: { memoryMb: 48 } });
    await supervisor.ensure('hog', spec());
    const restarting = statuses.next('hog', 'restarting');
    const running = statuses.next('hog', 'running');

    expect((await rejectionOf(call(supervisor, 'hog', { op: 'oom' }))).code).toBe(ErrorCodes.ACTOR_DIED);
    expect((await restarting).reason).toContain('out of memory');
    await running;
    expect(supervisor.inspect('hog')).toMatchObject({ restarts: 1, lastExit: { cause: 'out-of-memory' } });
    await expect(call(supervisor, 'hog', { op: 'echo', value: 'fine' })).resolves.toBe('fine');
  });

  it('detects a hung actor by its missed heartbeats, kills it and starts a new one', async () => {
    const { supervisor, statuses } = start({ spawn: { heartbeatIntervalMs: 250, heartbeatMaxMissed: 4 } });
    await supervisor.ensure('stuck', spec());
    const hungTransport = supervisor.inspect('stuck')?.actor?.transport;
    const restarting = statuses.next('stuck', 'restarting');
    const running = statuses.next('stuck', 'running');

    expect((await rejectionOf(call(supervisor, 'stuck', { op: 'hang' }, 60_000))).code).toBe(ErrorCodes.ACTOR_DIED);
    expect((await restarting).reason).toContain('hung');
    await running;
    expect(supervisor.inspect('stuck')?.lastExit?.cause).toBe('hung');
    expect(hungTransport !== undefined && isGone(hungTransport)).toBe(true);
    await expect(call(supervisor, 'stuck', { op: 'echo', value: 'alive' })).resolves.toBe('alive');
  });

  it('parks an actor as failed with the reason once its restart intensity is exceeded', async () => {
    const { supervisor, statuses } = start({ policy: { intensity: 2 } });
    await supervisor.ensure('flaky', spec());
    for (let i = 1; i <= 2; i += 1) {
      const running = statuses.next('flaky', 'running');
      await rejectionOf(call(supervisor, 'flaky', { op: 'crash', message: `crash ${i}` }));
      await running;
    }
    const failed = statuses.next('flaky', 'failed');
    await rejectionOf(call(supervisor, 'flaky', { op: 'crash', message: 'crash 3' }));

    const { reason } = await failed;
    expect(reason).toContain('restart intensity exceeded: 3 failures');
    expect(reason).toContain('crash 3');
    expect(supervisor.inspect('flaky')).toMatchObject({ status: 'failed', restarts: 2, actor: undefined });
    const refused = await rejectionOf(call(supervisor, 'flaky', { op: 'echo', value: 1 }));
    expect(refused.code).toBe(ErrorCodes.ACTOR_FAILED);
    expect(supervisor.stats()).toMatchObject({ failed: 1, running: 0 });

    // An explicit ensure starts it again from a clean history.
    await supervisor.ensure('flaky', spec());
    expect(supervisor.inspect('flaky')).toMatchObject({ status: 'running', restarts: 0 });
  });

  it('parks an actor that keeps failing before ready sooner, and ensure rejects with the reason', async () => {
    const { supervisor } = start({ policy: { maxStartFailures: 3 } });
    const err = await rejectionOf(supervisor.ensure('broken', spec({ failStart: 'no credentials' })));
    expect(err.code).toBe(ErrorCodes.ACTOR_FAILED);
    expect(err.message).toContain('failed to start 3 times in a row');
    expect(err.message).toContain('no credentials');
    expect(supervisor.inspect('broken')).toMatchObject({ status: 'failed', restarts: 2 });
  });

  it('does not restart an actor after a normal stop, and leaves no thread behind', async () => {
    const { supervisor, statuses } = start();
    await supervisor.ensure('quiet', spec());
    const transport = supervisor.inspect('quiet')?.actor?.transport;
    expect(transport?.threadId).toBeGreaterThan(0);

    await supervisor.stop('quiet', 'admin stop');

    expect(statuses.of('quiet')).toEqual(['starting', 'running', 'stopping', 'stopped']);
    expect(statuses.seen.at(-1)).toEqual({ tenantId: 'quiet', status: 'stopped', reason: 'admin stop' });
    expect(supervisor.inspect('quiet')).toBeUndefined();
    expect(transport?.threadId).toBe(-1);
    expect(supervisor.stats()).toMatchObject({ actors: 0, restartsTotal: 0 });
    expect((await rejectionOf(call(supervisor, 'quiet', { op: 'echo', value: 1 }))).code).toBe(ErrorCodes.SESSION_NOT_RUNNING);
  });

  it('does not restart an actor that asked for a normal exit (logout)', async () => {
    const { supervisor, statuses } = start();
    await supervisor.ensure('leaver', spec());
    const stopped = statuses.next('leaver', 'stopped');

    await expect(call(supervisor, 'leaver', { op: 'leave', reason: 'logout' })).resolves.toBe('leaving');

    expect(await stopped).toEqual({ tenantId: 'leaver', status: 'stopped', reason: 'logout' });
    expect(statuses.of('leaver')).toEqual(['starting', 'running', 'stopped']);
    expect(supervisor.inspect('leaver')).toBeUndefined();
    // Starting it again is an explicit decision.
    await supervisor.ensure('leaver', spec());
    expect(supervisor.inspect('leaver')?.status).toBe('running');
  });

  it('signals a systemic fault past the node-wide intensity and pauses restarts for the cool-down', async () => {
    const { supervisor, statuses } = start({ policy: { nodeIntensity: 1, nodePeriodMs: 60_000, nodeCoolDownMs: 300 } });
    const faults: SystemicFault[] = [];
    supervisor.onSystemicFault((fault) => faults.push(fault));
    await Promise.all([supervisor.ensure('x', spec()), supervisor.ensure('y', spec())]);

    const xRunning = statuses.next('x', 'running');
    await rejectionOf(call(supervisor, 'x', { op: 'crash', message: 'x down' }));
    await xRunning;
    expect(faults).toEqual([]);

    const yRestarting = statuses.next('y', 'restarting');
    const yRunning = statuses.next('y', 'running');
    await rejectionOf(call(supervisor, 'y', { op: 'crash', message: 'y down' }));
    expect((await yRestarting).reason).toContain('restarts paused after a systemic fault');
    expect(faults).toEqual([expect.objectContaining({ restarts: 2, periodMs: 60_000 })]);
    await yRunning;
    expect(supervisor.stats()).toMatchObject({ systemicFaultsTotal: 1, restartsTotal: 2, running: 2 });
  });

  it('forwards each actor event with its tenant id', async () => {
    const { supervisor } = start();
    const events: Array<[string, unknown]> = [];
    supervisor.onEvent((tenantId, event) => events.push([tenantId, event]));
    await Promise.all([supervisor.ensure('e1', spec()), supervisor.ensure('e2', spec())]);

    await call(supervisor, 'e1', { op: 'emit', event: { kind: 'qr', n: 1 } });
    await call(supervisor, 'e2', { op: 'emit', event: { kind: 'ready' } });

    expect(events).toEqual([
      ['e1', { kind: 'qr', n: 1 }],
      ['e2', { kind: 'ready' }],
    ]);
  });

  it('stops every actor on close, restarts none, and starts no new one', async () => {
    const { supervisor, statuses } = start();
    await Promise.all([supervisor.ensure('c1', spec()), supervisor.ensure('c2', spec())]);
    const transports = ['c1', 'c2'].map((t) => supervisor.inspect(t)?.actor?.transport);

    await supervisor.close('node shutdown');

    expect(transports.every((t) => t !== undefined && isGone(t))).toBe(true);
    expect(statuses.of('c1')).toEqual(['starting', 'running', 'stopping', 'stopped']);
    expect(supervisor.stats()).toMatchObject({ actors: 0, restartsTotal: 0 });
    expect((await rejectionOf(supervisor.ensure('c3', spec()))).code).toBe(ErrorCodes.ACTOR_STOPPED);
  });

  describe.each([
    ['worker', 'worker'],
    ['child process', 'process'],
  ] as const)('stop on a %s', (_name, isolation) => {
    it('kills an actor whose stop hangs once the stop timeout passes, and nothing is left behind', async () => {
      const { supervisor, statuses } = start({ spawn: { isolation, stopTimeoutMs: 200 } });
      await supervisor.ensure('stubborn', spec({ stopHangs: true }));
      const transport = supervisor.inspect('stubborn')?.actor?.transport;
      expect(transport !== undefined && !isGone(transport)).toBe(true);

      await supervisor.stop('stubborn', 'shutdown');

      expect(transport !== undefined && isGone(transport)).toBe(true);
      const last = statuses.seen.at(-1);
      expect(last).toMatchObject({ tenantId: 'stubborn', status: 'stopped' });
      expect(last?.reason).toContain('killed');
      expect(supervisor.inspect('stubborn')).toBeUndefined();
    });

    it('restarts a crashed actor in a new thread or process', async () => {
      const { supervisor, statuses } = start({ spawn: { isolation } });
      await supervisor.ensure('phoenix', spec());
      const before = await call(supervisor, 'phoenix', { op: 'where' });
      const running = statuses.next('phoenix', 'running');
      await rejectionOf(call(supervisor, 'phoenix', { op: 'crash', message: 'again' }));
      await running;
      const after = await call(supervisor, 'phoenix', { op: 'where' });
      expect(after).not.toEqual(before);
    });
  });
});
