import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, connectSocket, register } from '../../helpers/client.js';
import { startTestStack, type TestStack } from '../../helpers/stack.js';

/** Pairing codes are a wwebjs feature: the sandbox engine (the simulator) links by QR only, and says so. */
describe('POST /api/whatsapp/pairing-code on the sandbox engine', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('answers 409 before a QR shows and a clear 400 while one shows, and the session keeps waiting for its QR', async () => {
    const admin = await register(stack.url, 'Admin');
    const token = admin.accessToken;
    const socket = await connectSocket(stack.url, token);
    try {
      const none = await api<{ code: string }>(stack.url, 'POST', '/api/whatsapp/pairing-code', { token, body: { phone: '491701234567' } });
      expect(none.status).toBe(409);
      expect(none.body.code).toBe('WA_SESSION_NOT_RUNNING');

      await api(stack.url, 'POST', '/api/whatsapp/init', { token });
      await socket.next<string>('qr');
      const res = await api<{ code: string; message: string }>(stack.url, 'POST', '/api/whatsapp/pairing-code', { token, body: { phone: '491701234567' } });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('WA_VALIDATION');
      expect(res.body.message).toContain('links by QR code only');
      expect(socket.events.some((e) => e.name === 'pairing_code')).toBe(false);
      expect((await api<{ status: string }>(stack.url, 'GET', '/api/whatsapp/status', { token })).body.status).toBe('qr');
    } finally {
      socket.close();
    }
  });
});
