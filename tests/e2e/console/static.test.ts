import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleError, handleNotFound } from '../../../src/http/errors.js';
import { UnauthenticatedError } from '../../../src/domain/errors.js';
import { createLogger } from '../../../src/domain/log.js';
import { consoleCsp, isServerPath, registerConsole, type ConsoleOptions, type DemoOptions } from '../../../src/http/static.js';
import { createSimulator } from '../../../src/simulator/server.js';

/**
 * The console plugin on a Fastify app with the API's own error and not-found handlers and a few stand-in
 * server routes, over a hand-made build in a temporary folder (the browser tests use the real build).
 */

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-abc123.js"></script></head><body><div id="app"></div></body></html>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;

let dir: string;
let app: FastifyInstance;

async function appWith(opts: ConsoleOptions): Promise<FastifyInstance> {
  const fastify = Fastify({ logger: false });
  fastify.setErrorHandler(handleError);
  fastify.setNotFoundHandler(handleNotFound);
  fastify.get('/api/chats', async () => ({ from: 'api' }));
  fastify.get('/api/docs/json', async () => ({ openapi: '3.0.0' }));
  fastify.get('/healthz', async () => ({ status: 'ok' }));
  await registerConsole(fastify, opts);
  await fastify.ready();
  return fastify;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wa-console-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'index.html'), INDEX);
  await writeFile(join(dir, 'assets', 'app-abc123.js'), SCRIPT);
  await writeFile(join(dir, 'robots.txt'), 'User-agent: *\n');
  app = await appWith({ distDir: dir });
});

afterAll(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the console plugin', () => {
  it('serves index.html at / for revalidation, with the console CSP', async () => {
    const res = await app.inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers.etag).toMatch(/^"[\w-]+"$/);
    expect(res.headers['content-security-policy']).toBe(consoleCsp());
    expect(res.headers['content-security-policy']).toContain('img-src \'self\' data: blob:');
    expect(res.body).toBe(INDEX);
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await app.inject({ url: '/' });
    const again = await app.inject({ url: '/', headers: { 'if-none-match': String(first.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('serves hashed assets as immutable, gzipped when the client accepts it', async () => {
    const plain = await app.inject({ url: '/assets/app-abc123.js' });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(SCRIPT);

    const zipped = await app.inject({ url: '/assets/app-abc123.js', headers: { 'accept-encoding': 'gzip, br' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toContain('accept-encoding');
    expect(gunzipSync(zipped.rawPayload).toString()).toBe(SCRIPT);
  });

  it('serves other files of the build by path, revalidated', async () => {
    const res = await app.inject({ url: '/robots.txt' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).toBe('User-agent: *\n');
  });

  it('answers the console routes of the browser with index.html (SPA fallback)', async () => {
    for (const url of ['/chats', '/chats/4915550101%40c.us', '/employees', '/whatsapp?x=1', '/signin']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).toBe(INDEX);
      expect(res.headers['content-security-policy'], url).toBe(consoleCsp());
    }
  });

  it('answers HEAD like GET without a body', async () => {
    const res = await app.inject({ method: 'HEAD', url: '/chats' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toBe('');
  });

  it('gives a missing asset a 404, never the page', async () => {
    for (const url of ['/assets/gone-999.js', '/assets/whatever', '/favicon.ico', '/old-app.css']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toMatchObject({ statusCode: 404, code: 'WA_NOT_FOUND' });
    }
  });

  it('does not shadow the API, Socket.IO, health or metrics paths', async () => {
    expect((await app.inject({ url: '/api/chats' })).json()).toEqual({ from: 'api' });
    expect((await app.inject({ url: '/api/docs/json' })).json()).toEqual({ openapi: '3.0.0' });
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    for (const url of ['/api', '/api/nothing/here', '/api/demo/config', '/socket.io/', '/metrics', '/readyz', '/api?x=1']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type'], url).toContain('application/json');
      expect(res.json(), url).toMatchObject({ code: 'WA_NOT_FOUND' });
    }
  });

  it('leaves other methods on console paths to the not-found handler', async () => {
    const res = await app.inject({ method: 'POST', url: '/chats' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'WA_NOT_FOUND' });
  });

  it('classifies server paths by whole segments', () => {
    expect(isServerPath('/api')).toBe(true);
    expect(isServerPath('/api/x')).toBe(true);
    expect(isServerPath('/metrics')).toBe(true);
    expect(isServerPath('/apis')).toBe(false);
    expect(isServerPath('/healthzone')).toBe(false);
    expect(isServerPath('/chats/api')).toBe(false);
  });
});

describe('the demo routes', () => {
  /** Stands in for the REST token check: two fixed tokens. */
  const authenticate: DemoOptions['authenticate'] = async (token) => {
    if (token === 'admin-token') return { role: 'admin' };
    if (token === 'employee-token') return { role: 'employee' };
    throw new UnauthenticatedError('Invalid access token');
  };
  const admin = { authorization: 'Bearer admin-token' };

  it('exist only with the sandbox engine', async () => {
    for (const url of ['/api/demo/config', '/api/demo/phones']) {
      const res = await app.inject({ method: url.endsWith('config') ? 'GET' : 'POST', url, headers: admin, payload: {} });
      expect(res.statusCode, url).toBe(404);
    }
  });

  it('drive the real simulator\'s phones for an admin, and only for an admin', async () => {
    const sim = createSimulator({ port: 0, log: createLogger({ level: 'silent' }) });
    const simulatorUrl = await sim.listen();
    const demo = await appWith({ distDir: dir, demo: { simulatorUrl, authenticate } });
    try {
      expect((await demo.inject({ url: '/api/demo/config' })).json()).toEqual({ simulatorUrl });

      const created = await demo.inject({ method: 'POST', url: '/api/demo/phones', headers: admin, payload: { number: '4915550000', name: 'Shop' } });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ number: '4915550000', linked: false });
      expect(sim.phone('4915550000')?.name).toBe('Shop');

      await demo.inject({ method: 'POST', url: '/api/demo/phones', headers: admin, payload: { number: '4915550101', name: 'Alice' } });
      const sent = await demo.inject({
        method: 'POST',
        url: '/api/demo/phones/4915550101/messages',
        headers: admin,
        payload: { to: '4915550000', body: 'hello' },
      });
      expect(sent.statusCode).toBe(201);
      expect(sent.json()).toHaveProperty('id');

      // The simulator's own refusal comes through unchanged.
      const badQr = await demo.inject({ method: 'POST', url: '/api/demo/phones/4915550000/link', headers: admin, payload: { qr: 'no-such-qr' } });
      expect(badQr.statusCode).toBe(404);
      expect(badQr.json()).toMatchObject({ code: 'WA_NOT_FOUND' });

      const anonymous = await demo.inject({ method: 'POST', url: '/api/demo/phones', payload: { number: '4915550002', name: 'X' } });
      expect(anonymous.statusCode).toBe(401);
      const employee = await demo.inject({
        method: 'POST',
        url: '/api/demo/phones',
        headers: { authorization: 'Bearer employee-token' },
        payload: { number: '4915550002', name: 'X' },
      });
      expect(employee.statusCode).toBe(403);
      expect(sim.phone('4915550002')).toBeNull();

      const invalid = await demo.inject({ method: 'POST', url: '/api/demo/phones/12/link', headers: admin, payload: { qr: 'x' } });
      expect(invalid.statusCode).toBe(400);
    } finally {
      await demo.close();
      await sim.close();
    }
  });

  it('answer 503 when the simulator is down', async () => {
    const sim = createSimulator({ port: 0, log: createLogger({ level: 'silent' }) });
    const simulatorUrl = await sim.listen();
    await sim.close();
    const demo = await appWith({ distDir: dir, demo: { simulatorUrl, authenticate } });
    try {
      const res = await demo.inject({ method: 'POST', url: '/api/demo/phones', headers: admin, payload: { number: '4915550000', name: 'Shop' } });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ statusCode: 503, message: 'The WhatsApp simulator cannot be reached' });
    } finally {
      await demo.close();
    }
  });
});

describe('without a build', () => {
  it('explains what to run instead of serving a 404, and keeps the API', async () => {
    const empty = await appWith({ distDir: join(dir, 'not-built') });
    try {
      const res = await empty.inject({ url: '/chats' });
      expect(res.statusCode).toBe(503);
      expect(res.body).toContain('npm run build');
      expect((await empty.inject({ url: '/api/chats' })).json()).toEqual({ from: 'api' });
    } finally {
      await empty.close();
    }
  });
});
