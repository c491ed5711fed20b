import type { DownMessage } from '../actors/protocol.js';

/** How an actor ended, as the transport saw it. */
export interface TransportExit {
  code: number | null;
  signal: string | null;
  /** An error reported with the exit (worker 'error' event, out of memory detected on stderr). */
  error?: { code?: string; message: string };
}

/**
 * The parent's end of one actor: the only thing that differs between a worker thread, a child process
 * and the in-process stand-in used by tests. Everything above it (ActorRef, Supervisor) is shared.
 */
export interface Transport {
  readonly kind: 'in-process' | 'worker' | 'process';
  /** OS process id of a child process; undefined for the other kinds. */
  readonly pid: number | undefined;
  /** Worker thread id, -1 once the thread is gone; undefined for the other kinds. */
  readonly threadId: number | undefined;
  /** Deliver to the actor. Throws if the message cannot be serialised; dropped once the actor is gone. */
  send(message: DownMessage): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Called exactly once, after every message the actor sent has been delivered. */
  onExit(listener: (exit: TransportExit) => void): void;
  /** Kill at once (no cleanup in the actor); resolves when it is gone. Idempotent. */
  terminate(): Promise<void>;
}

export type SpawnTransport = () => Transport;

/** Listener lists and the once-only exit shared by the implementations. */
export class TransportEvents {
  private readonly messageListeners: Array<(message: unknown) => void> = [];
  private readonly exitListeners: Array<(exit: TransportExit) => void> = [];
  private exitInfo: TransportExit | undefined;
  private resolveGone!: () => void;
  /** Resolves when the exit has been emitted. */
  readonly gone = new Promise<void>((resolve) => {
    this.resolveGone = resolve;
  });

  get exited(): boolean {
    return this.exitInfo !== undefined;
  }

  onMessage(listener: (message: unknown) => void): void {
    this.messageListeners.push(listener);
  }

  onExit(listener: (exit: TransportExit) => void): void {
    this.exitListeners.push(listener);
  }

  message(message: unknown): void {
    if (this.exitInfo !== undefined) return;
    for (const listener of this.messageListeners) listener(message);
  }

  exit(info: TransportExit): void {
    if (this.exitInfo !== undefined) return;
    this.exitInfo = info;
    for (const listener of this.exitListeners) listener(info);
    this.resolveGone();
  }
}
