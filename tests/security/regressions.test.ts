import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/domain/types.js';
import { api, connectSocket, phone } from '../helpers/client.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { actorsIn } from './support/actors.js';
import { contacts, linkTenant, type LinkedTenant } from './support/link.js';
import { registerAdmin } from './support/world.js';

/**
 * Bugs the attack matrix and the fuzzer found, each pinned by the smallest request that showed it.
 */

let stack: TestStack;
let tenant: LinkedTenant;
let contact: string;

beforeAll(async () => {
  stack = await startTestStack();
  tenant = await linkTenant(stack.url, stack.simUrl, 'Pinned');
  [contact] = (await contacts(stack.simUrl, 1, 'Pinned contact')) as [string];
});

afterAll(async () => {
  tenant?.socket.close();
  await stack?.close();
});

const chat = () => `${contact}@c.us`;
const send = (body: unknown, headers: Record<string, string> = {}) =>
  api<{ code?: string; message?: string; id?: string }>(stack.url, 'POST', `/api/chats/${chat()}/messages`, { token: tenant.admin.accessToken, body, headers });

describe('regressions found by the trust suite', () => {
  it('lets an admin cancel a link while the QR is showing (was a 409 and a session left running)', async () => {
    const admin = await registerAdmin(stack.url, 'Canceller');
    const socket = await connectSocket(stack.url, admin.accessToken);
    try {
      expect((await api(stack.url, 'POST', '/api/whatsapp/init', { token: admin.accessToken })).status).toBe(200);
      await socket.next('qr');
      const running = await actorsIn(stack.node, 'running');
      const logout = await api<{ status: string; desiredState: string }>(stack.url, 'POST', '/api/whatsapp/logout', { token: admin.accessToken });
      expect(logout.status).toBe(200);
      expect(logout.body).toMatchObject({ status: 'logged_out', desiredState: 'stopped' });
      expect(await actorsIn(stack.node, 'running')).toBe(running - 1);
      // And linking again starts over with a new QR.
      const from = socket.events.length;
      expect((await api(stack.url, 'POST', '/api/whatsapp/init', { token: admin.accessToken })).status).toBe(200);
      await socket.next('qr', () => true, { from });
    } finally {
      socket.close();
      await api(stack.url, 'POST', '/api/whatsapp/logout', { token: admin.accessToken });
    }
  });

  it('answers a send without any body with a 400 (was a 500)', async () => {
    const res = await fetch(`${stack.url}/api/chats/${chat()}/messages`, { method: 'POST', headers: { authorization: `Bearer ${tenant.admin.accessToken}` } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ statusCode: 400, code: 'WA_VALIDATION', message: expect.stringContaining('JSON body') });
  });

  it('answers an over-long path parameter and a broken escape in the API error shape (was Fastify\'s own body)', async () => {
    const long = await api(stack.url, 'GET', `/api/media/${'9'.repeat(300)}`, { token: tenant.admin.accessToken });
    // 414 from the router, or the API's own 404 when a catch-all route (the web console) takes the path.
    expect([404, 414]).toContain(long.status);
    expect(long.body).toMatchObject({ statusCode: long.status, code: long.status === 414 ? 'WA_VALIDATION' : 'WA_NOT_FOUND' });
    const broken = await api(stack.url, 'GET', '/api/media/%zz', { token: tenant.admin.accessToken });
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({ statusCode: 400, code: 'WA_VALIDATION' });
  });

  it('refuses a file WhatsApp cannot carry with a 400 and keeps the session connected (was a 500 and a dropped connection)', async () => {
    const odd = await send({ body: 'see file', media: { mimetype: 'Image_X/png', filename: 'a.png', dataBase64: Buffer.from('png').toString('base64') } });
    expect(odd.status).toBe(400);
    expect(odd.body.code).toBe('WA_VALIDATION');
    const status = await api<{ status: string }>(stack.url, 'GET', '/api/whatsapp/status', { token: tenant.admin.accessToken });
    expect(status.body.status).toBe('connected');
    const fine = await send({ body: 'still here' });
    expect(fine.status).toBe(201);
    await tenant.socket.next<Message>('message', (m) => m.id === fine.body.id);
    expect((await phone(stack.simUrl, 'GET', `/phones/${contact}/messages`)).body).toMatchObject({ messages: expect.arrayContaining([expect.objectContaining({ body: 'still here' })]) });
  });

  it('stores a WhatsApp message whose text holds U+0000 with U+FFFD (was a batch failing for ever)', async () => {
    const res = await phone(stack.simUrl, 'POST', `/phones/${contact}/messages`, { to: tenant.number, body: 'nul\u0000inside' });
    const id = (res.body as { id: string }).id;
    const stored = await tenant.socket.next<Message>('message', (m) => m.id === id);
    expect(stored.body).toBe('nul\uFFFDinside');
    await stack.sim.until(() => stack.sim.stats().pending === 0);
    const sent = await send({ body: 'and back\u0000' });
    expect(sent.status).toBe(201);
  });

  it('answers U+0000 in an id or a name with a 400 (was a 500 from PostgreSQL)', async () => {
    const media = await api<{ code: string }>(stack.url, 'GET', '/api/media/%00', { token: tenant.admin.accessToken });
    expect(media.status).toBe(400);
    expect(media.body.code).toBe('WA_VALIDATION');
    const station = await api<{ code: string; message: string }>(stack.url, 'POST', '/api/auth/create-station', {
      token: tenant.admin.accessToken,
      body: { name: 'Till\u00001', email: `nul-${Date.now()}@example.test`, password: 'long enough' },
    });
    expect(station.status).toBe(400);
    expect(station.body.message).toContain('NUL');
  });

  it('limits a multipart caption like a JSON one (was unbounded, then a dropped connection)', async () => {
    const boundary = 'captionboundary';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="body"\r\n\r\n${'c'.repeat(65_537)}\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--${boundary}--\r\n`),
    ]);
    const res = await fetch(`${stack.url}/api/chats/${chat()}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.admin.accessToken}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'WA_VALIDATION', message: expect.stringContaining('65536') });
  });
});
