import type { BootMessage } from '../actors/runtime/boot-message.js';

/** How the actor workers of this node compiled their code (see src/actors/runtime/worker-boot.cts). */
export interface CodeCacheStats {
  /** Workers that compiled from the node's cache. */
  hits: number;
  /** Workers whose cache V8 refused (they compiled from source). */
  rejected: number;
  /** Workers started before the node had a cache (they compiled from source). */
  misses: number;
  /** Size of the cache the node holds; 0 until the first worker offers one. */
  bytes: number;
}

/**
 * The node's V8 code cache for the actor bundle: empty until the first worker offers one, then shared
 * (one SharedArrayBuffer) with every worker started after. The first offer is kept: every offer is a
 * cache of the same bundle, compiled by the same V8.
 */
export class CodeCache {
  private data: SharedArrayBuffer | undefined;
  private readonly counts: CodeCacheStats = { hits: 0, rejected: 0, misses: 0, bytes: 0 };

  /** What to give the next worker. */
  get current(): SharedArrayBuffer | undefined {
    return this.data;
  }

  stats(): CodeCacheStats {
    return { ...this.counts };
  }

  receive(message: BootMessage): void {
    if (message.type === 'code-cache.offer') {
      if (this.data !== undefined) return;
      const shared = new SharedArrayBuffer(message.data.byteLength);
      new Uint8Array(shared).set(message.data);
      this.data = shared;
      this.counts.bytes = shared.byteLength;
      return;
    }
    if (message.result === 'hit') this.counts.hits += 1;
    else if (message.result === 'rejected') this.counts.rejected += 1;
    else this.counts.misses += 1;
  }
}
