/** How the actor workers of this node compiled their code (see src/actors/runtime/worker-boot.cts). */
export interface CodeCacheStats {
  /** Workers that compiled from the node's cache. */
  hits: number;
  /** Workers whose cache V8 refused (they compiled from source). */
  rejected: number;
  /** Workers started before the node had a cache (they compiled from source). */
  misses: number;
  /** Size of the cache the node holds; 0 until the warm-up worker has offered one. */
  bytes: number;
}

/**
 * The node's V8 code cache for the actor bundle: empty until the warm-up worker offers one, then shared
 * (one SharedArrayBuffer) with every worker started after. Only the warm-up's offer is kept (host.ts
 * wires the actors' workers to `count` alone), and only the first.
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

  keep(data: Uint8Array): void {
    if (this.data !== undefined) return;
    const shared = new SharedArrayBuffer(data.byteLength);
    new Uint8Array(shared).set(data);
    this.data = shared;
    this.counts.bytes = shared.byteLength;
  }

  count(result: 'hit' | 'rejected' | 'none'): void {
    if (result === 'hit') this.counts.hits += 1;
    else if (result === 'rejected') this.counts.rejected += 1;
    else this.counts.misses += 1;
  }
}
