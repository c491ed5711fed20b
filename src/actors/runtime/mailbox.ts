/** A bounded FIFO queue: `push` refuses instead of growing past `capacity`. */
export class Mailbox<T> {
  private readonly items: T[] = [];

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.length;
  }

  /** Returns false, and keeps nothing, when the mailbox is full. */
  push(item: T): boolean {
    if (this.items.length >= this.capacity) return false;
    this.items.push(item);
    return true;
  }

  shift(): T | undefined {
    return this.items.shift();
  }

  /** Remove and return everything queued. */
  takeAll(): T[] {
    return this.items.splice(0, this.items.length);
  }
}
