import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/domain/clock.js';
import { ErrorCodes } from '../../../src/domain/errors.js';
import type { Logger } from '../../../src/domain/log.js';
import { spawnActor, type ActorRef, type ActorRefOptions } from '../../../src/supervisor/actor-ref.js';
import type { SpawnTransport } from '../../../src/supervisor/transport.js';
import type { TestActorOptions, TestCommand } from '../../fixtures/actors/test-actor.js';
import { capturingLogger, isGone, rejectionOf, silentLog, testActorModule } from './helpers.js';

/**
 * What every transport must provide, run against each implementation. Heartbeats are slow here on
 * purpose: a busy test machine must not make a healthy actor look hung.
 */
export function transportContract(name: string, spawn: SpawnTransport, behaviorModule = testActorModule): void {
  describe(`${name} transport contract`, () => {
    const refs: ActorRef<TestCommand>[] = [];
    const start = (opts: { ref?: Partial<ActorRefOptions>; actor?: TestActorOptions; log?: Logger } = {}) => {
      const ref = spawnActor<TestCommand>(
        { spawn, clock: systemClock, log: opts.log ?? silentLog },
        { tenantId: 'tenant-1', behaviorModule, options: opts.actor ?? {} },
        { heartbeatIntervalMs: 1_000, heartbeatMaxMissed: 10, stopTimeoutMs: 2_000, ...opts.ref },
      );
      refs.push(ref);
      return ref;
    };
    afterEach(async () => {
      await Promise.all(refs.splice(0).map((ref) => ref.kill('test over')));
    });

    it('answers a call with what the behaviour returned', async () => {
      const ref = start();
      await expect(ref.call({ op: 'echo', value: { n: 1, list: [1, 2] } })).resolves.toEqual({ n: 1, list: [1, 2] });
    });

    it('replies with the AppError the behaviour threw and keeps serving', async () => {
      const ref = start();
      const err = await rejectionOf(ref.call({ op: 'reject', message: 'bad input' }));
      expect(err.code).toBe(ErrorCodes.VALIDATION);
      expect(err.message).toBe('bad input');
      await expect(ref.call({ op: 'echo', value: 'still here' })).resolves.toBe('still here');
    });

    it('handles commands one at a time in the order they were sent', async () => {
      const ref = start();
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => ref.call({ op: 'append', value: i })));
      expect(replies.at(-1)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(replies.map((r) => (r as number[]).length)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });

    it('hands a notice to the behaviour at once, outside the mailbox, while a command waits for it', async () => {
      const ref = start();
      await ref.ready;
      // Through the mailbox the notice would queue behind the command that waits for it, until the deadline.
      const waiting = ref.call({ op: 'untilTold' }, { timeoutMs: 10_000 });
      expect(ref.tell({ note: 'go' })).toBe(true);
      await expect(waiting).resolves.toEqual({ note: 'go' });
      expect(ref.stats).toEqual({ lateReplies: 0, mailboxDepth: 0 });
    });

    it('sends no notice to an actor that is stopping or gone', async () => {
      const ref = start();
      await ref.ready;
      const stopped = ref.stop('test');
      expect(ref.tell({ note: 'too late' })).toBe(false);
      await stopped;
      expect(ref.tell({ note: 'too late' })).toBe(false);
    });

    it('fails a call past its deadline with WA_ACTOR_TIMEOUT, then drops and counts the late reply', async () => {
      const ref = start();
      await ref.ready;
      const err = await rejectionOf(ref.call({ op: 'sleep', ms: 300, value: 'late' }, { timeoutMs: 20 }));
      expect(err.code).toBe(ErrorCodes.ACTOR_TIMEOUT);
      expect(ref.stats.mailboxDepth).toBe(1);
      // One command at a time: this reply comes after the late one.
      await expect(ref.call({ op: 'echo', value: 'next' })).resolves.toBe('next');
      expect(ref.stats).toEqual({ lateReplies: 1, mailboxDepth: 0 });
    });

    it('skips a queued command whose deadline passed before it could start', async () => {
      const ref = start();
      await ref.ready;
      const slow = ref.call({ op: 'sleep', ms: 300 });
      const expired = rejectionOf(ref.call({ op: 'append', value: 1 }, { timeoutMs: 20 }));
      expect((await expired).code).toBe(ErrorCodes.ACTOR_TIMEOUT);
      await slow;
      await expect(ref.call({ op: 'append', value: 2 })).resolves.toEqual([2]);
    });

    it('refuses a call at once with WA_MAILBOX_FULL when the mailbox is full', async () => {
      const ref = start({ ref: { mailboxSize: 2 } });
      await ref.ready;
      const first = ref.call({ op: 'sleep', ms: 300, value: 'first' });
      const second = ref.call({ op: 'echo', value: 'second' });
      const third = ref.call({ op: 'echo', value: 'third' });
      const settledFirst = await Promise.race([third.then(() => 'third resolved', (err: Error & { code?: string }) => err.code), first.then(() => 'first')]);
      expect(settledFirst).toBe(ErrorCodes.MAILBOX_FULL);
      await expect(Promise.all([first, second])).resolves.toEqual(['first', 'second']);
      await expect(ref.call({ op: 'echo', value: 'room again' })).resolves.toBe('room again');
    });

    it('fails every pending call with WA_ACTOR_DIED when the actor crashes', async () => {
      const ref = start();
      await ref.ready;
      const calls = [ref.call({ op: 'crash', message: 'boom' }), ref.call({ op: 'echo', value: 1 }), ref.call({ op: 'echo', value: 2 })];
      const errors = await Promise.all(calls.map((call) => rejectionOf(call)));
      expect(errors.map((e) => e.code)).toEqual([ErrorCodes.ACTOR_DIED, ErrorCodes.ACTOR_DIED, ErrorCodes.ACTOR_DIED]);
      const exit = await ref.exited;
      expect(exit).toMatchObject({ cause: 'crashed', wasReady: true });
      expect(exit.reason).toContain('boom');
      expect((await rejectionOf(ref.call({ op: 'echo', value: 3 }))).code).toBe(ErrorCodes.ACTOR_DIED);
    });

    it('fails every pending call with WA_ACTOR_DIED when the actor is killed', async () => {
      const ref = start();
      await ref.ready;
      const calls = [ref.call({ op: 'sleep', ms: 10_000 }), ref.call({ op: 'echo', value: 1 })];
      const exit = await ref.kill('test kill');
      const errors = await Promise.all(calls.map((call) => rejectionOf(call)));
      expect(errors.map((e) => e.code)).toEqual([ErrorCodes.ACTOR_DIED, ErrorCodes.ACTOR_DIED]);
      expect(exit).toMatchObject({ cause: 'killed', reason: 'test kill' });
      expect(isGone(ref.transport)).toBe(true);
    });

    it('refuses a command that cannot be serialised without sending it', async () => {
      const ref = start();
      const err = await rejectionOf(ref.call({ op: 'echo', value: () => 1 }));
      expect(err.code).toBe(ErrorCodes.INTERNAL);
      expect(ref.stats.mailboxDepth).toBe(0);
      await expect(ref.call({ op: 'echo', value: 'ok' })).resolves.toBe('ok');
    });

    it('delivers events and logs from the actor to the parent, logs with the tenant id', async () => {
      const { log, lines } = capturingLogger();
      const ref = start({ log });
      const event = new Promise((resolve) => ref.onEvent(resolve));
      await ref.call({ op: 'emit', event: { kind: 'message', at: new Date(0).toISOString() } });
      await expect(event).resolves.toEqual({ kind: 'message', at: '1970-01-01T00:00:00.000Z' });
      await ref.call({ op: 'log', message: 'hello from the actor' });
      expect(lines).toContainEqual(expect.objectContaining({ msg: 'hello from the actor', tenantId: 'tenant-1', op: 'log' }));
    });

    it('stops gracefully: the running command finishes, queued ones get WA_ACTOR_STOPPED', async () => {
      const ref = start();
      await ref.ready;
      const running = ref.call({ op: 'sleep', ms: 100, value: 'finished' });
      const queued = rejectionOf(ref.call({ op: 'echo', value: 'never' }));
      const exit = await ref.stop('shutdown');
      await expect(running).resolves.toBe('finished');
      expect((await queued).code).toBe(ErrorCodes.ACTOR_STOPPED);
      expect(exit).toMatchObject({ cause: 'stopped', reason: 'shutdown', wasReady: true });
      expect((await rejectionOf(ref.call({ op: 'echo', value: 1 }))).code).toBe(ErrorCodes.ACTOR_STOPPED);
      expect(isGone(ref.transport)).toBe(true);
    });

    it('kills an actor whose stop outlasts the stop timeout, and nothing is left behind', async () => {
      const ref = start({ actor: { stopHangs: true }, ref: { stopTimeoutMs: 200 } });
      await ref.ready;
      const exit = await ref.stop('shutdown');
      expect(exit.cause).toBe('stopped');
      expect(exit.reason).toContain('killed');
      expect(isGone(ref.transport)).toBe(true);
    });

    it('makes stop and kill idempotent: every call returns the same exit', async () => {
      const ref = start();
      await ref.ready;
      const exits = await Promise.all([ref.stop('first'), ref.stop('second')]);
      expect(exits[0]).toMatchObject({ cause: 'stopped', reason: 'first' });
      expect(exits[1]).toBe(exits[0]);
      await expect(ref.kill()).resolves.toBe(exits[0]);
      await expect(ref.stop('again')).resolves.toBe(exits[0]);
    });

    it('turns a stop into a kill when kill is called during the stop, still a normal exit', async () => {
      const ref = start({ actor: { stopHangs: true }, ref: { stopTimeoutMs: 60_000 } });
      await ref.ready;
      const stopping = ref.stop('shutdown');
      const exit = await ref.kill('impatient');
      expect(exit).toMatchObject({ cause: 'stopped', reason: 'shutdown (killed: impatient)' });
      await expect(stopping).resolves.toBe(exit);
      expect(isGone(ref.transport)).toBe(true);
    });

    it('ends with a normal exit when the actor asks to stop', async () => {
      const ref = start();
      await expect(ref.call({ op: 'leave', reason: 'logout' })).resolves.toBe('leaving');
      await expect(ref.exited).resolves.toMatchObject({ cause: 'exit-requested', reason: 'logout' });
    });

    it('rejects ready and reports a crash before ready when start() fails', async () => {
      const ref = start({ actor: { failStart: 'cannot start' } });
      expect((await rejectionOf(ref.ready)).code).toBe(ErrorCodes.ACTOR_DIED);
      const exit = await ref.exited;
      expect(exit).toMatchObject({ cause: 'crashed', wasReady: false });
      expect(exit.reason).toContain('cannot start');
    });
  });
}
