import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../../src/domain/types.js';
import { api, connectSocket, decodeQrDataUrl, phone, register, type Account, type RecordedSocket } from '../../helpers/client.js';
import { startTestStack, type TestStack } from '../../helpers/stack.js';

/**
 * GET /metrics on a whole node (simulator, PostgreSQL, worker actors): after a real link, an inbound and
 * an outbound message, the exposition passes `promtool check metrics` (Debian package `prometheus`) and
 * shows what happened, without a tenant id anywhere.
 */

const AUTH = 'scraper:s3cret-metrics';
const basic = (creds: string) => `Basic ${Buffer.from(creds).toString('base64')}`;

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  let stack: TestStack;
  let admin: Account;
  let socket: RecordedSocket;
  const number = `4915${String(Date.now() % 10_000_000).padStart(7, '0')}`;
  const contact = `4916${String(Date.now() % 10_000_000).padStart(7, '0')}`;

  beforeAll(async () => {
    stack = await startTestStack({ env: { METRICS_BASIC_AUTH: AUTH } });
    await phone(stack.simUrl, 'POST', '/phones', { number, name: 'Metrics Shop' });
    await phone(stack.simUrl, 'POST', '/phones', { number: contact, name: 'Metrics Contact' });
    admin = await register(stack.url, 'Mia');
    socket = await connectSocket(stack.url, admin.accessToken);
    expect((await api(stack.url, 'POST', '/api/whatsapp/init', { token: admin.accessToken })).status).toBe(200);
    const qr = decodeQrDataUrl(await socket.next<string>('qr'));
    expect((await phone(stack.simUrl, 'POST', `/phones/${number}/link`, { qr })).status).toBe(200);
    await socket.next<{ status: string }>('session_status', (s) => s.status === 'connected');
    await phone(stack.simUrl, 'POST', `/phones/${contact}/messages`, { to: number, body: 'hi metrics' });
    await socket.next<Message>('message', (m) => m.body === 'hi metrics');
    const sent = await api(stack.url, 'POST', `/api/chats/${contact}@c.us/messages`, { token: admin.accessToken, body: { body: 'answer' } });
    expect(sent.status).toBe(201);
  });
  afterAll(async () => {
    socket?.close();
    await stack?.close();
  });

  it('refuses a scrape without the configured basic auth credentials', async () => {
    const none = await api(stack.url, 'GET', '/metrics');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(none.body).toMatchObject({ statusCode: 401, code: 'WA_UNAUTHENTICATED' });
    const wrong = await api(stack.url, 'GET', '/metrics', { headers: { authorization: basic('scraper:guess') } });
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain('wa_');
  });

  it('serves metrics that promtool accepts and that show sessions, messages, commands, sockets and HTTP', async () => {
    const res = await api(stack.url, 'GET', '/metrics', { headers: { authorization: basic(AUTH) } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);

    const check = spawnSync('promtool', ['check', 'metrics'], { input: res.text, encoding: 'utf8' });
    expect(check.error).toBeUndefined();
    expect({ status: check.status, output: `${check.stdout}${check.stderr}` }).toEqual({ status: 0, output: '' });

    const text = res.text;
    expect(sample(text, 'wa_sessions{status="connected"}')).toBe(1);
    expect(sample(text, 'wa_actors{status="running"}')).toBe(1);
    expect(sample(text, 'wa_actor_starts_total{kind="first"}')).toBe(1);
    expect(sample(text, 'wa_lease_acquisitions_total')).toBe(1);
    expect(sample(text, 'wa_messages_total{direction="in"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'wa_messages_total{direction="out"}')).toBe(1);
    expect(sample(text, 'wa_persist_batch_size_count')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'wa_actor_command_duration_seconds_count{command="session.send",outcome="ok"}')).toBe(1);
    expect(sample(text, 'wa_socketio_connected_clients')).toBe(1);
    expect(sample(text, 'wa_socketio_events_emitted_total{event="message"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'wa_http_request_duration_seconds_count{method="POST",route="/api/chats/:chatId/messages",status="201"}')).toBe(1);
    expect(text).toContain('process_resident_memory_bytes');
    // The same onResponse path writes one access line per request (uWS, the default server, included).
    expect(stack.logs.some((l) => l.includes('"request completed"') && l.includes('"statusCode":201'))).toBe(true);
    // No per-tenant series: neither the tenant, the user nor the chat appears in any label.
    expect(text).not.toContain(admin.user.tenantId);
    expect(text).not.toContain(admin.user.id);
    expect(text).not.toContain(contact);
  });
});
