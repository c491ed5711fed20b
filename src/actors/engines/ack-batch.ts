/** Most ids in one `delivery.acks` frame (the simulator's limit). */
export const MAX_ACKS_PER_FRAME = 1_000;

/**
 * Delivery acks sent together. A stored batch confirms many messages in one turn of the event loop, and
 * each ack used to leave as its own frame: a socket write here, a parse and a check on the network's
 * side, per message. Ids added in one turn go out at its end (setImmediate) in one call of `send`, at
 * most MAX_ACKS_PER_FRAME ids each; ids for another connection first flush those of the previous one.
 * An ack that never leaves (the socket closed first) only means a redelivery, which the store ignores.
 */
export class AckBatch<C> {
  readonly #send: (conn: C, ids: string[]) => void;
  #conn: C | null = null;
  #ids: string[] = [];

  constructor(send: (conn: C, ids: string[]) => void) {
    this.#send = send;
  }

  add(conn: C, id: string): void {
    if (this.#conn !== null && this.#conn !== conn) this.flush();
    if (this.#conn === null) {
      this.#conn = conn;
      setImmediate(() => this.flush());
    }
    this.#ids.push(id);
  }

  /** Sends what is waiting now (a stopping engine calls it before it closes the socket). */
  flush(): void {
    const conn = this.#conn;
    const ids = this.#ids;
    this.#conn = null;
    this.#ids = [];
    if (conn === null) return;
    for (let i = 0; i < ids.length; i += MAX_ACKS_PER_FRAME) this.#send(conn, ids.slice(i, i + MAX_ACKS_PER_FRAME));
  }
}
