import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/domain/types.js';
import { api, phone, register } from '../helpers/client.js';
import { linkWithContact, newNumber as newNumberUnder, type LinkedTenant } from '../helpers/link.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';

/** REST commands through a live session: idempotent sends, uploads, media, profile photos, and their errors. */

const newNumber = (): string => newNumberUnder('4940');

// A 1x1 PNG.
const PNG_BYTES = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const link = (stack: TestStack): Promise<LinkedTenant> => linkWithContact(stack, '4940');

async function inbox(stack: TestStack, number: string): Promise<{ id: string; body: string; media?: unknown }[]> {
  const res = await phone(stack.simUrl, 'GET', `/phones/${number}/messages`);
  return (res.body as { messages: { id: string; body: string; media?: unknown }[] }).messages;
}

describe('REST commands through a live session', () => {
  let stack: TestStack;
  let t: LinkedTenant;
  beforeAll(async () => {
    stack = await startTestStack({ env: { ACTOR_CALL_TIMEOUT_MS: '1500' } });
    t = await link(stack);
  });
  afterAll(async () => {
    t?.socket.close();
    await stack?.close();
  });

  it('sends once per Idempotency-Key and refuses the key for a different request', async () => {
    const headers = { 'idempotency-key': `key-${Date.now()}` };
    const first = await api<Message>(stack.url, 'POST', `/api/chats/${t.chatId}/messages`, { token: t.admin.accessToken, body: { body: 'pay once' }, headers });
    const second = await api<Message>(stack.url, 'POST', `/api/chats/${t.chatId}/messages`, { token: t.admin.accessToken, body: { body: 'pay once' }, headers });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body.id).toBe(first.body.id);
    expect((await inbox(stack, t.contact)).filter((m) => m.body === 'pay once')).toHaveLength(1);
    const other = await api(stack.url, 'POST', `/api/chats/${t.chatId}/messages`, { token: t.admin.accessToken, body: { body: 'something else' }, headers });
    expect(other.status).toBe(409);
    expect(other.text).toMatch(/different request/);
  });

  it('publishes acks as the contact receives and reads a sent message, and stores them', async () => {
    const sent = await api<Message>(stack.url, 'POST', `/api/chats/${t.chatId}/messages`, { token: t.admin.accessToken, body: { body: 'did you read this?' } });
    expect(sent.status).toBe(201);
    await t.socket.next<{ id: string; ack: number }>('message_ack', (a) => a.id === sent.body.id && a.ack === 2);
    expect((await phone(stack.simUrl, 'POST', `/phones/${t.contact}/read`, { chatId: `${t.number}@c.us` })).status).toBeLessThan(300);
    await t.socket.next<{ id: string; ack: number }>('message_ack', (a) => a.id === sent.body.id && a.ack === 3);
    await stack.node.sessions.drain();
    const page = await api<{ messages: Message[] }>(stack.url, 'GET', `/api/chats/${t.chatId}/messages`, { token: t.admin.accessToken });
    expect(page.body.messages.find((m) => m.id === sent.body.id)?.ack).toBe(3);
  });

  it('uploads a file with a caption as multipart, and serves it back', async () => {
    const form = new FormData();
    form.append('body', 'the picture');
    form.append('file', new Blob([PNG_BYTES], { type: 'image/png' }), 'dot.png');
    const res = await fetch(`${stack.url}/api/chats/${t.chatId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.admin.accessToken}` },
      body: form,
    });
    const sent = (await res.json()) as Message;
    expect(res.status).toBe(201);
    expect(sent).toMatchObject({ body: 'the picture', hasMedia: true, type: 'image', fromMe: true });
    expect((await inbox(stack, t.contact)).find((m) => m.id === sent.id)?.media).toMatchObject({ mimetype: 'image/png', filename: 'dot.png' });
    const media = await fetch(`${stack.url}/api/media/${encodeURIComponent(sent.id)}`, { headers: { authorization: `Bearer ${t.admin.accessToken}` } });
    expect(media.status).toBe(200);
    expect(media.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await media.arrayBuffer()).equals(PNG_BYTES)).toBe(true);
  });

  it('refuses a multipart send without a file with a clear 400', async () => {
    const form = new FormData();
    form.append('body', 'no file');
    const res = await fetch(`${stack.url}/api/chats/${t.chatId}/messages`, { method: 'POST', headers: { authorization: `Bearer ${t.admin.accessToken}` }, body: form });
    const body = (await res.json()) as { code: string; message: string };
    expect(res.status).toBe(400);
    expect(body.message).toMatch(/file/);
  });

  it('stores inbound media before publishing and serves its bytes', async () => {
    const sent = await phone(stack.simUrl, 'POST', `/phones/${t.contact}/messages`, {
      to: t.number,
      body: 'see attached',
      media: { mimetype: 'image/png', filename: 'scan.png', dataBase64: PNG_BYTES.toString('base64') },
    });
    const id = (sent.body as { id: string }).id;
    const event = await t.socket.next<Message>('message', (m) => m.id === id);
    expect(event.hasMedia).toBe(true);
    const media = await fetch(`${stack.url}/api/media/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${t.admin.accessToken}` } });
    expect(media.status).toBe(200);
    expect(Buffer.from(await media.arrayBuffer()).equals(PNG_BYTES)).toBe(true);
  });

  it('serves a contact profile photo, and 404 for a contact without one', async () => {
    await phone(stack.simUrl, 'PUT', `/phones/${t.contact}/photo`, { mimetype: 'image/png', dataBase64: PNG_BYTES.toString('base64') });
    const photo = await fetch(`${stack.url}/api/media/profile-photo/${t.chatId}`, { headers: { authorization: `Bearer ${t.admin.accessToken}` } });
    expect(photo.status).toBe(200);
    expect(photo.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await photo.arrayBuffer()).equals(PNG_BYTES)).toBe(true);

    const plain = newNumber();
    await phone(stack.simUrl, 'POST', '/phones', { number: plain, name: 'No Photo' });
    await phone(stack.simUrl, 'POST', `/phones/${plain}/messages`, { to: t.number, body: 'hi' });
    await t.socket.next<Message>('message', (m) => m.chatId === `${plain}@c.us`);
    const none = await api<{ code: string }>(stack.url, 'GET', `/api/media/profile-photo/${plain}@c.us`, { token: t.admin.accessToken });
    expect(none.status).toBe(404);
    expect(none.body.code).toBe('WA_NOT_FOUND');
  });

  it('answers 504 when the session does not answer in time, and works again after', async () => {
    expect((await phone(stack.simUrl, 'POST', `/testing/phones/${t.number}/stall`, { on: true })).status).toBe(204);
    const slow = await api<{ code: string; message: string }>(stack.url, 'POST', `/api/chats/${t.chatId}/messages`, { token: t.admin.accessToken, body: { body: 'into the void' } });
    expect(slow.status).toBe(504);
    expect(slow.body.code).toBe('WA_ACTOR_TIMEOUT');
    await phone(stack.simUrl, 'POST', `/testing/phones/${t.number}/stall`, { on: false });
  });

  it('answers 409 with a clear message when the tenant has no running session', async () => {
    const lonely = await register(stack.url, 'Lonely');
    const res = await api<{ code: string; message: string }>(stack.url, 'POST', `/api/chats/${t.chatId}/messages`, { token: lonely.accessToken, body: { body: 'hello?' } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('WA_SESSION_NOT_RUNNING');
    expect(res.body.message).toMatch(/session/i);
  });

  it('logs out: the device is unlinked and the status says so', async () => {
    const other = await link(stack);
    const res = await api<{ status: string; desiredState: string }>(stack.url, 'POST', '/api/whatsapp/logout', { token: other.admin.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'logged_out', desiredState: 'stopped' });
    expect(stack.sim.phone(other.number)?.linked).toBe(false);
    other.socket.close();
  });
});
