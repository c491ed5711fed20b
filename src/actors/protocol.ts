import { Type, type Static } from '@sinclair/typebox';
import { lazyCheck } from '../domain/compiled-check.js';
import { ErrorCodes } from '../domain/errors.js';

/*
 * The contract between a tenant actor and its parent (the supervisor).
 *
 * Two halves: the behaviour interface an actor implements (`ActorBehavior`), and the wire messages the
 * runtime and the parent exchange over a transport (worker thread, child process or in-process). The wire
 * messages are TypeBox schemas; both ends receive `unknown` and narrow it with `parseDownMessage` /
 * `parseUpMessage` before switching on `type`.
 */

// ---------------------------------------------------------------------------------------------------
// Behaviour interface (implemented by src/actors/session-actor.ts and the test fixtures)
// ---------------------------------------------------------------------------------------------------

export interface ActorContext<E> {
  tenantId: string;
  /** Send an event to the parent (supervisor). */
  emit(event: E): void;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void; debug(obj: object, msg: string): void };
  /**
   * Ask for a normal exit (e.g. after logout). The runtime finishes the command in progress, refuses the
   * queued ones with WA_ACTOR_STOPPED, calls `stop(reason)`, and the supervisor does not restart the
   * actor: its status becomes `stopped` with this reason. Always present at run time; optional so that
   * hand-made contexts in tests need not provide it.
   */
  requestStop?(reason: string): void;
}

export interface ActorBehavior<C, R, E> {
  /** Called once after the actor starts; the actor counts as ready when it resolves. */
  start(ctx: ActorContext<E>): Promise<void>;
  /** One command at a time, in mailbox order. Throwing an AppError replies with that error; any other throw crashes the actor ("let it crash"). */
  handle(command: C): Promise<R>;
  /** Graceful stop (idempotent); the runtime kills the actor if this exceeds the stop timeout. */
  stop(reason: string): Promise<void>;
  /**
   * Optional: a notice from the parent (`ActorRef.tell`), taken the moment it arrives, outside the mailbox,
   * with no reply: for acknowledgements that must not queue behind a slow command. Synchronous; a throw
   * crashes the actor. Notices before `start` was called, or after the actor stopped, are dropped.
   */
  tell?(notice: unknown): void;
}

/** A behaviour module (loaded inside the worker/child by file path) exports this as its `default` export. */
export type BehaviorFactory<C, R, E> = (init: { tenantId: string; options: unknown }) => ActorBehavior<C, R, E>;

// ---------------------------------------------------------------------------------------------------
// Wire messages
// ---------------------------------------------------------------------------------------------------

export const ErrorDataSchema = Type.Object({
  code: Type.Union(Object.values(ErrorCodes).map((code) => Type.Literal(code))),
  message: Type.String(),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

export const ActorLogLevel = Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')]);
export type ActorLogLevel = Static<typeof ActorLogLevel>;

/** pino's numeric levels, so the runtime can drop records below the parent's level before sending. */
export const logLevelValues: Readonly<Record<ActorLogLevel, number>> = { debug: 20, info: 30, warn: 40, error: 50 };

// Parent -> actor.

export const InitMessage = Type.Object({
  type: Type.Literal('sys.init'),
  tenantId: Type.String({ minLength: 1 }),
  /** Absolute path or file URL of the behaviour module. */
  behaviorModule: Type.String({ minLength: 1 }),
  options: Type.Optional(Type.Unknown()),
  /** The same bound the parent enforces; the runtime checks it again as a second wall. */
  mailboxSize: Type.Integer({ minimum: 1 }),
  /** Bound on the best-effort `stop()` the runtime runs before exiting after a crash. */
  stopTimeoutMs: Type.Integer({ minimum: 0 }),
  /** Records below this pino level are not sent at all (Infinity: silent). */
  minLogLevel: Type.Number(),
});
export const PingMessage = Type.Object({ type: Type.Literal('sys.ping'), seq: Type.Integer({ minimum: 1 }) });
export const StopMessage = Type.Object({ type: Type.Literal('sys.stop'), reason: Type.String() });
export const CallMessage = Type.Object({
  type: Type.Literal('call'),
  id: Type.Integer({ minimum: 1 }),
  /** Epoch ms after which nobody waits for the reply: the runtime skips the command if it is still queued. */
  deadline: Type.Number(),
  command: Type.Optional(Type.Unknown()),
});

/** A one-way notice for `ActorBehavior.tell`: no id, no deadline, no reply. */
export const TellMessage = Type.Object({ type: Type.Literal('tell'), notice: Type.Optional(Type.Unknown()) });

export const DownMessage = Type.Union([InitMessage, PingMessage, StopMessage, CallMessage, TellMessage]);
export type InitMessage = Static<typeof InitMessage>;
export type CallMessage = Static<typeof CallMessage>;
export type DownMessage = Static<typeof DownMessage>;

// Actor -> parent.

export const ReadyMessage = Type.Object({ type: Type.Literal('sys.ready') });
export const PongMessage = Type.Object({ type: Type.Literal('sys.pong'), seq: Type.Integer({ minimum: 1 }) });
export const StoppedMessage = Type.Object({ type: Type.Literal('sys.stopped') });
/** The actor asks for a normal exit (`ActorContext.requestStop`). */
export const ExitRequestMessage = Type.Object({ type: Type.Literal('sys.exit'), reason: Type.String() });
/** `fatal`: the actor is going down (crash or failed start) and exits right after. */
export const ErrorMessage = Type.Object({ type: Type.Literal('sys.error'), fatal: Type.Boolean(), error: ErrorDataSchema });
export const LogMessage = Type.Object({
  type: Type.Literal('sys.log'),
  level: ActorLogLevel,
  msg: Type.String(),
  obj: Type.Record(Type.String(), Type.Unknown()),
});
export const ReplyMessage = Type.Union([
  Type.Object({ type: Type.Literal('reply'), id: Type.Integer({ minimum: 1 }), ok: Type.Literal(true), value: Type.Optional(Type.Unknown()) }),
  Type.Object({ type: Type.Literal('reply'), id: Type.Integer({ minimum: 1 }), ok: Type.Literal(false), error: ErrorDataSchema }),
]);
export const EventMessage = Type.Object({ type: Type.Literal('evt'), event: Type.Optional(Type.Unknown()) });

export const UpMessage = Type.Union([
  ReadyMessage,
  PongMessage,
  StoppedMessage,
  ExitRequestMessage,
  ErrorMessage,
  LogMessage,
  ReplyMessage,
  EventMessage,
]);
export type ReplyMessage = Static<typeof ReplyMessage>;
export type UpMessage = Static<typeof UpMessage>;

// Compiled once, on first use: every message on every channel goes through these checks, and each side
// runs only one of them (an actor the first, the node the second).
const isDownMessage = lazyCheck(DownMessage);
const isUpMessage = lazyCheck(UpMessage);

/** Narrow a message received by the actor; `undefined` when it is not a valid parent message. */
export function parseDownMessage(raw: unknown): DownMessage | undefined {
  return isDownMessage(raw) ? raw : undefined;
}

/** Narrow a message received by the parent; `undefined` when it is not a valid actor message. */
export function parseUpMessage(raw: unknown): UpMessage | undefined {
  return isUpMessage(raw) ? raw : undefined;
}
