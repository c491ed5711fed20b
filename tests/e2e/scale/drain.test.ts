import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { overlappingConnections, until, type LinkedTenant } from '../../helpers/cluster.js';
import { allDelivered, startFlow, startProcessCluster, type ProcessCluster } from './harness.js';

/** Long on purpose: a hand-over that waited for the leases to expire could not finish within the test's wait. */
const TTL = 20_000;

/**
 * SIGTERM (a Kubernetes rollout or scale-down): the node hands its sessions over at once instead of
 * letting the others wait for its leases to expire, closes its sockets, and exits 0 within its deadline.
 */
describe('a node process receiving SIGTERM', () => {
  let cluster: ProcessCluster;
  let tenants: LinkedTenant[] = [];
  let flow: ReturnType<typeof startFlow> | undefined;

  beforeAll(async () => {
    cluster = await startProcessCluster({ nodeIds: ['node-1', 'node-2'], ttlMs: TTL, env: { SHUTDOWN_TIMEOUT_MS: '15000' } });
    tenants = await cluster.linkTenants(8);
  }, 120_000);

  afterAll(async () => {
    await flow?.stop();
    for (const t of tenants) t.socket.close();
    await cluster?.close();
  });

  it('hands its sessions over well within the lease TTL, losing and doubling nothing, and exits cleanly', async () => {
    const sessions = await cluster.sessions();
    const leaving = 'node-2';
    const moving = tenants.filter((t) => sessions.get(t.tenantId)?.owner === leaving);
    expect(moving.length).toBe(4);
    // The admins linked through node 2 hold their sockets there.
    const socketsOnLeaving = moving.map((t) => t.socket);
    expect(socketsOnLeaving.every((s) => s.socket.connected)).toBe(true);

    flow = startFlow(tenants, cluster.simUrl);
    await flow.sentAtLeast(30);
    const stoppedAt = Date.now();
    cluster.node(leaving).proc.kill('SIGTERM');

    await until(() => cluster.connectedElsewhere(moving, leaving, stoppedAt), {
      timeoutMs: TTL / 2,
      everyMs: 100,
      what: 'the draining node\'s tenants to be connected on node 1',
    });
    const handoverMs = Date.now() - stoppedAt;
    console.log(`drain: ${moving.length} sessions connected on node 1 ${handoverMs} ms after SIGTERM (lease TTL ${TTL} ms)`);

    expect(await cluster.node(leaving).exited).toEqual({ code: 0, signal: null });
    // Its sockets were closed by the server (clients reconnect to another node through the Service).
    await until(() => socketsOnLeaving.every((s) => !s.socket.connected), { timeoutMs: 5_000, what: 'sockets on node 2 to close' });

    const sent = await flow.stop();
    await allDelivered(cluster.sim, tenants.map((t) => t.number), 20_000);
    expect(await cluster.storedOnce(sent)).toEqual({ missing: [], duplicated: [] });
    expect(cluster.sim.stats().conflicts).toBe(0);
    expect(await overlappingConnections(cluster.simUrl, tenants.map((t) => t.number))).toEqual([]);
  }, 60_000);
});
