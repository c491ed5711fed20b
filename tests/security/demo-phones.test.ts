import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, connectSocket, decodeQrDataUrl, type RecordedSocket } from '../helpers/client.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { newNumber } from './support/link.js';
import { registerAdmin } from './support/world.js';

/**
 * The demo's simulated phones (sandbox engine) live on one network shared by every tenant. A tenant's
 * admin drives them through /api/demo/*; it must not link another tenant's business phone to its own
 * session (which would move that tenant's chats to it) nor write as that phone.
 */

let stack: TestStack;
const sockets: RecordedSocket[] = [];

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await stack?.close();
});

async function adminWithQr(name: string): Promise<{ token: string; socket: RecordedSocket; qr: string }> {
  const admin = await registerAdmin(stack.url, name);
  const socket = await connectSocket(stack.url, admin.accessToken);
  sockets.push(socket);
  expect((await api(stack.url, 'POST', '/api/whatsapp/init', { token: admin.accessToken })).status).toBe(200);
  return { token: admin.accessToken, socket, qr: decodeQrDataUrl(await socket.next<string>('qr')) };
}

describe('demo phones across tenants', () => {
  it('keeps a phone linked by one tenant out of another tenant\'s reach', async () => {
    const owner = await adminWithQr('Owner');
    const business = newNumber();
    expect((await api(stack.url, 'POST', '/api/demo/phones', { token: owner.token, body: { number: business, name: 'Owner shop' } })).status).toBe(201);
    expect((await api(stack.url, 'POST', `/api/demo/phones/${business}/link`, { token: owner.token, body: { qr: owner.qr } })).status).toBe(200);
    await owner.socket.next<{ status: string }>('session_status', (s) => s.status === 'connected');

    const intruder = await adminWithQr('Intruder');
    const takeover = await api<{ code: string }>(stack.url, 'POST', `/api/demo/phones/${business}/link`, { token: intruder.token, body: { qr: intruder.qr } });
    expect(takeover.status).toBe(403);
    expect(takeover.body.code).toBe('WA_FORBIDDEN');
    const impersonation = await api(stack.url, 'POST', `/api/demo/phones/${business}/messages`, { token: intruder.token, body: { to: newNumber(), body: 'as the owner' } });
    expect(impersonation.status).toBe(403);

    // The owner's session is untouched; the intruder can still link a phone of its own.
    const status = await api<{ status: string }>(stack.url, 'GET', '/api/whatsapp/status', { token: owner.token });
    expect(status.body.status).toBe('connected');
    const own = newNumber();
    expect((await api(stack.url, 'POST', '/api/demo/phones', { token: intruder.token, body: { number: own, name: 'Intruder shop' } })).status).toBe(201);
    expect((await api(stack.url, 'POST', `/api/demo/phones/${own}/link`, { token: intruder.token, body: { qr: intruder.qr } })).status).toBe(200);
    await intruder.socket.next<{ status: string }>('session_status', (s) => s.status === 'connected');
  });
});
