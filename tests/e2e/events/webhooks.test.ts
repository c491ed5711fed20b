import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../../src/webhooks/signature.js';
import { api, connectSocket, decodeQrDataUrl, phone, register } from '../../helpers/client.js';
import { startTestStack, type TestStack } from '../../helpers/stack.js';
import { startReceiver, type Receiver } from '../../integration/webhooks/receiver.js';

/** A WhatsApp message reaches an integrator's endpoint, signed, through a whole node. */
describe('webhooks on a running node', () => {
  let stack: TestStack;
  let receiver: Receiver;
  beforeAll(async () => {
    stack = await startTestStack({ env: { WEBHOOK_ALLOW_PRIVATE_URLS: 'true' } });
    receiver = await startReceiver();
  }, 60_000);
  afterAll(async () => {
    await receiver?.close();
    await stack?.close();
  });

  it('delivers a received message and the session status, signed, and lists the attempts', async () => {
    const business = `4915${String(Date.now() % 10_000_000).padStart(7, '0')}`;
    const contact = `4914${String(Date.now() % 10_000_000).padStart(7, '0')}`;
    await phone(stack.simUrl, 'POST', '/phones', { number: business, name: 'Hook Shop' });
    await phone(stack.simUrl, 'POST', '/phones', { number: contact, name: 'Client' });
    const admin = await register(stack.url, 'Hooked');
    const secret = 'e2e-webhook-secret-0123456789';
    const created = await api<{ id: string }>(stack.url, 'POST', '/api/webhooks', {
      token: admin.accessToken,
      body: { url: receiver.url, events: ['message', 'session_status'], secret },
    });
    expect(created.status).toBe(201);

    const socket = await connectSocket(stack.url, admin.accessToken);
    await api(stack.url, 'POST', '/api/whatsapp/init', { token: admin.accessToken });
    await phone(stack.simUrl, 'POST', `/phones/${business}/link`, { qr: decodeQrDataUrl(await socket.next<string>('qr')) });
    await phone(stack.simUrl, 'POST', `/phones/${contact}/messages`, { to: business, body: 'to the webhook' });
    await receiver.until((got) => got.some((g) => g.json.event === 'message'));
    socket.close();

    const message = receiver.received.find((g) => g.json.event === 'message')!;
    expect(verifySignature(secret, String(message.headers['x-wa-signature']), message.body)).toBe(true);
    expect(message.json.payload).toMatchObject({ body: 'to the webhook', chatId: `${contact}@c.us`, fromMe: false });
    expect(message.json.tenantId).toBe(admin.user.tenantId);
    const statuses = receiver.received.filter((g) => g.json.event === 'session_status').map((g) => (g.json.payload as { status: string }).status);
    expect(statuses).toContain('connected');
    // Delivered in the tenant's order.
    const seqs = receiver.received.map((g) => g.json.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    const deliveries = await api<{ deliveries: { eventId: string; state: string; attempts: { statusCode: number }[] }[] }>(
      stack.url,
      'GET',
      `/api/webhooks/${created.body.id}/deliveries`,
      { token: admin.accessToken },
    );
    const delivered = deliveries.body.deliveries.find((d) => d.eventId === message.json.id);
    expect(delivered).toMatchObject({ state: 'succeeded', attempts: [{ statusCode: 200 }] });

    // Every recorded attempt is counted on the node's /metrics, by outcome (right after it is recorded).
    const succeeded = async (): Promise<number> => {
      const metrics = await (await fetch(`${stack.url}/metrics`)).text();
      return Number(/^wa_webhook_attempt_duration_seconds_count\{outcome="succeeded"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
    };
    for (let i = 0; i < 50 && (await succeeded()) < 2; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await succeeded()).toBeGreaterThanOrEqual(2); // the message and at least one status
  });
});
