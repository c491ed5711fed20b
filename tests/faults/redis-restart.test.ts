import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/domain/types.js';
import { api, phone } from '../helpers/client.js';
import { linkTenant, overlappingConnections, startTestCluster, until, type LinkedTenant, type TestCluster } from '../helpers/cluster.js';
import { pool } from '../security/support/link.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';

/**
 * Redis is killed and comes back empty (no persistence) while two nodes run four sessions and messages
 * flow. Every lease is gone at once; the nodes must notice, stop what they can no longer prove they
 * own, and take the sessions again with newer epochs, never two owners of one WhatsApp account at a
 * time, and nothing lost or doubled. Redis here is a server of the test's own, not the shared one.
 */

const TTL = 3_000;

let redis: RedisServer;
let cluster: TestCluster;
const tenants: LinkedTenant[] = [];
const epochs = new Map<string, number>();

function holders(tenantId: string): string[] {
  return [...cluster.nodes].filter(([, node]) => node.cluster?.leases.held(tenantId) !== undefined).map(([id]) => id);
}

beforeAll(async () => {
  redis = await startRedisServer();
  cluster = await startTestCluster({ ttlMs: TTL });
  const a = await cluster.startNode('node-a', { REDIS_URL: redis.url });
  const b = await cluster.startNode('node-b', { REDIS_URL: redis.url });
  for (const [i, name] of ['Ana', 'Ben', 'Cid', 'Dee'].entries()) tenants.push(await linkTenant((i % 2 === 0 ? a : b).url, cluster.simUrl, name));
  for (const t of tenants) {
    const [holder] = holders(t.tenantId);
    epochs.set(t.tenantId, cluster.node(holder ?? '').cluster?.leases.held(t.tenantId)?.epoch ?? Infinity);
  }
}, 60_000);

afterAll(async () => {
  for (const t of tenants) t.socket.close();
  await cluster?.close();
  await redis?.stop();
});

describe('Redis restarted, empty, while sessions run', () => {
  it('re-acquires every lease with a newer epoch, one owner at a time, losing and doubling nothing', async () => {
    for (const t of tenants) expect(holders(t.tenantId)).toHaveLength(1);
    const ids: string[] = [];
    const send = (label: string) =>
      pool(
        tenants.map((t, i) => async () => {
          const res = await phone(cluster.simUrl, 'POST', `/phones/${t.contact}/messages`, { to: t.number, body: `${label} ${i}` });
          ids.push((res.body as { id: string }).id);
        }),
        4,
      );
    await send('before');
    await redis.restart();
    await send('during');

    for (const t of tenants) {
      await until(
        async () => {
          const owners = holders(t.tenantId);
          if (owners.length !== 1) return false;
          const s = await api<{ status: string; ownerNode: string }>(cluster.node(owners[0] ?? '').url, 'GET', '/api/whatsapp/status', { token: t.admin.accessToken });
          return s.body.status === 'connected' && s.body.ownerNode === owners[0] && (cluster.node(owners[0] ?? '').cluster?.leases.held(t.tenantId)?.epoch ?? 0) > (epochs.get(t.tenantId) ?? Infinity);
        },
        { timeoutMs: 4 * TTL + 10_000, what: `tenant ${t.tenantId} owned again with a newer epoch` },
      );
    }
    await send('after');

    // Never two live connections of one account: two owners would both have connected.
    expect(await overlappingConnections(cluster.simUrl, tenants.map((t) => t.number))).toEqual([]);
    await cluster.sim.until(() => cluster.sim.stats().pending === 0);
    const rows = await cluster.sql<{ id: string; n: number }[]>`
      SELECT wa_message_id AS id, count(*)::int AS n FROM messages WHERE wa_message_id = ANY(${ids}) GROUP BY wa_message_id`;
    expect(rows.length).toBe(ids.length);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    for (const t of tenants) {
      const page = await api<{ messages: Message[] }>(cluster.node(holders(t.tenantId)[0] ?? '').url, 'GET', `/api/chats/${t.contact}@c.us/messages`, { token: t.admin.accessToken });
      expect(page.body.messages.map((m) => m.body).filter((b) => /^(before|during|after) /.test(b)).sort()).toEqual(
        ['after', 'before', 'during'].map((label) => `${label} ${tenants.indexOf(t)}`).sort(),
      );
    }
    console.info(`faults: Redis restarted empty under ${tenants.length} sessions on 2 nodes: leases re-acquired, 0 overlapping owners, ${ids.length} messages, 0 lost`);
  }, 90_000);
});
