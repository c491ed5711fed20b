import { describe, expect, it } from 'vitest';
import { CodeCache } from '../../../src/supervisor/code-cache.js';

describe('CodeCache', () => {
  it('holds nothing until an offer, then keeps the first offer in shared memory', () => {
    const cache = new CodeCache();
    expect(cache.current).toBeUndefined();
    cache.keep(new Uint8Array([1, 2, 3]));
    cache.keep(new Uint8Array([9, 9, 9, 9]));
    expect(cache.current).toBeInstanceOf(SharedArrayBuffer);
    expect([...new Uint8Array(cache.current as SharedArrayBuffer)]).toEqual([1, 2, 3]);
    expect(cache.stats().bytes).toBe(3);
  });

  it('counts how the workers compiled', () => {
    const cache = new CodeCache();
    for (const result of ['none', 'hit', 'hit', 'rejected'] as const) cache.count(result);
    expect(cache.stats()).toEqual({ hits: 2, rejected: 1, misses: 1, bytes: 0 });
  });
});
