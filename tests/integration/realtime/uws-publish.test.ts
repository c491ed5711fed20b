import { createRequire } from 'node:module';
import type { Encoder as EncoderClass, Packet } from 'socket.io-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uwsAppOf } from '../../../src/http/uws-adapter.js';
import { closeClients, connect, startHarness, type Harness } from './harness.js';

// socket.io (CommonJS) encodes every packet with socket.io-parser's CommonJS Encoder, not the ESM build an
// import would load.
const { Encoder } = createRequire(import.meta.url)('socket.io-parser') as { Encoder: typeof EncoderClass };

/**
 * On uWS, a broadcast to one room is a native topic publish (uws-publish.ts), per server: a node:http
 * server in the same process keeps the classic path, and every socket still gets each event once.
 */
describe('uWS topic publish', () => {
  let uws: Harness;
  let node: Harness;
  beforeAll(async () => {
    uws = await startHarness('uws');
    node = await startHarness('node');
  });
  afterAll(async () => {
    closeClients();
    await uws?.close();
    await node?.close();
  });

  it('publishes an admins-room event once through uWS and delivers it once to each socket; node:http alongside still delivers', async () => {
    const app = uwsAppOf(uws.app);
    const publish = app.publish.bind(app);
    const topics: string[] = [];
    app.publish = ((topic: string, message: string | ArrayBuffer, isBinary?: boolean) => {
      topics.push(topic);
      return publish(topic, message, isBinary);
    }) as typeof app.publish;

    const admin = await uws.user('admin');
    const other = await uws.user('admin', { tenantId: admin.tenantId });
    const employee = await uws.user('employee', { tenantId: admin.tenantId, chats: ['4911@c.us'] });
    const sockets = await Promise.all([admin, other, employee].map((u) => connect(uws.url, { auth: { token: u.token }, transports: ['websocket'] })));

    uws.realtime.publish(admin.tenantId, { name: 'message', chatId: '4911@c.us', payload: { n: 1 } });
    uws.realtime.publish(admin.tenantId, { name: 'message', chatId: '4911@c.us', payload: { n: 2 } });
    for (const s of sockets) {
      expect(await s.inbox.next()).toEqual({ name: 'message', payload: { n: 1 } });
      expect(await s.inbox.next()).toEqual({ name: 'message', payload: { n: 2 } });
    }
    // One native publish per event, to the admins room's topic; the employee got it by the classic path.
    expect(topics).toHaveLength(2);
    expect(topics[0]).toContain(admin.tenantId);

    const nodeAdmin = await node.user('admin');
    const nodeSocket = await connect(node.url, { auth: { token: nodeAdmin.token }, transports: ['websocket'] });
    node.realtime.publish(nodeAdmin.tenantId, { name: 'session_status', payload: { status: 'connected' } });
    expect(await nodeSocket.inbox.next()).toEqual({ name: 'session_status', payload: { status: 'connected' } });
    expect(topics).toHaveLength(2);
  });

  it('encodes nothing for a chat room no socket on this node is in', async () => {
    const admin = await uws.user('admin');
    const socket = await connect(uws.url, { auth: { token: admin.token }, transports: ['websocket'] });
    // Count the packets socket.io encodes.
    const encode = Encoder.prototype.encode;
    let encoded = 0;
    Encoder.prototype.encode = function (this: EncoderClass, packet: Packet) {
      encoded++;
      return encode.call(this, packet);
    };
    try {
      // No employee follows this chat: the admins get the event (one encode), the empty chat room nothing.
      uws.realtime.publish(admin.tenantId, { name: 'message', chatId: '4999@c.us', payload: { n: 1 } });
      expect(await socket.inbox.next()).toEqual({ name: 'message', payload: { n: 1 } });
      expect(encoded).toBe(1);
    } finally {
      Encoder.prototype.encode = encode;
    }
  });
});
