/**
 * At most `size` deliveries in flight: `admit` hands one in and resolves at once while there is room,
 * or when one of those in flight has settled. Waiters queue in order. One handler per delivery and one
 * per waiter: `Promise.race` over the deliveries in flight would instead attach a handler to every one
 * of them per waiter, which kept hundreds of thousands of promise reactions alive under a backlog and
 * ran a 64 MB actor out of memory.
 */
export class DeliveryWindow {
  readonly #size: number;
  readonly #waiters: (() => void)[] = [];
  #inFlight = 0;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`window size must be a positive integer, got ${size}`);
    this.#size = size;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Counts `delivery` in flight until it settles (fulfilled or rejected); waits while the window is full. */
  async admit(delivery: Promise<unknown>): Promise<void> {
    this.#inFlight += 1;
    const release = (): void => {
      this.#inFlight -= 1;
      this.#waiters.shift()?.();
    };
    delivery.then(release, release);
    if (this.#inFlight > this.#size) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}
