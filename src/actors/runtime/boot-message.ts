/**
 * What worker-boot.cts tells its worker transport about the V8 code cache, before any message of the
 * actor protocol (the transport takes these; the ActorRef never sees them, and the transport stops
 * looking for them at the actor's first message).
 * - `code-cache.result`, from an actor's worker right after the bundle compiled: `hit` (compiled from the
 *   cache it was given), `rejected` (V8 refused that cache: other V8 version or flags; compiled from
 *   source), `none` (no cache yet: compiled from source).
 * - `code-cache.offer`, from the node's warm-up worker only: the cache of the bundle after its top level
 *   ran. That worker runs no actor, so no tenant's code path has touched what every actor then runs.
 */
export type BootMessage =
  | { type: 'code-cache.result'; result: 'hit' | 'rejected' | 'none' }
  | { type: 'code-cache.offer'; data: Uint8Array };

/** What a worker started by worker-boot.cts receives as workerData. */
export interface BootData {
  /** Absolute path of actor-bundle.cjs. */
  bundle: string;
  /** The node's code cache for the bundle, shared with every worker (not copied). */
  codeCache?: SharedArrayBuffer;
  /** Compile and run the bundle's top level, offer the code cache, exit: no actor. */
  warmUp?: boolean;
}

export function parseBootMessage(message: unknown): BootMessage | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as { type?: unknown; result?: unknown; data?: unknown };
  if (m.type === 'code-cache.result' && (m.result === 'hit' || m.result === 'rejected' || m.result === 'none')) {
    return { type: m.type, result: m.result };
  }
  if (m.type === 'code-cache.offer' && m.data instanceof Uint8Array) return { type: m.type, data: m.data };
  return undefined;
}
