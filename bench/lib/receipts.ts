/**
 * What a receiving process of the inbound bench records: messages received, repeats, and for bench
 * bodies `<tag>:<seq>:<sentAtMs>` of the current run their seq and end-to-end latency (wall clock, the
 * same clock the sender stamps). Who counts as having seen a message already (one set per socket, or one
 * for the process) is the receiver's business: it passes the verdict.
 */
export class Receipts {
  #received = 0;
  #duplicates = 0;
  #latencies: number[] = [];
  #seqs: number[] = [];
  #lastReceipt = 0;
  #tag = '';

  /** Starts a measurement: counters reset, bench bodies with this tag tracked. */
  reset(tag: string): void {
    this.#received = 0;
    this.#duplicates = 0;
    this.#latencies = [];
    this.#seqs = [];
    this.#tag = tag;
  }

  record(body: unknown, repeated: boolean): void {
    const now = performance.timeOrigin + performance.now();
    this.#received++;
    this.#lastReceipt = now;
    if (repeated) this.#duplicates++;
    if (this.#tag !== '' && typeof body === 'string' && body.startsWith(`${this.#tag}:`)) {
      const [, seq, sent] = body.split(':');
      this.#seqs.push(Number(seq));
      this.#latencies.push(now - Number(sent));
    }
  }

  report(): { received: number; duplicates: number; latencies: number[]; seqs: number[]; lastReceipt: number } {
    return { received: this.#received, duplicates: this.#duplicates, latencies: this.#latencies, seqs: this.#seqs, lastReceipt: this.#lastReceipt };
  }
}
