import { parseUpMessage, type ReplyMessage } from '../actors/protocol.js';
import type { Clock } from '../domain/clock.js';
import { AppError, assertNever, ErrorCodes } from '../domain/errors.js';
import type { Logger } from '../domain/log.js';
import type { ActorExit, ExitCause } from './actor-exit.js';
import { isNormalExit } from './actor-exit.js';
import { ActorDiedError, ActorStoppedError, ActorTimeoutError, MailboxFullError } from './errors.js';
import { startHeartbeat, type Heartbeat } from './heartbeat.js';
import { PendingCalls } from './pending-calls.js';
import type { SpawnTransport, Transport, TransportExit } from './transport.js';
import { withDefaults } from './with-defaults.js';

export interface ActorSpec {
  tenantId: string;
  /** Absolute path or file URL of the behaviour module (its default export is a BehaviorFactory). */
  behaviorModule: string;
  /** Handed to the factory; must survive structured cloning. */
  options?: unknown;
}

export interface ActorRefOptions {
  /** Most commands one actor holds (queued, running, or timed out and unanswered). Default 100. */
  mailboxSize: number;
  /** Deadline of a call unless the call sets its own (ACTOR_CALL_TIMEOUT_MS). Default 15 000. */
  callTimeoutMs: number;
  /** Default 5 000: a hung actor is found in about interval x maxMissed. */
  heartbeatIntervalMs: number;
  /** Consecutive unanswered pings before the actor is killed as hung. Default 3. */
  heartbeatMaxMissed: number;
  /** From spawn to ready, including thread boot and the behaviour's start(). Default 60 000. */
  startTimeoutMs: number;
  /** Graceful stop (and a crashing actor's cleanup) before it is killed. Default 10 000. */
  stopTimeoutMs: number;
}

export const defaultActorRefOptions: Readonly<ActorRefOptions> = Object.freeze({
  mailboxSize: 100,
  callTimeoutMs: 15_000,
  heartbeatIntervalMs: 5_000,
  heartbeatMaxMissed: 3,
  startTimeoutMs: 60_000,
  stopTimeoutMs: 10_000,
});

export type ActorRefState = 'starting' | 'ready' | 'stopping' | 'exited';

/** Plain numbers, read by the metrics layer. */
export interface ActorStats {
  lateReplies: number;
  mailboxDepth: number;
}

/** The parent's handle on one running actor. */
export interface ActorRef<C = unknown, R = unknown, E = unknown> {
  readonly tenantId: string;
  /** The underlying thread/process (kind, pid, threadId), for diagnostics and tests. */
  readonly transport: Transport;
  readonly state: ActorRefState;
  readonly stats: ActorStats;
  /** Resolves when start() resolved in the actor; rejects (WA_ACTOR_DIED / WA_ACTOR_STOPPED) if it ends first. */
  readonly ready: Promise<void>;
  /** Resolves once the actor is gone, with why. Never rejects. */
  readonly exited: Promise<ActorExit>;
  /**
   * Request/reply. Rejects with WA_MAILBOX_FULL at once when the mailbox is full, WA_ACTOR_TIMEOUT past
   * the deadline, WA_ACTOR_DIED / WA_ACTOR_STOPPED if the actor ends first, or the AppError the
   * behaviour threw. Calls made before ready wait in the actor's mailbox.
   */
  call(command: C, opts?: { timeoutMs?: number }): Promise<R>;
  /**
   * One-way notice for the behaviour's `tell`, outside the mailbox and without a reply. False when the
   * actor is stopping, gone or crashed (nothing was sent). Throws if the notice cannot be serialised.
   */
  tell(notice: unknown): boolean;
  /** Returns the unsubscribe function. */
  onEvent(listener: (event: E) => void): () => void;
  /** Graceful stop, then kill after stopTimeoutMs. Idempotent. */
  stop(reason?: string): Promise<ActorExit>;
  /** Kill at once. Idempotent. */
  kill(reason?: string): Promise<ActorExit>;
}

export interface ActorRefDeps {
  spawn: SpawnTransport;
  clock: Clock;
  log: Logger;
}

type StopCause = Extract<ExitCause, 'stopped' | 'exit-requested'>;
type KillCause = Extract<ExitCause, 'hung' | 'start-timeout' | 'killed'>;

class LocalActorRef<C, R, E> implements ActorRef<C, R, E> {
  readonly tenantId: string;
  readonly transport: Transport;
  readonly ready: Promise<void>;
  readonly exited: Promise<ActorExit>;
  private current: ActorRefState = 'starting';
  private wasReady = false;
  private readonly calls = new PendingCalls();
  private readonly listeners = new Set<(event: E) => void>();
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly heartbeat: Heartbeat;
  private readonly startTimer: NodeJS.Timeout;
  private killTimer: NodeJS.Timeout | undefined;
  private stopping: { cause: StopCause; reason: string } | undefined;
  private killing: { cause: KillCause; reason: string } | undefined;
  private crashReason: string | undefined;
  private lastExit: ActorExit | undefined;
  private settleReady!: (err?: Error) => void;
  private resolveExited!: (exit: ActorExit) => void;

  constructor(
    deps: ActorRefDeps,
    spec: ActorSpec,
    private readonly opts: ActorRefOptions,
  ) {
    this.tenantId = spec.tenantId;
    this.log = deps.log.child({ tenantId: spec.tenantId });
    this.clock = deps.clock;
    // Options that cannot cross the boundary fail here, before a thread exists.
    structuredClone(spec.options);
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = (err) => (err === undefined ? resolve() : reject(err));
    });
    // Many owners never await `ready`; a failed start is reported through `exited` as well.
    this.ready.catch(() => {});
    this.exited = new Promise((resolve) => {
      this.resolveExited = resolve;
    });

    this.transport = deps.spawn();
    this.transport.onMessage((raw) => this.receive(raw));
    this.transport.onExit((info) => this.onExit(info));
    this.heartbeat = startHeartbeat({
      intervalMs: opts.heartbeatIntervalMs,
      maxMissed: opts.heartbeatMaxMissed,
      ping: (seq) => this.transport.send({ type: 'sys.ping', seq }),
      onHung: (missed) => this.killWith('hung', `hung: ${missed} heartbeats missed`),
    });
    this.startTimer = setTimeout(() => this.killWith('start-timeout', `not ready after ${opts.startTimeoutMs} ms`), opts.startTimeoutMs);
    const levelVal = this.log.levelVal;
    this.transport.send({
      type: 'sys.init',
      tenantId: spec.tenantId,
      behaviorModule: spec.behaviorModule,
      options: spec.options,
      mailboxSize: opts.mailboxSize,
      stopTimeoutMs: opts.stopTimeoutMs,
      minLogLevel: Number.isFinite(levelVal) ? levelVal : Number.MAX_SAFE_INTEGER,
    });
  }

  get state(): ActorRefState {
    return this.current;
  }

  get stats(): ActorStats {
    return { lateReplies: this.calls.lateReplies, mailboxDepth: this.calls.depth };
  }

  call(command: C, opts?: { timeoutMs?: number }): Promise<R> {
    if (this.current === 'stopping' || this.current === 'exited' || this.crashReason !== undefined) {
      return Promise.reject(this.unavailableError());
    }
    if (this.calls.depth >= this.opts.mailboxSize) return Promise.reject(new MailboxFullError(this.tenantId, this.opts.mailboxSize));
    const timeoutMs = opts?.timeoutMs ?? this.opts.callTimeoutMs;
    const deadline = this.clock.now() + timeoutMs;
    const reply = this.calls.open(
      timeoutMs,
      () => new ActorTimeoutError(this.tenantId, timeoutMs),
      (id) => {
        try {
          this.transport.send({ type: 'call', id, deadline, command });
        } catch (err) {
          throw new AppError(ErrorCodes.INTERNAL, `command could not be serialised: ${(err as Error).message}`, { cause: err });
        }
      },
    );
    return reply as Promise<R>;
  }

  tell(notice: unknown): boolean {
    if (this.current === 'stopping' || this.current === 'exited' || this.crashReason !== undefined) return false;
    this.transport.send({ type: 'tell', notice });
    return true;
  }

  onEvent(listener: (event: E) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(reason = 'stopped'): Promise<ActorExit> {
    this.beginStop('stopped', reason);
    return this.exited;
  }

  kill(reason = 'killed'): Promise<ActorExit> {
    this.killWith('killed', reason);
    return this.exited;
  }

  private receive(raw: unknown): void {
    const message = parseUpMessage(raw);
    if (message === undefined) {
      this.log.warn({}, 'malformed message from actor dropped');
      return;
    }
    switch (message.type) {
      case 'sys.pong':
        this.heartbeat.pong(message.seq);
        return;
      case 'sys.ready':
        this.onReady();
        return;
      case 'reply':
        this.onReply(message);
        return;
      case 'evt':
        this.dispatchEvent(message.event as E);
        return;
      case 'sys.log':
        this.log[message.level](message.obj, message.msg);
        return;
      case 'sys.error':
        this.onActorError(message.fatal, message.error.message);
        return;
      case 'sys.exit':
        this.beginStop('exit-requested', message.reason);
        return;
      case 'sys.stopped':
        // The exit follows; nothing to do until then.
        return;
      default:
        assertNever(message, 'actor message');
    }
  }

  private onReady(): void {
    if (this.current !== 'starting') return;
    clearTimeout(this.startTimer);
    this.current = 'ready';
    this.wasReady = true;
    this.heartbeat.arm();
    this.settleReady();
  }

  private onReply(message: ReplyMessage): void {
    const outcome = this.calls.settle(message.id, message);
    if (outcome === 'late') this.log.debug({ id: message.id }, 'late reply dropped');
    else if (outcome === 'unknown') this.log.warn({ id: message.id }, 'reply to an unknown call dropped');
  }

  private dispatchEvent(event: E): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.log.error({ err }, 'actor event listener threw');
      }
    }
  }

  private onActorError(fatal: boolean, message: string): void {
    if (!fatal) {
      this.log.warn({ error: message }, 'actor reported an error');
      return;
    }
    this.crashReason = message;
    // The runtime runs a bounded cleanup and exits; make sure it does.
    this.armKillTimer('did not exit after crashing');
  }

  private beginStop(cause: StopCause, reason: string): void {
    if (this.current === 'exited' || this.stopping !== undefined || this.killing !== undefined) return;
    this.stopping = { cause, reason };
    this.current = 'stopping';
    this.settleReady(new ActorStoppedError(this.tenantId, reason));
    this.transport.send({ type: 'sys.stop', reason });
    this.armKillTimer(`did not stop within ${this.opts.stopTimeoutMs} ms`);
  }

  private armKillTimer(reason: string): void {
    if (this.killTimer !== undefined) return;
    this.killTimer = setTimeout(() => this.killWith('killed', reason), this.opts.stopTimeoutMs);
  }

  private killWith(cause: KillCause, reason: string): void {
    if (this.current === 'exited' || this.killing !== undefined) return;
    this.killing = { cause, reason };
    this.log.warn({ cause, reason }, 'killing actor');
    this.transport.terminate().catch((err: unknown) => this.log.error({ err }, 'terminating actor failed'));
  }

  private onExit(info: TransportExit): void {
    this.current = 'exited';
    clearTimeout(this.startTimer);
    clearTimeout(this.killTimer);
    this.heartbeat.stop();
    const exit = this.classify(info);
    this.lastExit = exit;
    const normal = isNormalExit(exit);
    const error = () => (normal ? new ActorStoppedError(this.tenantId, exit.reason) : new ActorDiedError(this.tenantId, exit.reason));
    this.calls.failAll(error);
    this.settleReady(error());
    if (normal) this.log.info({ cause: exit.cause, reason: exit.reason }, 'actor stopped');
    else this.log.warn({ cause: exit.cause, reason: exit.reason, code: exit.code, signal: exit.signal }, 'actor died');
    this.resolveExited(exit);
  }

  private classify(info: TransportExit): ActorExit {
    const base = { wasReady: this.wasReady, code: info.code, signal: info.signal };
    if (this.stopping !== undefined) {
      const killed = this.killing === undefined ? '' : ` (killed: ${this.killing.reason})`;
      return { ...base, cause: this.stopping.cause, reason: `${this.stopping.reason}${killed}` };
    }
    if (this.crashReason !== undefined) return { ...base, cause: 'crashed', reason: this.crashReason };
    const errorCode = info.error?.code;
    if (errorCode === 'ERR_WORKER_OUT_OF_MEMORY' || errorCode === 'ERR_OUT_OF_MEMORY') {
      return { ...base, cause: 'out-of-memory', reason: 'out of memory (heap limit reached)' };
    }
    if (this.killing !== undefined) return { ...base, ...this.killing };
    const how = info.signal !== null ? `signal ${info.signal}` : `code ${String(info.code)}`;
    return { ...base, cause: 'crashed', reason: info.error?.message ?? `exited unexpectedly with ${how}` };
  }

  private unavailableError(): AppError {
    if (this.lastExit !== undefined && !isNormalExit(this.lastExit)) return new ActorDiedError(this.tenantId, this.lastExit.reason);
    if (this.crashReason !== undefined) return new ActorDiedError(this.tenantId, this.crashReason);
    return new ActorStoppedError(this.tenantId, this.stopping?.reason ?? 'exited');
  }
}

/** Start an actor on a new transport and return its handle at once (see `ready`). */
export function spawnActor<C = unknown, R = unknown, E = unknown>(
  deps: ActorRefDeps,
  spec: ActorSpec,
  options: Partial<ActorRefOptions> = {},
): ActorRef<C, R, E> {
  return new LocalActorRef<C, R, E>(deps, spec, withDefaults(defaultActorRefOptions, options));
}
