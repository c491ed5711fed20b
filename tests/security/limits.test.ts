import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../helpers/client.js';
import { TEST_DATABASE_URL } from '../helpers/db.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { fastifyServerOptions } from '../../src/http/uws-adapter.js';
import { createTestApp, type TestApp } from '../integration/http/helper.js';
import { SECURITY_HEADERS } from './support/requests.js';
import { openStoreProbe, type StoreProbe } from './support/snapshot.js';
import { registerAdmin } from './support/world.js';

/**
 * The edges of the HTTP surface over real sockets: body and upload limits, the request timeout against
 * slow clients (on both HTTP servers), security headers on every kind of answer, CORS exactly as
 * configured.
 */

const ORIGIN = 'https://console.example';
const MEDIA_MAX_BYTES = 64 * 1024;

let stack: TestStack;
let probe: StoreProbe;
let token: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  stack = await startTestStack({ env: { CORS_ORIGINS: ORIGIN, MEDIA_MAX_BYTES: String(MEDIA_MAX_BYTES) } });
  probe = openStoreProbe(TEST_DATABASE_URL, stack.schema);
  token = (await registerAdmin(stack.url, 'Limits')).accessToken;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await probe?.close();
  await stack?.close();
});

/** Opens a raw TCP connection, for clients no fetch can imitate. */
function rawConnection(url: string): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => resolve({ socket, received: () => text, closed }));
    sockets.push(socket);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('error', reject);
  });
}

function multipart(boundary: string, data: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

/**
 * A slow client: sends the head, then one byte of body every 200 ms (so no idle timer fires), for at
 * most `maxBytes` bytes. Resolves with what the server answered once it closed the connection, or
 * rejects when the client ran out of bytes first (the server let it hold the connection).
 */
async function trickle(url: string, head: string, maxBytes: number): Promise<string> {
  const conn = await rawConnection(url);
  conn.socket.write(head);
  let sent = 0;
  const timer = setInterval(() => {
    if (sent++ < maxBytes && !conn.socket.destroyed) conn.socket.write('x');
  }, 200);
  try {
    const outcome = await Promise.race([conn.closed.then(() => 'closed' as const), new Promise<'held'>((resolve) => setTimeout(() => resolve('held'), maxBytes * 200 + 1_000))]);
    if (outcome === 'held') throw new Error(`the server still held the connection after ${maxBytes} trickled bytes`);
    return conn.received();
  } finally {
    clearInterval(timer);
  }
}

const SLOW_HEAD = 'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"email":"';

describe.each(['uws', 'node'] as const)('request timeout on the %s server', (kind) => {
  let app: TestApp;
  let url: string;
  beforeAll(async () => {
    app = await createTestApp({ env: { REQUEST_TIMEOUT_MS: '1000', HTTP_SERVER: kind }, serverOptions: await fastifyServerOptions(kind) });
    url = await app.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('cuts a client that trickles its body in past REQUEST_TIMEOUT_MS', async () => {
    // 50 bytes at 200 ms is 10 s: ten times the timeout, and past uWS's own 10 s idle timer too.
    const answer = await trickle(url, SLOW_HEAD, 50);
    // node answers 408 first; fastify-uws aborts the request without an answer.
    if (kind === 'node') expect(answer).toMatch(/^HTTP\/1\.1 408 [\s\S]*"code":"WA_VALIDATION"/);
    else expect(answer).toBe('');
  });

  // uWS has its own header deadline (about 10 s, not configurable); node's is REQUEST_TIMEOUT_MS.
  if (kind === 'node') {
    it('cuts a client that trickles its headers in past REQUEST_TIMEOUT_MS', async () => {
      expect(await trickle(url, 'GET /api/chats HTTP/1.1\r\nHost: x\r\nX-Slow: ', 50)).toMatch(/^HTTP\/1\.1 408 /);
    });
  }

  it('serves an ordinary request under the same timeout', async () => {
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });
});

describe('limits, headers and CORS', () => {
  it('refuses a JSON body over BODY_LIMIT_BYTES with a 413 in the API error shape', async () => {
    const before = await probe.digest();
    const big = JSON.stringify({ name: 'x'.repeat(stack.config.BODY_LIMIT_BYTES), email: 'big@example.test', password: 'long enough' });
    const res = await fetch(`${stack.url}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ statusCode: 413, code: 'WA_VALIDATION' });
    expect(await probe.digest()).toBe(before);
  });

  it('refuses an upload over MEDIA_MAX_BYTES with a 413 and stores nothing', async () => {
    const before = await probe.digest();
    const boundary = 'limitboundary';
    const res = await fetch(`${stack.url}/api/chats/491700000001@c.us/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: multipart(boundary, Buffer.alloc(MEDIA_MAX_BYTES + 1, 1)),
    });
    expect(res.status).toBe(413);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe('WA_VALIDATION');
    expect(body.message.length).toBeGreaterThan(5);
    expect(await probe.digest()).toBe(before);
  });

  it('puts the security headers on every kind of answer', async () => {
    const answers = [
      await fetch(`${stack.url}/healthz`),
      await fetch(`${stack.url}/api/chats`, { headers: { authorization: `Bearer ${token}` } }),
      await fetch(`${stack.url}/api/chats`),
      await fetch(`${stack.url}/api/no-such-route`),
      await fetch(`${stack.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }),
      await fetch(`${stack.url}/api/docs/json`),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 401, 404, 415, 200]);
    for (const res of answers) {
      await res.arrayBuffer();
      for (const [name, pattern] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(name) ?? '', `${res.url} ${name}`).toMatch(pattern);
    }
  });

  it('allows cross-origin calls from the configured origin only, on REST and on Socket.IO', async () => {
    const rest = async (origin: string) => {
      const res = await api(stack.url, 'GET', '/api/chats', { token, headers: { origin } });
      return res.headers.get('access-control-allow-origin');
    };
    expect(await rest(ORIGIN)).toBe(ORIGIN);
    expect(await rest('https://evil.example')).toBeNull();
    const preflight = await fetch(`${stack.url}/api/chats`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    await preflight.arrayBuffer();
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const polling = async (origin: string) => {
      const res = await fetch(`${stack.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin } });
      await res.arrayBuffer();
      return res.headers.get('access-control-allow-origin');
    };
    expect(await polling(ORIGIN)).toBe(ORIGIN);
    expect(await polling('https://evil.example')).toBeNull();
  });
});
