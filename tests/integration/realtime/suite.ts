import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HttpServerKind } from '../../../src/http/uws-adapter.js';
import {
  ALLOWED_ORIGIN,
  closeClients,
  connect,
  nextDisconnect,
  openSocket,
  refusal,
  startHarness,
  unsignedToken,
  type Harness,
} from './harness.js';

/**
 * The realtime contract, run against both HTTP servers (realtime-node.test.ts, realtime-uws.test.ts).
 * "Receives nothing" is shown with a sentinel: after the forbidden events, an allowed one is published
 * and must be the first event the spy sees (events on one socket arrive in order).
 */
export function realtimeSuite(kind: HttpServerKind): void {
  describe(`realtime channel on ${kind}`, () => {
    let h: Harness;

    beforeAll(async () => {
      h = await startHarness(kind);
    });
    afterEach(() => closeClients());
    afterAll(async () => {
      closeClients();
      await h.close();
    });

    it('delivers tenant events and every chat event to an admin', async () => {
      const admin = await h.user('admin');
      const { inbox, ready } = await connect(h.url, { auth: { token: admin.token } });
      expect(ready).toEqual({ userId: admin.userId, tenantId: admin.tenantId, role: 'admin' });

      h.realtime.publish(admin.tenantId, { name: 'qr', payload: { qr: 'data:image/png;base64,AAA' } });
      h.realtime.publish(admin.tenantId, { name: 'message', chatId: '111@c.us', payload: { id: 'm1' } });

      expect(await inbox.next()).toEqual({ name: 'qr', payload: { qr: 'data:image/png;base64,AAA' } });
      expect(await inbox.next()).toEqual({ name: 'message', payload: { id: 'm1' } });
    });

    it('delivers to an employee only the events of its chats', async () => {
      const employee = await h.user('employee', { chats: ['111@c.us'] });
      const { inbox, ready } = await connect(h.url, { auth: { token: employee.token } });
      expect(ready.chatIds).toEqual(['111@c.us']);

      h.realtime.publish(employee.tenantId, { name: 'qr', payload: 'admins only' });
      h.realtime.publish(employee.tenantId, { name: 'session_status', payload: 'admins only' });
      h.realtime.publish(employee.tenantId, { name: 'message', chatId: '222@c.us', payload: 'other chat' });
      h.realtime.publish(employee.tenantId, { name: 'message_ack', chatId: '111@c.us', payload: 'sentinel' });

      expect(await inbox.next()).toEqual({ name: 'message_ack', payload: 'sentinel' });
    });

    it("delivers nothing of a tenant to another tenant's admin or employee", async () => {
      const admin = await h.user('admin');
      const otherAdmin = await h.user('admin', { tenantId: randomUUID() });
      const otherEmployee = await h.user('employee', { tenantId: otherAdmin.tenantId, chats: ['111@c.us'] });
      const spyAdmin = await connect(h.url, { auth: { token: otherAdmin.token } });
      const spyEmployee = await connect(h.url, { auth: { token: otherEmployee.token } });

      h.realtime.publish(admin.tenantId, { name: 'qr', payload: 'tenant 1' });
      h.realtime.publish(admin.tenantId, { name: 'message', chatId: '111@c.us', payload: 'tenant 1' });
      h.realtime.publish(otherAdmin.tenantId, { name: 'chat_updated', chatId: '111@c.us', payload: 'sentinel' });

      expect(await spyAdmin.inbox.next()).toEqual({ name: 'chat_updated', payload: 'sentinel' });
      expect(await spyEmployee.inbox.next()).toEqual({ name: 'chat_updated', payload: 'sentinel' });
    });

    it('applies a grant and a revoke to an open socket at once', async () => {
      const employee = await h.user('employee', { chats: ['999@c.us'] });
      const { inbox } = await connect(h.url, { auth: { token: employee.token } });

      await h.realtime.grant(employee.tenantId, employee.userId, '111@c.us');
      h.realtime.publish(employee.tenantId, { name: 'message', chatId: '111@c.us', payload: 'granted' });
      expect(await inbox.next()).toEqual({ name: 'chat_assigned', payload: { chatId: '111@c.us' } });
      expect(await inbox.next()).toEqual({ name: 'message', payload: 'granted' });

      await h.realtime.revoke(employee.tenantId, employee.userId, '111@c.us');
      h.realtime.publish(employee.tenantId, { name: 'message', chatId: '111@c.us', payload: 'revoked' });
      h.realtime.publish(employee.tenantId, { name: 'message', chatId: '999@c.us', payload: 'sentinel' });
      expect(await inbox.next()).toEqual({ name: 'chat_revoked', payload: { chatId: '111@c.us' } });
      expect(await inbox.next()).toEqual({ name: 'message', payload: 'sentinel' });
    });

    it('does not let a revoke committed while a connecting socket reads its chats be undone', async () => {
      const employee = await h.user('employee', { chats: ['111@c.us', '999@c.us'] });
      let reads = 0;
      h.hooks.afterChatsRead = async (tenantId, userId) => {
        reads += 1;
        if (reads !== 1) return;
        // The first read already returned a stale list; the revoke lands before the socket joins it.
        h.assignments.get(`${tenantId}:${userId}`)?.delete('111@c.us');
        await h.realtime.revoke(tenantId, userId, '111@c.us');
      };
      try {
        const { inbox, ready } = await connect(h.url, { auth: { token: employee.token } });
        expect(ready.chatIds).toEqual(['999@c.us']);
        h.realtime.publish(employee.tenantId, { name: 'message', chatId: '111@c.us', payload: 'revoked' });
        h.realtime.publish(employee.tenantId, { name: 'message', chatId: '999@c.us', payload: 'sentinel' });
        // The revoke's own notice may or may not reach a socket still joining; no message of the chat may.
        let next = await inbox.next();
        if (next.name === 'chat_revoked') next = await inbox.next();
        expect(next).toEqual({ name: 'message', payload: 'sentinel' });
      } finally {
        delete h.hooks.afterChatsRead;
      }
    });

    it('drops the connection of an employee whose chats cannot be read, so it reconnects instead of staying deaf', async () => {
      const employee = await h.user('employee', { chats: ['111@c.us'] });
      h.hooks.afterChatsRead = () => Promise.reject(new Error('database down'));
      try {
        const socket = openSocket(h.url, { auth: { token: employee.token } });
        const events: string[] = [];
        socket.onAny((name: string) => events.push(name));

        // A transport close, not a server disconnect: socket.io-client reconnects on its own after it.
        expect(await nextDisconnect(socket)).toBe('transport close');
        expect(events).toEqual([]);
      } finally {
        delete h.hooks.afterChatsRead;
      }
    });

    it("disconnects every socket of a user and no other user's", async () => {
      const employee = await h.user('employee', { chats: ['111@c.us'] });
      const colleague = await h.user('employee', { chats: ['111@c.us'] });
      const viaWebsocket = await connect(h.url, { auth: { token: employee.token }, transports: ['websocket'] });
      const viaPolling = await connect(h.url, { auth: { token: employee.token }, transports: ['polling'] });
      const other = await connect(h.url, { auth: { token: colleague.token } });
      const before = h.realtime.connectedClients();

      const reasons = Promise.all([nextDisconnect(viaWebsocket.socket), nextDisconnect(viaPolling.socket)]);
      await h.realtime.disconnectUser(employee.tenantId, employee.userId);

      // "io server disconnect": the client does not reconnect on its own.
      expect(await reasons).toEqual(['io server disconnect', 'io server disconnect']);
      expect(h.realtime.connectedClients()).toBe(before - 2);
      h.realtime.publish(colleague.tenantId, { name: 'message', chatId: '111@c.us', payload: 'still here' });
      expect(await other.inbox.next()).toEqual({ name: 'message', payload: 'still here' });
    });

    it('refuses a missing, malformed, forged, expired or alg:none token with a clear error', async () => {
      const admin = await h.user('admin');
      const expired = await h.user('admin', { expiresInS: -60 });
      const forged = `${admin.token.slice(0, admin.token.lastIndexOf('.'))}.${'A'.repeat(43)}`;
      const none = unsignedToken({ sub: admin.userId, tid: admin.tenantId, role: 'admin' });

      expect(await refusal(h.url, {})).toEqual({
        message: 'missing token: pass it as auth.token',
        data: { code: 'WA_UNAUTHENTICATED', message: 'missing token: pass it as auth.token' },
      });
      for (const token of ['garbage', forged, none]) {
        expect(await refusal(h.url, { auth: { token } })).toEqual({
          message: 'invalid token',
          data: { code: 'WA_UNAUTHENTICATED', message: 'invalid token' },
        });
      }
      expect(await refusal(h.url, { auth: { token: expired.token } })).toMatchObject({
        message: 'token expired',
        data: { code: 'WA_UNAUTHENTICATED' },
      });
      expect(h.realtime.connectedClients()).toBe(0);
    });

    it('disconnects a socket when its token expires, saying why', async () => {
      const admin = await h.user('admin', { expiresInS: 2 });
      const { socket, inbox } = await connect(h.url, { auth: { token: admin.token } });
      const reason = nextDisconnect(socket);

      expect(await inbox.next()).toEqual({ name: 'token_expired', payload: undefined });
      expect(await reason).toBe('io server disconnect');
    });

    it('accepts the token from an Authorization header and from the query string', async () => {
      const admin = await h.user('admin');
      const viaHeader = await connect(h.url, {
        transports: ['polling'],
        extraHeaders: { authorization: `Bearer ${admin.token}` },
      });
      const viaQuery = await connect(h.url, { query: { token: admin.token } });

      expect(viaHeader.ready.userId).toBe(admin.userId);
      expect(viaQuery.ready.userId).toBe(admin.userId);
    });

    it('works over HTTP long-polling only', async () => {
      const admin = await h.user('admin');
      const { socket, inbox } = await connect(h.url, { auth: { token: admin.token }, transports: ['polling'] });

      h.realtime.publish(admin.tenantId, { name: 'session_status', payload: { status: 'connected' } });

      expect(await inbox.next()).toEqual({ name: 'session_status', payload: { status: 'connected' } });
      expect(socket.io.engine.transport.name).toBe('polling');
    });

    it('upgrades from polling to websocket and keeps delivering', async () => {
      const admin = await h.user('admin');
      const { socket, inbox } = await connect(h.url, { auth: { token: admin.token } });
      if (socket.io.engine.transport.name !== 'websocket') {
        await new Promise((resolve) => socket.io.engine.once('upgrade', resolve));
      }

      h.realtime.publish(admin.tenantId, { name: 'pairing_code', payload: 'ABCD-EFGH' });

      expect(await inbox.next()).toEqual({ name: 'pairing_code', payload: 'ABCD-EFGH' });
    });

    it('answers a browser of an allowed origin, a page opened from disk, and no other origin', async () => {
      const handshake = (origin: string) =>
        fetch(`${h.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin } }).then(async (res) => {
          await res.text();
          return res.headers.get('access-control-allow-origin');
        });

      expect(await handshake(ALLOWED_ORIGIN)).toBe(ALLOWED_ORIGIN);
      expect(await handshake('null')).toBe('null');
      expect(await handshake('http://evil.example')).toBeNull();
    });

    it('answers every origin, a page opened from disk too, when CORS_ORIGINS is *', async () => {
      const open = await startHarness(kind, { corsOrigins: '*' });
      try {
        const headers = await Promise.all(
          ['null', 'http://anywhere.example'].map(async (origin) => {
            const res = await fetch(`${open.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin } });
            await res.text();
            return res.headers.get('access-control-allow-origin');
          }),
        );
        expect(headers).toEqual(['*', '*']);
      } finally {
        await open.close();
      }
    });

    it('serves the REST API and the Socket.IO client bundle on the same port', async () => {
      const ping = await fetch(`${h.url}/api/ping`);
      const bundle = await fetch(`${h.url}/socket.io/socket.io.js`);

      expect(await ping.json()).toEqual({ pong: true });
      expect(bundle.headers.get('content-type')).toMatch(/javascript/);
      expect(await bundle.text()).toContain('io');
    });
  });

  describe(`realtime shutdown on ${kind}`, () => {
    it('closes open sockets on fastify.close(), so clients reconnect elsewhere', async () => {
      const h = await startHarness(kind);
      try {
        const admin = await h.user('admin');
        const { socket } = await connect(h.url, { auth: { token: admin.token } });
        const reason = nextDisconnect(socket);

        await h.app.close();

        // The transport ends (closed, or an error when a polling request was in flight): never an
        // 'io server disconnect', after which a client would not reconnect by itself.
        expect(['transport close', 'transport error']).toContain(await reason);
        expect(socket.active).toBe(true);
        expect(h.realtime.connectedClients()).toBe(0);
        const after = await fetch(`${h.url}/api/ping`).then(
          async (res) => { await res.text(); return 'answered'; },
          () => 'refused',
        );
        expect(after).toBe('refused');
      } finally {
        closeClients();
        await h.realtime.close();
      }
    });
  });
}
