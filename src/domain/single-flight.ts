/**
 * Concurrent callers asking for the same key share one run of the load while it is in flight: when a
 * hot cache entry is missing, 64 requests at once make one database read, not 64. Callers that must not
 * share an older read (one that began before an invalidation) put a generation number in the key.
 */
export class SingleFlight<V> {
  readonly #inflight = new Map<string, Promise<V>>();

  run(key: string, load: () => Promise<V>): Promise<V> {
    const running = this.#inflight.get(key);
    if (running !== undefined) return running;
    // Started at once, like a direct call; a load that throws becomes a rejection.
    let started: Promise<V>;
    try {
      started = load();
    } catch (err) {
      started = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const flight = started.finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, flight);
    return flight;
  }

  has(key: string): boolean {
    return this.#inflight.has(key);
  }

  get size(): number {
    return this.#inflight.size;
  }
}
