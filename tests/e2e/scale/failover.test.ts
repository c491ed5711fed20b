import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../../src/domain/types.js';
import { api, connectSocket, phone } from '../../helpers/client.js';
import { overlappingConnections, until, type LinkedTenant } from '../../helpers/cluster.js';
import { allDelivered, startFlow, startProcessCluster, type ProcessCluster } from './harness.js';

const TTL = 3_000;
const TENANTS = 30;

/**
 * Three node processes on the real PostgreSQL and Redis, the simulator, 30 linked tenants and a steady
 * flow of inbound messages. One node is SIGKILLed: its tenants come back on the others within the lease
 * TTL plus a few seconds, every delivered message is stored exactly once, and no account ever has two
 * connections at a time.
 */
describe('three node processes losing one', () => {
  let cluster: ProcessCluster;
  let tenants: LinkedTenant[] = [];
  let flow: ReturnType<typeof startFlow> | undefined;

  beforeAll(async () => {
    cluster = await startProcessCluster({ nodeIds: ['node-1', 'node-2', 'node-3'], ttlMs: TTL });
    // Linked through each node in turn: each runs the tenants linked through it.
    tenants = await cluster.linkTenants(TENANTS);
  }, 180_000);

  afterAll(async () => {
    await flow?.stop();
    for (const t of tenants) t.socket.close();
    await cluster?.close();
  });

  it('runs the 30 sessions spread over the three nodes', async () => {
    const sessions = await cluster.sessions();
    const perNode = new Map<string, number>();
    for (const t of tenants) {
      const row = sessions.get(t.tenantId);
      expect(row?.status).toBe('connected');
      perNode.set(row?.owner ?? 'none', (perNode.get(row?.owner ?? 'none') ?? 0) + 1);
    }
    expect([...perNode.keys()].sort()).toEqual(['node-1', 'node-2', 'node-3']);
    expect([...perNode.values()]).toEqual([10, 10, 10]);
  });

  it('answers a REST command sent to a non-owner through the owner, and gives a socket on node 1 the events of a tenant on node 3', async () => {
    const sessions = await cluster.sessions();
    const onThree = tenants.find((t) => sessions.get(t.tenantId)?.owner === 'node-3') as LinkedTenant;
    const node1 = cluster.node('node-1');
    const sent = await api<Message>(node1.url, 'POST', `/api/chats/${onThree.contact}@c.us/messages`, { token: onThree.admin.accessToken, body: { body: 'from node 1' } });
    expect(sent.status).toBe(201);
    const inbox = await phone(cluster.simUrl, 'GET', `/phones/${onThree.contact}/messages`);
    expect((inbox.body as { messages: { body: string }[] }).messages.map((m) => m.body)).toContain('from node 1');

    const socket = await connectSocket(node1.url, onThree.admin.accessToken);
    try {
      await phone(cluster.simUrl, 'POST', `/phones/${onThree.contact}/messages`, { to: onThree.number, body: 'to a socket on node 1' });
      expect((await socket.next<Message>('message', (m) => m.body === 'to a socket on node 1')).chatId).toBe(`${onThree.contact}@c.us`);
    } finally {
      socket.close();
    }
  });

  it('brings every session of a SIGKILLed node back elsewhere within the TTL plus a few seconds, losing and doubling nothing', async () => {
    const sessions = await cluster.sessions();
    const victim = 'node-2';
    const victims = tenants.filter((t) => sessions.get(t.tenantId)?.owner === victim);
    expect(victims.length).toBe(10);

    flow = startFlow(tenants, cluster.simUrl);
    await flow.sentAtLeast(40);
    const killedAt = Date.now();
    cluster.node(victim).proc.kill('SIGKILL');

    await until(() => cluster.connectedElsewhere(victims, victim, killedAt), {
      // The lease TTL, then a reconcile round (a third of it), then ten session starts on a shared 2-core machine.
      timeoutMs: TTL + 8_000,
      everyMs: 100,
      what: "the killed node's tenants to be connected on the other nodes",
    });
    const failoverMs = Date.now() - killedAt;
    console.log(`failover: ${victims.length} sessions connected on other nodes ${failoverMs} ms after SIGKILL (lease TTL ${TTL} ms)`);

    // The flow goes on a little on the survivors; then every message the network accepted is stored once.
    await flow.sentAtLeast(flow.count() + 40);
    const sent = await flow.stop();
    await allDelivered(cluster.sim, tenants.map((t) => t.number), 20_000);
    const { missing, duplicated } = await cluster.storedOnce(sent);
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
    console.log(`failover: ${sent.length} messages accepted by the network during the test, all stored once`);

    expect(cluster.sim.stats().conflicts).toBe(0);
    expect(await overlappingConnections(cluster.simUrl, tenants.map((t) => t.number))).toEqual([]);
    expect(await cluster.node(victim).exited).toMatchObject({ signal: 'SIGKILL' });
  }, 60_000);
});
