import type { UpMessage } from '../protocol.js';

/**
 * The actor's end of a transport: all the runtime knows about where it runs (worker thread, child
 * process, or the parent's own thread in tests).
 */
export interface ActorPort {
  /** Send to the parent. Throws (DataCloneError) when the message cannot be serialised. */
  post(message: UpMessage): void;
  onMessage(listener: (message: unknown) => void): void;
  /** End the actor after the messages already posted have been handed over. */
  exit(code: number): void;
}
