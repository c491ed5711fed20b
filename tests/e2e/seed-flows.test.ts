import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Chat, Message } from '../../src/domain/types.js';
import { api, connectSocket, decodeQrDataUrl, phone, register, type Account, type RecordedSocket } from '../helpers/client.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';

/**
 * The seed README's Flow 1 (an admin links WhatsApp by QR over Socket.IO) and Flow 2 (employees see and
 * answer only their chats), as a user would run them: REST, a real socket.io-client, and the simulator's
 * phone API standing in for the phones.
 */

interface Tenant {
  admin: Account;
  socket: RecordedSocket;
  number: string;
}

let numberSeq = 0;
function newNumber(): string {
  return `4917${String(Date.now() % 1_000_000).padStart(6, '0')}${String(numberSeq++).padStart(2, '0')}`;
}

/** Register an admin, open its socket, init, scan the QR from the PNG with the phone, wait for connected. */
async function linkTenant(stack: TestStack, name: string): Promise<Tenant> {
  const number = newNumber();
  await phone(stack.simUrl, 'POST', '/phones', { number, name: `${name} Business` });
  const admin = await register(stack.url, name);
  const socket = await connectSocket(stack.url, admin.accessToken);
  const init = await api(stack.url, 'POST', '/api/whatsapp/init', { token: admin.accessToken });
  expect(init.status).toBe(200);
  const qrImage = await socket.next<string>('qr');
  const qr = decodeQrDataUrl(qrImage);
  const link = await phone(stack.simUrl, 'POST', `/phones/${number}/link`, { qr });
  expect(link.status).toBe(200);
  await socket.next<{ status: string }>('session_status', (s) => s.status === 'connected');
  return { admin, socket, number };
}

describe('seed flows end to end', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('links a tenant by QR over Socket.IO and lists chats including messages sent before linking', async () => {
    const number = newNumber();
    const contact = newNumber();
    await phone(stack.simUrl, 'POST', '/phones', { number, name: 'Shop' });
    await phone(stack.simUrl, 'POST', '/phones', { number: contact, name: 'Maria' });
    await phone(stack.simUrl, 'POST', `/phones/${contact}/messages`, { to: number, body: 'before linking' });

    const admin = await register(stack.url, 'Ana');
    const socket = await connectSocket(stack.url, admin.accessToken);
    expect((await api(stack.url, 'POST', '/api/whatsapp/init', { token: admin.accessToken })).status).toBe(200);
    const qr = decodeQrDataUrl(await socket.next<string>('qr'));
    // The same code is readable over REST, as text, for clients without an image decoder.
    const shown = await api<{ qr: string; image: string }>(stack.url, 'GET', '/api/whatsapp/qr', { token: admin.accessToken });
    expect(shown.body.qr).toBe(qr);
    expect(decodeQrDataUrl(shown.body.image)).toBe(qr);
    expect((await phone(stack.simUrl, 'POST', `/phones/${number}/link`, { qr })).status).toBe(200);
    await socket.next<{ status: string }>('session_status', (s) => s.status === 'connected');

    expect((await api(stack.url, 'GET', '/api/whatsapp/qr', { token: admin.accessToken })).status).toBe(404);
    const status = await api<{ status: string; desiredState: string }>(stack.url, 'GET', '/api/whatsapp/status', { token: admin.accessToken });
    expect(status.body).toMatchObject({ status: 'connected', desiredState: 'active' });
    const chats = await api<Chat[]>(stack.url, 'GET', '/api/chats', { token: admin.accessToken });
    expect(chats.body.map((c) => c.id)).toContain(`${contact}@c.us`);
    const page = await api<{ messages: Message[] }>(stack.url, 'GET', `/api/chats/${contact}@c.us/messages`, { token: admin.accessToken });
    expect(page.body.messages.map((m) => m.body)).toContain('before linking');
    socket.close();
  });

  it('gives employees only their chats, live, and keeps tenants apart', async () => {
    const a = await linkTenant(stack, 'Alice');
    const b = await linkTenant(stack, 'Bob');
    const c1 = newNumber();
    const c2 = newNumber();
    for (const n of [c1, c2]) await phone(stack.simUrl, 'POST', '/phones', { number: n, name: `Contact ${n}` });
    await phone(stack.simUrl, 'POST', `/phones/${c1}/messages`, { to: a.number, body: 'hello from c1' });
    await phone(stack.simUrl, 'POST', `/phones/${c2}/messages`, { to: a.number, body: 'hello from c2' });
    await a.socket.next<Message>('message', (m) => m.body === 'hello from c2');

    // Admin A creates an employee and assigns chat c1.
    const email = `station-${Date.now()}@example.test`;
    const station = await api<{ id: string }>(stack.url, 'POST', '/api/auth/create-station', {
      token: a.admin.accessToken,
      body: { name: 'Station 1', email, password: 'station password' },
    });
    expect(station.status).toBe(201);
    const chat1 = `${c1}@c.us`;
    const chat2 = `${c2}@c.us`;
    expect((await api(stack.url, 'POST', '/api/permissions/assign', { token: a.admin.accessToken, body: { employeeId: station.body.id, chatId: chat1 } })).status).toBe(204);

    const login = await api<Account>(stack.url, 'POST', '/api/auth/login', { body: { email, password: 'station password' } });
    const emp = login.body;
    const empSocket = await connectSocket(stack.url, emp.accessToken);
    const empChats = await api<Chat[]>(stack.url, 'GET', '/api/chats', { token: emp.accessToken });
    expect(empChats.body.map((c) => c.id)).toEqual([chat1]);

    // Live: the employee gets c1's message, not c2's (sentinel: c2 is sent first).
    const from = empSocket.events.length;
    await phone(stack.simUrl, 'POST', `/phones/${c2}/messages`, { to: a.number, body: 'secret for admin' });
    await phone(stack.simUrl, 'POST', `/phones/${c1}/messages`, { to: a.number, body: 'for the station' });
    await empSocket.next<Message>('message', (m) => m.body === 'for the station', { from });
    expect(empSocket.events.slice(from).some((e) => JSON.stringify(e.payload).includes('secret for admin'))).toBe(false);

    // The employee answers c1; the contact's phone receives it. Other chats are refused.
    const reply = await api<Message>(stack.url, 'POST', `/api/chats/${chat1}/messages`, { token: emp.accessToken, body: { body: 'on it!' } });
    expect(reply.status).toBe(201);
    // The send answered after the network stored the message (ack 1): the contact's phone has it now.
    const inbox = await phone(stack.simUrl, 'GET', `/phones/${c1}/messages`);
    expect((inbox.body as { messages: { body: string }[] }).messages.map((m) => m.body)).toContain('on it!');
    expect((await api(stack.url, 'POST', `/api/chats/${chat2}/messages`, { token: emp.accessToken, body: { body: 'nope' } })).status).toBe(403);
    expect((await api(stack.url, 'GET', `/api/chats/${chat2}/messages`, { token: emp.accessToken })).status).toBe(403);

    // Admin B sees none of A's chats, messages or events.
    const bChats = await api<Chat[]>(stack.url, 'GET', '/api/chats', { token: b.admin.accessToken });
    expect(bChats.body.map((c) => c.id)).not.toContain(chat1);
    expect((await api(stack.url, 'GET', `/api/chats/${chat1}/messages`, { token: b.admin.accessToken })).status).toBe(404);
    expect(JSON.stringify(b.socket.events)).not.toMatch(/hello from c1|for the station|secret for admin|on it!/);

    // A revoke takes effect at once on the employee's open socket.
    expect((await api(stack.url, 'POST', '/api/permissions/revoke', { token: a.admin.accessToken, body: { employeeId: station.body.id, chatId: chat1 } })).status).toBe(204);
    const afterRevoke = empSocket.events.length;
    await phone(stack.simUrl, 'POST', `/phones/${c1}/messages`, { to: a.number, body: 'after revoke' });
    await a.socket.next<Message>('message', (m) => m.body === 'after revoke');
    // Sentinel: assign c2 and send there; the employee sees that, and never "after revoke".
    await api(stack.url, 'POST', '/api/permissions/assign', { token: a.admin.accessToken, body: { employeeId: station.body.id, chatId: chat2 } });
    await phone(stack.simUrl, 'POST', `/phones/${c2}/messages`, { to: a.number, body: 'sentinel' });
    await empSocket.next<Message>('message', (m) => m.body === 'sentinel', { from: afterRevoke });
    expect(empSocket.events.slice(afterRevoke).some((e) => JSON.stringify(e.payload).includes('after revoke'))).toBe(false);

    for (const s of [a.socket, b.socket, empSocket]) s.close();
  });
});
