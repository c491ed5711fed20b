import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/domain/clock.js';
import type { LeaseStore } from '../../../src/supervisor/leases/lease-store.js';
import { createMemoryLeaseStore } from '../../../src/supervisor/leases/memory-lease-store.js';
import { createRedisLeaseStore } from '../../../src/supervisor/leases/redis-lease-store.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../../helpers/redis.js';

/** One suite, run against every LeaseStore implementation. */
function leaseStoreContract(name: string, make: () => LeaseStore) {
  describe(`lease store contract: ${name}`, () => {
    let store: LeaseStore;
    beforeAll(() => {
      store = make();
    });
    let n = 0;
    const tenant = (): string => `tenant-${n++}`;

    it('gives a free lease to one node with an epoch at least the floor, and refuses the others', async () => {
      const t = tenant();
      const epoch = await store.acquire(t, 'a', 10_000, 7);
      expect(epoch).toBe(7);
      expect(await store.acquire(t, 'b', 10_000, 1)).toBeNull();
      const [holder] = await store.holders([t]);
      expect(holder).toMatchObject({ nodeId: 'a', epoch: 7 });
      expect(holder?.ttlMs).toBeGreaterThan(0);
    });

    it('moves the epoch forward on every new holder', async () => {
      const t = tenant();
      const first = await store.acquire(t, 'a', 10_000, 1);
      expect(await store.release(t, 'a', first ?? 0)).toBe(true);
      const second = await store.acquire(t, 'b', 10_000, 1);
      expect(second).toBeGreaterThan(first ?? Infinity);
    });

    it('lets the same node id take its lease again with a new epoch (a restarted process)', async () => {
      const t = tenant();
      const first = await store.acquire(t, 'a', 10_000, 1);
      const again = await store.acquire(t, 'a', 10_000, 1);
      expect(again).toBeGreaterThan(first ?? Infinity);
      expect(await store.renew('a', [{ tenantId: t, epoch: first ?? 0 }], 10_000)).toEqual([false]);
    });

    it('renews and releases only for the holder with its epoch', async () => {
      const t = tenant();
      const other = tenant();
      const epoch = (await store.acquire(t, 'a', 10_000, 1)) ?? 0;
      expect(await store.renew('a', [{ tenantId: t, epoch }, { tenantId: other, epoch: 1 }], 10_000)).toEqual([true, false]);
      expect(await store.renew('b', [{ tenantId: t, epoch }], 10_000)).toEqual([false]);
      expect(await store.release(t, 'b', epoch)).toBe(false);
      expect(await store.release(t, 'a', epoch + 1)).toBe(false);
      expect(await store.release(t, 'a', epoch)).toBe(true);
      expect(await store.holders([t, other])).toEqual([null, null]);
    });

    it('lets a lease expire after its TTL, after which another node takes it', async () => {
      const t = tenant();
      const first = (await store.acquire(t, 'a', 100, 1)) ?? 0;
      for (;;) {
        if ((await store.holders([t]))[0] === null) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await store.renew('a', [{ tenantId: t, epoch: first }], 10_000)).toEqual([false]);
      expect(await store.acquire(t, 'b', 10_000, 1)).toBeGreaterThan(first);
    });

    it('answers for many tenants at once', async () => {
      const ids = Array.from({ length: 450 }, tenant);
      for (const id of ids.slice(0, 300)) await store.acquire(id, 'a', 10_000, 1);
      const holders = await store.holders(ids);
      expect(holders.filter((h) => h !== null)).toHaveLength(300);
      const renewed = await store.renew('a', ids.slice(0, 300).map((tenantId) => ({ tenantId, epoch: 1 })), 10_000);
      expect(renewed.every(Boolean)).toBe(true);
    });
  });
}

leaseStoreContract('memory', () => createMemoryLeaseStore({ clock: systemClock }));

describe('redis', () => {
  const prefix = uniquePrefix('leases');
  const redis = new Redis(TEST_REDIS_URL);
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });
  leaseStoreContract('redis', () => createRedisLeaseStore({ redis, prefix }));

  it('never hands out an epoch the store has seen, even after Redis lost its counters', async () => {
    const store = createRedisLeaseStore({ redis, prefix });
    const epoch = (await store.acquire('flushed', 'a', 10_000, 1)) ?? 0;
    await store.release('flushed', 'a', epoch);
    await redis.del(`${prefix}epoch:flushed`);
    // The floor is PostgreSQL's epoch + 1: the counter jumps to it.
    expect(await store.acquire('flushed', 'b', 10_000, epoch + 1)).toBe(epoch + 1);
  });
});
