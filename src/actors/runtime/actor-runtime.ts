import { systemClock, type Clock } from '../../domain/clock.js';
import { assertNever, ErrorCodes, isAppError, type ErrorData } from '../../domain/errors.js';
import { parseDownMessage, type CallMessage, type InitMessage, type UpMessage } from '../protocol.js';
import { createActorContext } from './actor-context.js';
import type { ActorPort } from './actor-port.js';
import { appErrorToData, describeThrown } from './error-data.js';
import { assertBehavior, loadBehaviorFactory, type AnyBehavior, type ImportModule } from './load-behavior.js';
import { Mailbox } from './mailbox.js';

type Phase = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'crashed';

export interface RuntimeDeps {
  clock?: Clock;
  /** How behaviour modules are imported (the default is the runtime's own dynamic `import`). */
  importModule?: ImportModule;
}

const defaultImport: ImportModule = (specifier) => import(specifier);

/**
 * The code that runs inside an actor, whatever the transport.
 *
 * Two lanes: system messages (`sys.*`) are handled the moment they arrive, so a ping is answered while a
 * command awaits I/O; commands go through a bounded mailbox and run one at a time, in order. A command
 * that throws an AppError replies with it; any other throw crashes the actor (let it crash). Only an
 * actor whose thread is blocked by CPU work misses pings, and the parent treats that as hung.
 */
class ActorRuntime {
  private phase: Phase = 'idle';
  private behavior: AnyBehavior | undefined;
  private mailbox = new Mailbox<CallMessage>(1);
  private stopTimeoutMs = 0;
  private starting: Promise<void> = Promise.resolve();
  private draining: Promise<void> | undefined;

  constructor(
    private readonly port: ActorPort,
    private readonly clock: Clock,
    private readonly importModule: ImportModule,
  ) {
    port.onMessage((raw) => this.receive(raw));
  }

  private receive(raw: unknown): void {
    const message = parseDownMessage(raw);
    if (message === undefined) {
      this.post({ type: 'sys.error', fatal: false, error: { code: ErrorCodes.INTERNAL, message: 'malformed message from parent' } });
      return;
    }
    switch (message.type) {
      case 'sys.ping':
        this.post({ type: 'sys.pong', seq: message.seq });
        return;
      case 'sys.init':
        this.init(message);
        return;
      case 'sys.stop':
        void this.stop(message.reason);
        return;
      case 'call':
        this.enqueue(message);
        return;
      case 'tell':
        this.tell(message.notice);
        return;
      default:
        assertNever(message, 'parent message');
    }
  }

  private init(message: InitMessage): void {
    if (this.phase !== 'idle') return;
    this.phase = 'starting';
    this.mailbox = new Mailbox(message.mailboxSize);
    this.stopTimeoutMs = message.stopTimeoutMs;
    this.starting = this.start(message);
  }

  private async start(message: InitMessage): Promise<void> {
    try {
      const factory = await loadBehaviorFactory(message.behaviorModule, this.importModule);
      this.behavior = assertBehavior(factory({ tenantId: message.tenantId, options: message.options }), message.behaviorModule);
      const ctx = createActorContext({ tenantId: message.tenantId, minLogLevel: message.minLogLevel, post: (m) => this.post(m) });
      await this.behavior.start(ctx);
    } catch (err) {
      await this.crash(err, 'start failed');
      return;
    }
    // A stop that arrived during start takes over from here (it awaits `starting`).
    if (this.phase !== 'starting') return;
    this.phase = 'running';
    this.post({ type: 'sys.ready' });
    this.pump();
  }

  /** Outside the mailbox: a notice goes to the behaviour at once, even while a command awaits I/O. */
  private tell(notice: unknown): void {
    if (this.behavior?.tell === undefined || this.phase === 'stopped' || this.phase === 'crashed') return;
    try {
      this.behavior.tell(notice);
    } catch (err) {
      void this.crash(err, 'notice failed');
    }
  }

  private enqueue(call: CallMessage): void {
    if (this.phase === 'stopping' || this.phase === 'stopped' || this.phase === 'crashed') {
      this.replyError(call.id, { code: ErrorCodes.ACTOR_STOPPED, message: 'actor is stopping' });
      return;
    }
    // The parent enforces the same bound; this is the second wall against a misbehaving parent.
    if (!this.mailbox.push(call)) {
      this.replyError(call.id, { code: ErrorCodes.MAILBOX_FULL, message: `mailbox full (${this.mailbox.capacity})` });
      return;
    }
    if (this.phase === 'running') this.pump();
  }

  private pump(): void {
    if (this.draining !== undefined) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      // A command queued between the loop's last look and this callback would otherwise wait for the next.
      if (this.phase === 'running' && this.mailbox.size > 0) this.pump();
    });
  }

  private async drain(): Promise<void> {
    for (let call = this.mailbox.shift(); call !== undefined; call = this.mailbox.shift()) {
      if (this.clock.now() > call.deadline) {
        // Nobody waits for this reply any more: skip the work, answer so the parent frees the slot.
        this.replyError(call.id, { code: ErrorCodes.ACTOR_TIMEOUT, message: 'deadline passed while queued' });
        continue;
      }
      if (!(await this.run(call))) return;
    }
  }

  /** Returns false when the command crashed the actor. */
  private async run(call: CallMessage): Promise<boolean> {
    let value: unknown;
    try {
      value = await (this.behavior as AnyBehavior).handle(call.command);
    } catch (err) {
      if (isAppError(err)) {
        this.replyError(call.id, appErrorToData(err));
        return true;
      }
      await this.crash(err, 'command failed');
      return false;
    }
    try {
      this.post({ type: 'reply', id: call.id, ok: true, value });
    } catch (err) {
      // A reply that cannot be cloned must still answer the caller, or it waits for its deadline.
      this.replyError(call.id, { code: ErrorCodes.INTERNAL, message: `reply could not be serialised: ${describeThrown(err)}` });
    }
    return true;
  }

  private async stop(reason: string): Promise<void> {
    if (this.phase === 'stopping' || this.phase === 'stopped' || this.phase === 'crashed') return;
    this.phase = 'stopping';
    for (const queued of this.mailbox.takeAll()) {
      this.replyError(queued.id, { code: ErrorCodes.ACTOR_STOPPED, message: `actor stopped: ${reason}` });
    }
    await this.starting;
    await this.draining;
    // A crash during start or during the last command has already taken the actor down.
    if (this.phase !== 'stopping') return;
    try {
      await this.behavior?.stop(reason);
    } catch (err) {
      this.post({ type: 'sys.error', fatal: false, error: { code: ErrorCodes.INTERNAL, message: `stop failed: ${describeThrown(err)}` } });
    }
    this.phase = 'stopped';
    this.post({ type: 'sys.stopped' });
    this.port.exit(0);
  }

  private async crash(err: unknown, what: string): Promise<void> {
    if (this.phase === 'crashed' || this.phase === 'stopped') return;
    this.phase = 'crashed';
    this.post({ type: 'sys.error', fatal: true, error: { code: ErrorCodes.INTERNAL, message: `${what}: ${describeThrown(err)}` } });
    // Like gen_server's terminate/2: give the behaviour a bounded chance to release what it holds
    // (a browser, sockets) before the actor goes away. The parent kills it after the same timeout.
    await this.boundedStop('crash');
    this.port.exit(1);
  }

  private async boundedStop(reason: string): Promise<void> {
    if (this.behavior === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.stopTimeoutMs);
    });
    const stopped = this.behavior.stop(reason).catch(() => {
      // Already crashing: the crash reason has been reported, a failing cleanup adds nothing to act on.
    });
    await Promise.race([stopped, timeout]);
    clearTimeout(timer);
  }

  private replyError(id: number, error: ErrorData): void {
    try {
      this.post({ type: 'reply', id, ok: false, error });
    } catch {
      // Details that cannot be cloned: send the code and message alone.
      this.post({ type: 'reply', id, ok: false, error: { code: error.code, message: error.message } });
    }
  }

  private post(message: UpMessage): void {
    this.port.post(message);
  }
}

/** Run an actor on `port`: it waits for `sys.init`, then serves until stopped or crashed. */
export function runActor(port: ActorPort, deps: RuntimeDeps = {}): void {
  new ActorRuntime(port, deps.clock ?? systemClock, deps.importModule ?? defaultImport);
}
