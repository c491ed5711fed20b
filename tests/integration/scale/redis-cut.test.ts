import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/domain/errors.js';
import type { Message } from '../../../src/domain/types.js';
import { api, phone } from '../../helpers/client.js';
import { linkTenant, overlappingConnections, startTestCluster, until, type LinkedTenant, type TestCluster } from '../../helpers/cluster.js';
import { startTcpProxy, type TcpProxy } from '../../helpers/redis.js';

// Long enough that a loaded machine still checks Redis between the actor's stop (2/3 TTL) and the expiry.
const TTL = 5_000;

/**
 * Node B reaches Redis through a proxy the test cuts: B cannot renew its leases, so it must stop its
 * actors while the leases are still its own in Redis (nobody else can start them yet); node A takes the
 * sessions over after the leases expire; B's late writes are refused by the store.
 */
describe('a node cut off from Redis', () => {
  let cluster: TestCluster;
  let proxy: TcpProxy;
  const tenants: LinkedTenant[] = [];
  const epochs = new Map<string, number>();

  beforeAll(async () => {
    cluster = await startTestCluster({ ttlMs: TTL });
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
    await cluster.startNode('node-a');
    const b = await cluster.startNode('node-b', { REDIS_URL: proxy.url('redis') });
    for (const name of ['Ana', 'Ben', 'Cid']) tenants.push(await linkTenant(b.url, cluster.simUrl, name));
    for (const t of tenants) {
      const lease = b.cluster?.leases.held(t.tenantId);
      if (lease === undefined) throw new Error('node B should hold every lease');
      epochs.set(t.tenantId, lease.epoch);
    }
  });
  afterAll(async () => {
    for (const t of tenants) t.socket.close();
    proxy?.heal();
    await cluster?.close();
    await proxy?.close();
  });

  it('stops its actors before its leases expire, then another node takes the sessions over', async () => {
    const b = cluster.node('node-b');
    const leaseKey = (tenantId: string): string => `${cluster.prefix}lease:${tenantId}`;
    proxy.cut();

    for (const t of tenants) {
      // The simulator sees B's connection end (the actor stopped its engine) ...
      await cluster.sim.until(() => cluster.sim.phone(t.number)?.online === false);
      // ... while Redis still says B holds the lease: nobody could have started the session elsewhere yet.
      const [value, pttl] = await Promise.all([cluster.redis.get(leaseKey(t.tenantId)), cluster.redis.pttl(leaseKey(t.tenantId))]);
      expect(value).toBe(`${epochs.get(t.tenantId)}:node-b`);
      expect(pttl).toBeGreaterThan(0);
      expect(b.cluster?.leases.held(t.tenantId)).toBeUndefined();
    }

    // Not ready while it cannot reach Redis: Kubernetes sends it no traffic; node A stays ready.
    expect((await api(b.url, 'GET', '/readyz')).status).toBe(503);
    expect((await api(cluster.node('node-a').url, 'GET', '/readyz')).status).toBe(200);

    // A message sent while nobody runs the session waits in the network, and arrives once, on A.
    const during = await phone(cluster.simUrl, 'POST', `/phones/${tenants[0]?.contact}/messages`, { to: tenants[0]?.number, body: 'sent during the cut' });
    expect(during.status).toBe(201);

    const a = cluster.node('node-a');
    for (const t of tenants) {
      await until(
        async () => {
          const s = await api<{ status: string; ownerNode: string }>(a.url, 'GET', '/api/whatsapp/status', { token: t.admin.accessToken });
          return s.body.status === 'connected' && s.body.ownerNode === 'node-a';
        },
        // Generous: this asserts who runs the session, not how fast (tests/e2e/scale measures that).
        { timeoutMs: TTL + 15_000, what: `tenant ${t.tenantId} connected on node A` },
      );
      expect(a.cluster?.leases.held(t.tenantId)?.epoch).toBeGreaterThan(epochs.get(t.tenantId) ?? Infinity);
    }
    const first = tenants[0] as LinkedTenant;
    await until(
      async () => {
        const page = await api<{ messages: Message[] }>(a.url, 'GET', `/api/chats/${first.contact}@c.us/messages`, { token: first.admin.accessToken });
        // 404 until the chat exists: the message creates it.
        return page.status === 200 && page.body.messages.some((m) => m.body === 'sent during the cut');
      },
      { timeoutMs: 15_000, what: 'the message sent during the cut to be stored' },
    );
    const rows = await cluster.sql`SELECT count(*)::int AS n FROM messages WHERE tenant_id = ${first.tenantId} AND body = 'sent during the cut'`;
    expect(rows[0]?.n).toBe(1);

    expect(cluster.sim.stats().conflicts).toBe(0);
    expect(await overlappingConnections(cluster.simUrl, tenants.map((t) => t.number))).toEqual([]);
  }, 60_000);

  it('refuses a write made with the epoch of the lease node B lost', async () => {
    const b = cluster.node('node-b');
    const t = tenants[1] as LinkedTenant;
    const stale = epochs.get(t.tenantId) ?? 0;
    const message: Message = {
      id: `stale-${Date.now()}`,
      chatId: `${t.contact}@c.us`,
      from: `${t.contact}@c.us`,
      fromMe: false,
      body: 'late write from the old owner',
      timestamp: new Date().toISOString(),
      type: 'chat',
      hasMedia: false,
      ack: 1,
    };
    await expect(b.store.messages.insertMany(t.tenantId, [message], { epoch: stale })).rejects.toMatchObject({ code: ErrorCodes.STALE_EPOCH });
    await expect(b.store.sessions.setStatus(t.tenantId, stale, 'disconnected', 'stale')).rejects.toMatchObject({ code: ErrorCodes.STALE_EPOCH });
    expect(await b.store.messages.find(t.tenantId, message.id)).toBeNull();
    const status = await b.store.sessions.get(t.tenantId);
    expect(status).toMatchObject({ status: 'connected', ownerNode: 'node-a' });
  });
});
