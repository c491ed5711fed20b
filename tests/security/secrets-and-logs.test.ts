import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtectedHeader } from 'jose';
import { ConfigError, ConfigSchema, loadConfig } from '../../src/config.js';
import type { Message } from '../../src/domain/types.js';
import type { RunningNode } from '../../src/node.js';
import { startTestCluster, type TestCluster } from '../helpers/cluster.js';
import { api, connectSocket, decodeQrDataUrl, login, phone, type RecordedSocket } from '../helpers/client.js';
import { TEST_DATABASE_URL } from '../helpers/db.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { contacts, newNumber } from './support/link.js';
import { registerAdmin } from './support/world.js';

/**
 * Secrets stay secret. An end-to-end run at debug level (register, wrong and right logins, refresh, an
 * employee, QR linking, messages and a file both ways, logout) and then a scan of every log line the
 * node and the simulator wrote: no password, token, QR, message body, file or database password. Secrets
 * come only from configuration. And the JWT key rotates without logging anyone out.
 */

const DB_PASSWORD = 'db-pass-7f3a9c';
let stack: TestStack;
const sockets: RecordedSocket[] = [];

beforeAll(async () => {
  // Trust authentication ignores the password, so the URL may carry one: it must not reach the logs.
  const url = new URL(TEST_DATABASE_URL);
  url.password = DB_PASSWORD;
  stack = await startTestStack({ env: { DATABASE_URL: url.toString() } });
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await stack?.close();
});

describe('logs of an end-to-end run', () => {
  it('contain no password, token, QR, message body, file or database password', async () => {
    const secrets: string[] = [DB_PASSWORD, stack.config.JWT_SECRET];
    const number = newNumber();
    await phone(stack.simUrl, 'POST', '/phones', { number, name: 'Secretive shop' });
    const admin = await registerAdmin(stack.url, 'Secretive');
    const adminPassword = 'correct horse battery';
    secrets.push(admin.accessToken, admin.refreshToken);
    expect((await api(stack.url, 'POST', '/api/auth/login', { body: { email: admin.user.email, password: 'wrong-password-91c2' } })).status).toBe(401);
    secrets.push('wrong-password-91c2');
    const session = await login(stack.url, admin.user.email, adminPassword);
    const refreshed = await api<{ accessToken: string; refreshToken: string }>(stack.url, 'POST', '/api/auth/refresh', { body: { refreshToken: session.refreshToken } });
    expect(refreshed.status).toBe(200);
    // A reused refresh token is logged as reuse, by family id only.
    expect((await api(stack.url, 'POST', '/api/auth/refresh', { body: { refreshToken: session.refreshToken } })).status).toBe(401);
    secrets.push(session.accessToken, session.refreshToken, refreshed.body.accessToken, refreshed.body.refreshToken);
    const token = (await login(stack.url, admin.user.email, adminPassword)).accessToken;
    secrets.push(token);

    const stationPassword = 'station-pass-5e1b';
    const email = `station-${Date.now()}@example.test`;
    expect((await api(stack.url, 'POST', '/api/auth/create-station', { token, body: { name: 'Till', email, password: stationPassword } })).status).toBe(201);
    const station = await login(stack.url, email, stationPassword);
    secrets.push(stationPassword, station.accessToken, station.refreshToken);
    expect((await api(stack.url, 'GET', '/api/chats', { token: `${token}x` })).status).toBe(401);

    const socket = await connectSocket(stack.url, token);
    sockets.push(socket);
    expect((await api(stack.url, 'POST', '/api/whatsapp/init', { token })).status).toBe(200);
    const qrImage = await socket.next<string>('qr');
    const qr = decodeQrDataUrl(qrImage);
    secrets.push(qr, qrImage.slice(22, 122));
    expect((await phone(stack.simUrl, 'POST', `/phones/${number}/link`, { qr })).status).toBe(200);
    await socket.next<{ status: string }>('session_status', (s) => s.status === 'connected');

    const [customer] = (await contacts(stack.simUrl, 1, 'Customer')) as [string];
    const inbound = 'inbound body 3d9f confidential';
    const fileBytes = Buffer.from('file bytes 8c2e confidential').toString('base64');
    const received = await phone(stack.simUrl, 'POST', `/phones/${customer}/messages`, { to: number, body: inbound, media: { mimetype: 'application/pdf', filename: 'salary-8c2e.pdf', dataBase64: fileBytes } });
    await socket.next<Message>('message', (m) => m.id === (received.body as { id: string }).id);
    const outbound = 'outbound body 6a1d confidential';
    expect((await api(stack.url, 'POST', `/api/chats/${customer}@c.us/messages`, { token, body: { body: outbound }, headers: { 'idempotency-key': 'idem-key-77aa' } })).status).toBe(201);
    expect((await api(stack.url, 'GET', `/api/media/${(received.body as { id: string }).id}`, { token })).status).toBe(200);
    expect((await api(stack.url, 'POST', '/api/auth/logout', { body: { refreshToken: refreshed.body.refreshToken } })).status).toBe(204);
    await stack.node.sessions.drain();
    secrets.push(inbound, outbound, fileBytes, 'file bytes 8c2e');

    expect(stack.logs.length).toBeGreaterThan(20);
    const leaks = secrets.flatMap((secret) => stack.logs.filter((line) => line.includes(secret)).map((line) => `${secret.slice(0, 24)}… in ${line.slice(0, 300)}`));
    expect(leaks).toEqual([]);
    console.info(`logs: ${stack.logs.length} lines at debug level scanned for ${secrets.length} secrets, 0 found`);
  }, 60_000);
});

describe('secrets come only from configuration', () => {
  it('has no default for any secret and refuses to start without a strong JWT secret, without echoing it', () => {
    for (const key of ['JWT_SECRET', 'DATABASE_URL', 'REDIS_URL', 'METRICS_BASIC_AUTH'] as const) {
      expect((ConfigSchema.properties[key] as { default?: unknown }).default, key).toBeUndefined();
    }
    expect(() => loadConfig({})).toThrow(ConfigError);
    const weak = 'short-secret-4411';
    let message = '';
    try {
      loadConfig({ JWT_SECRET: weak });
    } catch (err) {
      message = err instanceof Error ? err.message : '';
    }
    expect(message).toContain('JWT_SECRET');
    expect(message).not.toContain(weak);
  });
});

describe('JWT key rotation', () => {
  const OLD = 'old-jwt-secret-0123456789abcdef0123456789ab';
  const NEW = 'new-jwt-secret-0123456789abcdef0123456789ab';
  let cluster: TestCluster;
  beforeAll(async () => {
    // Several nodes on one database need Redis (a shared one, under a key prefix of this test's own).
    cluster = await startTestCluster({ ttlMs: 15_000 });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  const nodeWith = (id: string, secret: string, previous: string): Promise<RunningNode> =>
    cluster.startNode(id, { JWT_SECRET: secret, JWT_PREVIOUS_SECRETS: previous });
  const kid = (token: string) => decodeProtectedHeader(token).kid;
  const chats = async (node: RunningNode, token: string) => (await api(node.url, 'GET', '/api/chats', { token })).status;

  it('keeps users logged in through a rolling rotation, and retires the old key only after', async () => {
    // Before: every node signs and verifies with the old key; a user logs in.
    const before = await nodeWith('before', OLD, '');
    const user = await registerAdmin(before.url, 'Rotating');
    // Phase 1: every node learns the new key (verification only). Phase 2: nodes sign with the new key,
    // still accepting the old one. Phase 3, once old tokens expired: the old key is dropped.
    const phase1 = await nodeWith('phase1', OLD, NEW);
    const phase2 = await nodeWith('phase2', NEW, OLD);
    const after = await nodeWith('after', NEW, '');

    expect(await chats(phase2, user.accessToken)).toBe(200);
    const socket = await connectSocket(phase2.url, user.accessToken);
    sockets.push(socket);
    expect(socket.socket.connected).toBe(true);

    // The refresh token is no JWT: it works on any node and yields a token of the new key.
    const refreshed = await api<{ accessToken: string; refreshToken: string }>(phase2.url, 'POST', '/api/auth/refresh', { body: { refreshToken: user.refreshToken } });
    expect(refreshed.status).toBe(200);
    expect(kid(refreshed.body.accessToken)).not.toBe(kid(user.accessToken));
    // A token of the new key is good on a node still in phase 1 (a mixed fleet during the roll-out) ...
    expect(await chats(phase1, refreshed.body.accessToken)).toBe(200);
    expect(await chats(after, refreshed.body.accessToken)).toBe(200);
    // ... but not on a node that never heard of the new key: hence phase 1 first.
    expect(await chats(before, refreshed.body.accessToken)).toBe(401);
    // Once the old key is retired, its tokens stop working.
    expect(await chats(after, user.accessToken)).toBe(401);
  }, 60_000);
});
