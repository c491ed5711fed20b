import { describe, expect, it } from 'vitest';
import { SingleFlight } from '../../../src/domain/single-flight.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SingleFlight', () => {
  it('runs the load once for concurrent callers of one key, and again once it settled', async () => {
    const flights = new SingleFlight<number>();
    const gate = deferred<number>();
    let loads = 0;
    const load = () => {
      loads++;
      return gate.promise;
    };
    const a = flights.run('k', load);
    const b = flights.run('k', load);
    expect(flights.has('k')).toBe(true);
    gate.resolve(7);
    expect(await Promise.all([a, b])).toEqual([7, 7]);
    expect(loads).toBe(1);
    expect(flights.size).toBe(0);
    expect(await flights.run('k', async () => ++loads)).toBe(2);
  });

  it('keeps keys apart', async () => {
    const flights = new SingleFlight<string>();
    const [a, b] = await Promise.all([flights.run('a', async () => 'A'), flights.run('b', async () => 'B')]);
    expect([a, b]).toEqual(['A', 'B']);
  });

  it('gives every caller the failure, and forgets it', async () => {
    const flights = new SingleFlight<number>();
    const gate = deferred<number>();
    const a = flights.run('k', () => gate.promise);
    const b = flights.run('k', () => gate.promise);
    gate.reject(new Error('down'));
    await expect(a).rejects.toThrow('down');
    await expect(b).rejects.toThrow('down');
    expect(flights.size).toBe(0);
    expect(await flights.run('k', async () => 1)).toBe(1);
  });

  it('turns a load that throws at once into a rejection', async () => {
    const flights = new SingleFlight<number>();
    await expect(
      flights.run('k', () => {
        throw new Error('bad');
      }),
    ).rejects.toThrow('bad');
  });
});
