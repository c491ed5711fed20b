import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { ErrorCodes } from '../../../src/domain/errors.js';
import { createLogger } from '../../../src/domain/log.js';
import type { Message } from '../../../src/domain/types.js';
import { startNode } from '../../../src/node.js';
import { api, connectSocket, phone, type Account } from '../../helpers/client.js';
import { clusterEnv, linkTenant, startTestCluster, until, type LinkedTenant, type TestCluster } from '../../helpers/cluster.js';

/**
 * Three nodes in this process on one PostgreSQL schema and one Redis prefix: commands reach the owner
 * from any node, events and permission changes reach sockets on any node.
 */
describe('a cluster of three nodes', () => {
  let cluster: TestCluster;
  let tenant: LinkedTenant;
  let urls: { a: string; b: string; c: string };

  beforeAll(async () => {
    cluster = await startTestCluster({ ttlMs: 3_000 });
    const a = await cluster.startNode('node-a');
    const b = await cluster.startNode('node-b');
    const c = await cluster.startNode('node-c');
    urls = { a: a.url, b: b.url, c: c.url };
    // Linked through node C: C has room and nobody holds the lease, so C runs it.
    tenant = await linkTenant(urls.c, cluster.simUrl, 'Carla');
  });
  afterAll(async () => {
    tenant?.socket.close();
    await cluster?.close();
  });

  it('runs a session on the node where it was linked', async () => {
    const status = await api<{ ownerNode: string; status: string }>(urls.a, 'GET', '/api/whatsapp/status', { token: tenant.admin.accessToken });
    expect(status.body).toMatchObject({ ownerNode: 'node-c', status: 'connected' });
    expect(cluster.node('node-c').cluster?.leases.held(tenant.tenantId)).toBeDefined();
    expect(cluster.node('node-a').cluster?.leases.held(tenant.tenantId)).toBeUndefined();
  });

  it('answers a REST command sent to a node that does not own the session, through the owner', async () => {
    const chatId = `${tenant.contact}@c.us`;
    const sent = await api<Message>(urls.a, 'POST', `/api/chats/${chatId}/messages`, { token: tenant.admin.accessToken, body: { body: 'routed from A' } });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ chatId, body: 'routed from A', fromMe: true });
    // The owner's engine sent it: the contact's phone has it.
    const inbox = await phone(cluster.simUrl, 'GET', `/phones/${tenant.contact}/messages`);
    expect((inbox.body as { messages: { body: string }[] }).messages.map((m) => m.body)).toContain('routed from A');

    // Bytes travel too: a profile photo fetched through node B from the owner C.
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    await phone(cluster.simUrl, 'PUT', `/phones/${tenant.contact}/photo`, { mimetype: 'image/png', dataBase64: png.toString('base64') });
    const res = await fetch(`${urls.b}/api/media/profile-photo/${chatId}`, { headers: { authorization: `Bearer ${tenant.admin.accessToken}` } });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(png)).toBe(true);
  });

  it('delivers the events of a session owned by node C to a socket on node A', async () => {
    const onA = await connectSocket(urls.a, tenant.admin.accessToken);
    try {
      await phone(cluster.simUrl, 'POST', `/phones/${tenant.contact}/messages`, { to: tenant.number, body: 'hello socket on A' });
      const m = await onA.next<Message>('message', (x) => x.body === 'hello socket on A');
      expect(m.chatId).toBe(`${tenant.contact}@c.us`);
    } finally {
      onA.close();
    }
  });

  it('applies a revoke made on node A to an employee socket held by node B at once', async () => {
    const email = `station-${Date.now()}@example.test`;
    const created = await api<{ id: string }>(urls.a, 'POST', '/api/auth/create-station', {
      token: tenant.admin.accessToken,
      body: { name: 'Station', email, password: 'station password' },
    });
    expect(created.status).toBe(201);
    const chatId = `${tenant.contact}@c.us`;
    expect((await api(urls.a, 'POST', '/api/permissions/assign', { token: tenant.admin.accessToken, body: { employeeId: created.body.id, chatId } })).status).toBe(204);
    const emp = (await api<Account>(urls.b, 'POST', '/api/auth/login', { body: { email, password: 'station password' } })).body;
    const empOnB = await connectSocket(urls.b, emp.accessToken);
    try {
      await phone(cluster.simUrl, 'POST', `/phones/${tenant.contact}/messages`, { to: tenant.number, body: 'for the station' });
      await empOnB.next<Message>('message', (m) => m.body === 'for the station');

      expect((await api(urls.a, 'POST', '/api/permissions/revoke', { token: tenant.admin.accessToken, body: { employeeId: created.body.id, chatId } })).status).toBe(204);
      const from = empOnB.events.length;
      await phone(cluster.simUrl, 'POST', `/phones/${tenant.contact}/messages`, { to: tenant.number, body: 'after the revoke' });
      // Sentinel: the admin (also on another node) sees it, so the employee would have by now.
      const adminOnB = await connectSocket(urls.b, tenant.admin.accessToken);
      await phone(cluster.simUrl, 'POST', `/phones/${tenant.contact}/messages`, { to: tenant.number, body: 'sentinel' });
      await adminOnB.next<Message>('message', (m) => m.body === 'sentinel');
      adminOnB.close();
      expect(empOnB.events.slice(from).some((e) => JSON.stringify(e.payload).includes('after the revoke'))).toBe(false);

      // A disable on node A: node B, which just served this employee, refuses its token at once.
      expect((await api(urls.b, 'GET', '/api/chats', { token: emp.accessToken })).status).toBe(200);
      expect((await api(urls.a, 'DELETE', `/api/auth/employees/${created.body.id}`, { token: tenant.admin.accessToken })).status).toBe(204);
      await until(async () => (await api(urls.b, 'GET', '/api/chats', { token: emp.accessToken })).status === 401, {
        timeoutMs: 1_000,
        what: 'node B to refuse the disabled employee (its cache lives 5 s)',
      });
      await until(() => !empOnB.socket.connected, { timeoutMs: 2_000, what: 'the disabled employee socket on B to be cut' });
    } finally {
      empOnB.close();
    }
  });

  it('logs out through the owner when asked on another node', async () => {
    const linked = await linkTenant(urls.b, cluster.simUrl, 'Bruno');
    try {
      const res = await api<{ desiredState: string; status: string }>(urls.a, 'POST', '/api/whatsapp/logout', { token: linked.admin.accessToken });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ desiredState: 'stopped', status: 'logged_out' });
      const account = await phone(cluster.simUrl, 'GET', `/phones/${linked.number}`);
      expect(account.body).toMatchObject({ linked: false });
      await until(() => cluster.node('node-b').cluster?.leases.held(linked.tenantId) === undefined, {
        timeoutMs: 5_000,
        what: 'node B to give the stopped session up',
      });
    } finally {
      linked.socket.close();
    }
  });

  it('refuses to start a node without Redis beside nodes with Redis, and says why', async () => {
    const config = loadConfig({ ...clusterEnv({ simUrl: cluster.simUrl, prefix: cluster.prefix, ttlMs: 3_000 }), REDIS_URL: '', NODE_ID: 'lonely' });
    const err: unknown = await startNode({ config, log: createLogger({ level: 'silent' }), schema: cluster.schema }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.CONFLICT });
    expect(String((err as Error).message)).toMatch(/REDIS_URL/);
  });
});
