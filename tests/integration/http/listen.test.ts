import { afterEach, describe, expect, it } from 'vitest';
import { fastifyServerOptions, type HttpServerKind } from '../../../src/http/uws-adapter.js';
import { createTestApp, uniqueEmail, type TestApp } from './helper.js';

/** The app over a real socket, on both HTTP servers main.ts can choose (HTTP_SERVER). */

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function call(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(url, init);
  const text = await res.text(); // always read: an unread body keeps the socket and stalls app.close()
  return { status: res.status, headers: res.headers, body: text.length > 0 ? (JSON.parse(text) as unknown) : null };
}

for (const kind of ['node', 'uws'] as HttpServerKind[]) {
  describe(`served by ${kind}`, () => {
    it('registers, reads with the bearer token, and answers errors in the shared shape', async () => {
      t = await createTestApp({ serverOptions: await fastifyServerOptions(kind) });
      const base = await t.app.listen({ port: 0, host: '127.0.0.1' });

      const register = await call(`${base}/api/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Net', email: uniqueEmail('net'), password: 'over the wire' }),
      });
      expect(register.status).toBe(201);
      const { accessToken } = register.body as { accessToken: string };

      const chats = await call(`${base}/api/chats`, { headers: { authorization: `Bearer ${accessToken}` } });
      expect({ status: chats.status, body: chats.body }).toEqual({ status: 200, body: [] });
      expect(chats.headers.get('x-request-id')).toEqual(expect.any(String));

      const denied = await call(`${base}/api/chats`);
      expect({ status: denied.status, body: denied.body }).toMatchObject({ status: 401, body: { code: 'WA_UNAUTHENTICATED' } });
      const docs = await call(`${base}/api/docs/json`);
      expect(docs.status).toBe(200);
    });
  });
}
