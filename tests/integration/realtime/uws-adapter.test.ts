import { createRequire } from 'node:module';
import Fastify from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { fastifyServerOptions, isNativeUwsApp, uwsAppOf } from '../../../src/http/uws-adapter.js';
import { closeClients, connect, startHarness, type Harness } from './harness.js';

describe('uWS adapter', () => {
  const harnesses: Harness[] = [];
  const start = async (kind: 'uws' | 'node') => {
    const h = await startHarness(kind);
    harnesses.push(h);
    return h;
  };
  afterEach(() => closeClients());
  afterAll(async () => {
    closeClients();
    await Promise.all(harnesses.map((h) => h.close()));
  });

  it('serves Fastify through the native uWS build, REST and Socket.IO on one port', async () => {
    const h = await start('uws');
    const admin = await h.user('admin');

    expect(isNativeUwsApp(uwsAppOf(h.app))).toBe(true);
    const ping = await fetch(`${h.url}/api/ping`);
    expect(await ping.json()).toEqual({ pong: true });
    const { ready } = await connect(h.url, { auth: { token: admin.token }, transports: ['websocket'] });
    expect(ready.userId).toBe(admin.userId);
  });

  it('tells the JavaScript fallback of uWS from the native build', () => {
    const require = createRequire(import.meta.url);
    const fallback: unknown = require('uWebSockets.js/dist/index.js');
    const app: unknown =
      typeof fallback === 'object' && fallback !== null && 'App' in fallback && typeof fallback.App === 'function'
        ? fallback.App()
        : undefined;

    expect(app).toBeTypeOf('object');
    expect(isNativeUwsApp(app)).toBe(false);
  });

  it('refuses to find a uWS app under a node:http Fastify', async () => {
    const app = Fastify({ ...(await fastifyServerOptions('node')) });
    try {
      expect(() => uwsAppOf(app)).toThrow(expect.objectContaining({ code: 'WA_CONFIG_INVALID' }));
    } finally {
      await app.close();
    }
  });

  it('keeps Socket.IO servers independent: two on uWS and one on node:http in one process', async () => {
    // Socket.IO's attachApp patches the adapter shared by every server in the process; uws-adapter undoes
    // that. With the patch, the first server's admin-only events would be published on the second app and
    // the node:http server would throw `websocket.subscribe is not a function`.
    const servers = [await start('uws'), await start('uws'), await start('node')];
    const admins = await Promise.all(
      servers.map(async (h) => {
        const admin = await h.user('admin');
        const employee = await h.user('employee', { tenantId: admin.tenantId, chats: ['111@c.us'] });
        return {
          h,
          admin,
          adminClient: await connect(h.url, { auth: { token: admin.token }, transports: ['websocket'] }),
          employeeClient: await connect(h.url, { auth: { token: employee.token }, transports: ['websocket'] }),
        };
      }),
    );

    for (const { h, admin } of admins) {
      h.realtime.publish(admin.tenantId, { name: 'qr', payload: h.url });
      h.realtime.publish(admin.tenantId, { name: 'message', chatId: '111@c.us', payload: h.url });
    }

    for (const { h, adminClient, employeeClient } of admins) {
      expect(await adminClient.inbox.next()).toEqual({ name: 'qr', payload: h.url });
      expect(await adminClient.inbox.next()).toEqual({ name: 'message', payload: h.url });
      expect(await employeeClient.inbox.next()).toEqual({ name: 'message', payload: h.url });
    }
  });
});
