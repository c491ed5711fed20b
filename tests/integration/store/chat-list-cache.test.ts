import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/domain/clock.js';
import type { Chat } from '../../../src/domain/types.js';
import postgres from 'postgres';
import { CHAT_LISTS_CHANNEL, createChatListCache, type ChatListCache } from '../../../src/store/chat-list-cache.js';
import { createMessageRepo } from '../../../src/store/messages.js';
import { createStore } from '../../../src/store/store.js';
import type { Store } from '../../../src/store/types.js';
import { TEST_DATABASE_URL, createTestDatabase, seedTenant, type SeededTenant, type TestDatabase } from '../../helpers/db.js';

/** Polls `check` until it holds (notifications arrive asynchronously), failing after 5 s. */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`not reached within 5 s: ${what}`);
}

const chat = (id: string, name: string, at: string): Chat => ({ id, name, isGroup: false, unreadCount: 0, lastMessageAt: at, lastMessagePreview: null });

/**
 * The chat-list cache on the real PostgreSQL: lists come from memory until the database notifies a change
 * (migration 005's trigger), on this node or any other; without its listening connection it serves
 * nothing from memory.
 */
describe('chat list cache', () => {
  let db: TestDatabase;
  let cache: ChatListCache;
  let store: Store;
  let other: Store; // a second node's store on the same schema, without a cache: writes only
  let tenant: SeededTenant;
  let employeeId: string;
  let beacon: SeededTenant; // a tenant only heardSoFar writes to
  let beacons = 0;

  /**
   * Waits until this node has heard every change committed so far. Notifications arrive in commit order:
   * once a fresh write to the beacon tenant is heard, every earlier one (a seed's, say) has been too, and
   * cannot drop a list read after this returns.
   */
  async function heardSoFar(): Promise<void> {
    const id = `4971${String(++beacons).padStart(8, '0')}@c.us`;
    await other.chats.upsertMany(beacon.tenantId, [chat(id, 'Beacon', new Date().toISOString())]);
    await until(async () => (await store.chats.listAll(beacon.tenantId)).some((c) => c.id === id), `beacon ${id} heard`);
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    // Entries outlive every test here (no expiry, no refresh ahead): only notifications drop a list.
    cache = await createChatListCache({ url: TEST_DATABASE_URL, schema: db.schema, log: db.log, clock: systemClock, retryMs: 20, maxAgeMs: 600_000 });
    store = createStore(db.sql, { close: async () => undefined, chatListCache: cache });
    other = db.store;
    tenant = await seedTenant(other, { employees: 1, chats: 3 });
    employeeId = (tenant.employees[0] as { id: string }).id;
    for (const c of tenant.chats.slice(0, 2)) await other.permissions.assign(tenant.tenantId, employeeId, c.id);
    beacon = await seedTenant(other);
  });
  afterAll(async () => {
    await cache?.close();
    await db?.close();
  });

  it('answers a repeated read from memory', async () => {
    expect(cache.live).toBe(true);
    await heardSoFar(); // the seed's own notifications would drop what is read before they land
    const first = await store.chats.listAll(tenant.tenantId);
    expect(first).toHaveLength(3);
    expect(await store.chats.listAll(tenant.tenantId)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    const mine = await store.chats.listForUser(tenant.tenantId, employeeId);
    expect(mine.map((c) => c.id).sort()).toEqual(tenant.chats.slice(0, 2).map((c) => c.id).sort());
    expect(await store.chats.listForUser(tenant.tenantId, employeeId)).toBe(mine);
  });

  it('shows a chat written by another node on the next read after the commit', async () => {
    const before = await store.chats.listAll(tenant.tenantId);
    await other.chats.upsertMany(tenant.tenantId, [chat('4970000000001@c.us', 'New contact', new Date().toISOString())]);
    await until(async () => (await store.chats.listAll(tenant.tenantId)).some((c) => c.id === '4970000000001@c.us'), 'the new chat listed');
    expect(await store.chats.listAll(tenant.tenantId)).not.toBe(before);
  });

  it('shows a message another node stored (its batch announces the change after its commit)', async () => {
    // A cache whose clock stands still: nothing expires or refreshes, only a notification drops a list.
    const frozen = await createChatListCache({ url: TEST_DATABASE_URL, schema: db.schema, log: db.log, clock: { now: () => 0 } });
    const reader = createStore(db.sql, { close: async () => undefined, chatListCache: frozen });
    try {
      const t = await seedTenant(other, { chats: 1 });
      // Notifications arrive in commit order: once this rename is heard, the seed's are too.
      const chatId = (t.chats[0] as Chat).id;
      await other.chats.upsertMany(t.tenantId, [chat(chatId, 'Settled', new Date(Date.now() - 60_000).toISOString())]);
      await until(async () => (await reader.chats.listAll(t.tenantId))[0]?.name === 'Settled', 'the seed heard');
      const cached = await reader.chats.listAll(t.tenantId);
      expect(await reader.chats.listAll(t.tenantId)).toBe(cached);
      const message = { id: `m-${randomUUID()}`, chatId, from: chatId, fromMe: false, body: 'fresh news', timestamp: new Date().toISOString(), type: 'chat' as const, hasMedia: false, ack: 1 as const };
      await other.messages.insertMany(t.tenantId, [message]);
      await until(async () => (await reader.chats.listAll(t.tenantId))[0]?.lastMessagePreview === 'fresh news', 'the new message heard');
    } finally {
      await frozen.close();
    }
  });

  it('leaves the NOTIFY of an ingest batch to the node: its transaction sends none (migration 006)', async () => {
    const [deferred, direct] = [await seedTenant(other, { chats: 1 }), await seedTenant(other)];
    // A message repo whose after-commit announcement does nothing: only the transaction could notify.
    const silent = createMessageRepo(db.sql, undefined, () => undefined);
    const chatId = (deferred.chats[0] as Chat).id;
    const heard: string[] = [];
    const listener = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });
    try {
      await listener.listen(CHAT_LISTS_CHANNEL, (payload) => heard.push(payload));
      const stored = await silent.insertMany(deferred.tenantId, [
        { id: `m-${randomUUID()}`, chatId, from: chatId, fromMe: false, body: 'quiet', timestamp: new Date().toISOString(), type: 'chat', hasMedia: false, ack: 1 },
        { id: `m-${randomUUID()}`, chatId: '4970000000011@c.us', from: '4970000000011@c.us', fromMe: false, body: 'new chat', timestamp: new Date().toISOString(), type: 'chat', hasMedia: false, ack: 1 },
      ]);
      expect(stored).toHaveLength(2); // an updated chat and a created one: both would fire the trigger
      await db.sql`INSERT INTO chats (tenant_id, id) VALUES (${direct.tenantId}, '4970000000012@c.us')`;
      // Notifications arrive in commit order: once the second one is here, the first would have been too.
      await until(() => heard.includes(`${db.schema}/${direct.tenantId}`), 'the direct write heard');
      expect(heard).not.toContain(`${db.schema}/${deferred.tenantId}`);
    } finally {
      await listener.end();
    }
  });

  it('drops a revoked chat from the employee list as soon as the revoke commits', async () => {
    const revoked = tenant.chats[0] as Chat;
    expect((await store.chats.listForUser(tenant.tenantId, employeeId)).some((c) => c.id === revoked.id)).toBe(true);
    await other.permissions.revoke(tenant.tenantId, employeeId, revoked.id);
    await until(async () => !(await store.chats.listForUser(tenant.tenantId, employeeId)).some((c) => c.id === revoked.id), 'the revoked chat gone');
  });

  it('reads its own writes at once, without waiting for the notification', async () => {
    const kept = tenant.chats[1] as Chat;
    await heardSoFar();
    expect((await store.chats.listForUser(tenant.tenantId, employeeId)).some((c) => c.id === kept.id)).toBe(true);
    await store.permissions.revoke(tenant.tenantId, employeeId, kept.id);
    expect((await store.chats.listForUser(tenant.tenantId, employeeId)).some((c) => c.id === kept.id)).toBe(false);
    await store.permissions.assign(tenant.tenantId, employeeId, kept.id);
    expect((await store.chats.listForUser(tenant.tenantId, employeeId)).some((c) => c.id === kept.id)).toBe(true);
    await store.chats.upsertMany(tenant.tenantId, [{ ...kept, name: 'Renamed here' }]);
    expect((await store.chats.listAll(tenant.tenantId)).find((c) => c.id === kept.id)?.name).toBe('Renamed here');
  });

  it('keeps the lists of a tenant that did not change', async () => {
    const quiet = await seedTenant(other, { chats: 2 });
    await heardSoFar();
    const list = await store.chats.listAll(quiet.tenantId);
    await other.chats.upsertMany(tenant.tenantId, [chat('4970000000002@c.us', 'Noise', new Date().toISOString())]);
    await until(async () => (await store.chats.listAll(tenant.tenantId)).some((c) => c.id === '4970000000002@c.us'), 'the busy tenant changed');
    expect(await store.chats.listAll(quiet.tenantId)).toBe(list);
  });

  it('does not keep a read that was running when a change committed', async () => {
    const t = await seedTenant(other, { chats: 1 });
    await heardSoFar();
    // The tenant's cached list is the marker: a new array means this node has heard the change.
    const marker = await store.chats.listAll(t.tenantId);
    let loads = 0;
    let release: (chats: Chat[]) => void = () => undefined;
    const slow = cache.get(t.tenantId, 'probe', () => {
      loads++;
      return new Promise<Chat[]>((resolve) => (release = resolve));
    });
    await other.chats.upsertMany(t.tenantId, [chat('4970000000003@c.us', 'Racing', new Date().toISOString())]);
    await until(async () => (await store.chats.listAll(t.tenantId)) !== marker, 'the change heard');
    release([]); // the read answers what it saw before the change
    expect(await slow).toEqual([]);
    const fresh = await cache.get(t.tenantId, 'probe', async () => {
      loads++;
      return [];
    });
    expect(fresh).toEqual([]);
    expect(loads).toBe(2); // the stale answer was not kept
  });

  it('makes one read for concurrent misses of one list', async () => {
    const quiet = randomUUID(); // a tenant nobody writes to: no notification can split the reads
    let loads = 0;
    let release: (chats: Chat[]) => void = () => undefined;
    const load = () => {
      loads++;
      return new Promise<Chat[]>((resolve) => (release = resolve));
    };
    const readers = Array.from({ length: 32 }, () => cache.get(quiet, 'stampede', load));
    release([chat('4970000000009@c.us', 'Once', new Date().toISOString())]);
    const lists = await Promise.all(readers);
    expect(loads).toBe(1);
    for (const list of lists) expect(list).toBe(lists[0]);
    expect(await cache.get(quiet, 'stampede', load)).toBe(lists[0]);
    expect(loads).toBe(1);
  });

  it('reads a list in use again in the background after half its age, answering from memory meanwhile', async () => {
    let now = 0;
    const aging = await createChatListCache({ url: TEST_DATABASE_URL, schema: db.schema, log: db.log, clock: { now: () => now }, maxAgeMs: 1000 });
    try {
      const quiet = randomUUID();
      const v1 = [chat('4970000000010@c.us', 'v1', new Date().toISOString())];
      const v2 = [chat('4970000000010@c.us', 'v2', new Date().toISOString())];
      let loads = 0;
      let release: (chats: Chat[]) => void = () => undefined;
      const load = () => {
        loads++;
        return loads === 1 ? Promise.resolve(v1) : new Promise<Chat[]>((resolve) => (release = resolve));
      };
      expect(await aging.get(quiet, 'k', load)).toBe(v1);
      now = 400;
      expect(await aging.get(quiet, 'k', load)).toBe(v1);
      expect(loads).toBe(1); // young: no refresh
      now = 600;
      expect(await aging.get(quiet, 'k', load)).toBe(v1); // answered at once, still within its age
      expect(await aging.get(quiet, 'k', load)).toBe(v1);
      expect(loads).toBe(2); // one refresh went out, not one per read
      release(v2);
      await until(async () => (await aging.get(quiet, 'k', load)) === v2, 'the refreshed list served');
      expect(loads).toBe(2);
    } finally {
      await aging.close();
    }
  });

  it('reads the database while its listening connection is gone, and caches again once it is back', async () => {
    const list = await store.chats.listAll(tenant.tenantId);
    expect(await store.chats.listAll(tenant.tenantId)).toBe(list);
    await db.sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query ILIKE 'LISTEN wa_chat_lists%' AND pid <> pg_backend_pid()`;
    await until(() => !cache.live || cache.size === 0, 'the lost connection noticed');
    // Whatever happens now is read from the database: nothing stale is served.
    const meanwhile = await store.chats.listAll(tenant.tenantId);
    expect(meanwhile).not.toBe(list);
    expect(meanwhile.map((c) => c.id)).toEqual(list.map((c) => c.id));
    await until(() => cache.live, 'listening again');
    const again = await store.chats.listAll(tenant.tenantId);
    expect(await store.chats.listAll(tenant.tenantId)).toBe(again);
  });
});
