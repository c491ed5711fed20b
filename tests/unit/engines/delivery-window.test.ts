import { describe, expect, it } from 'vitest';
import { DeliveryWindow } from '../../../src/actors/engines/delivery-window.js';

function deferred(): { promise: Promise<void>; resolve(): void; reject(err: Error): void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** Flags whether `p` settled by the time the microtask queue has run. */
async function settledNow(p: Promise<void>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('DeliveryWindow', () => {
  it('admits up to its size at once, then waits until a delivery settles', async () => {
    const window = new DeliveryWindow(3);
    const deliveries = [deferred(), deferred(), deferred(), deferred()];
    for (const d of deliveries.slice(0, 3)) expect(await settledNow(window.admit(d.promise))).toBe(true);
    const fourth = window.admit((deliveries[3] as ReturnType<typeof deferred>).promise);
    expect(await settledNow(fourth)).toBe(false);
    expect(window.inFlight).toBe(4);
    (deliveries[1] as ReturnType<typeof deferred>).resolve();
    expect(await settledNow(fourth)).toBe(true);
    expect(window.inFlight).toBe(3);
  });

  it('counts a rejected delivery as settled', async () => {
    const window = new DeliveryWindow(1);
    const first = deferred();
    await window.admit(first.promise);
    const second = window.admit(new Promise(() => undefined));
    expect(await settledNow(second)).toBe(false);
    first.reject(new Error('not stored'));
    await first.promise.catch(() => undefined);
    expect(await settledNow(second)).toBe(true);
  });

  it('wakes waiters in the order they came', async () => {
    const window = new DeliveryWindow(1);
    const blocker = deferred();
    await window.admit(blocker.promise);
    const order: number[] = [];
    const a = window.admit(new Promise(() => undefined)).then(() => order.push(1));
    blocker.resolve();
    await a;
    expect(order).toEqual([1]);
    expect(window.inFlight).toBe(1);
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => new DeliveryWindow(0)).toThrow(RangeError);
    expect(() => new DeliveryWindow(1.5)).toThrow(RangeError);
  });
});
