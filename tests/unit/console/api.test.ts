import { describe, expect, it } from 'vitest';
import { Api, ApiError, filenameOf, type SessionStore } from '../../../web/src/lib/api.js';
import { registerFormats } from '../../../web/src/lib/formats.js';
import { ChatList, type Session } from '../../../web/src/lib/schemas.js';

/** The console's REST client with a scripted fetch: bearer tokens, one shared refresh, checked bodies. */

registerFormats();

const user = { id: '00000000-0000-4000-8000-000000000001', name: 'Ada', email: 'ada@example.test', role: 'admin' as const, tenantId: '00000000-0000-4000-8000-000000000002' };
const session = (n: number): Session => ({ accessToken: `access-${n}`, refreshToken: `refresh-${n}`, tokenType: 'Bearer', expiresIn: 900, user });

function memoryStore(initial: Session | null): SessionStore & { saved: (Session | null)[] } {
  let current = initial;
  const saved: (Session | null)[] = [];
  return {
    saved,
    load: () => current,
    save(s) {
      current = s;
      saved.push(s);
    },
  };
}

type Call = { url: string; auth: string | null; body: string | null };

/** A fetch that answers from `route` and records every call. */
function scriptedFetch(route: (call: Call) => Response | Promise<Response>): { fetch: typeof fetch; calls: Call[] } {
  const calls: Call[] = [];
  const fake = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    const call = { url: String(input), auth: headers.get('authorization'), body: typeof init?.body === 'string' ? init.body : null };
    calls.push(call);
    return route(call);
  };
  return { fetch: fake as typeof fetch, calls };
}

const json = (status: number, body: unknown): Response => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const unauthorized = (): Response => json(401, { statusCode: 401, code: 'WA_UNAUTHENTICATED', error: 'Unauthorized', message: 'Invalid access token' });

describe('the console API client', () => {
  it('sends the access token and returns a body that matches its schema', async () => {
    const { fetch, calls } = scriptedFetch(() => json(200, []));
    const api = new Api(memoryStore(session(1)), fetch);
    expect(await api.json('/api/chats', ChatList)).toEqual([]);
    expect(calls[0]?.auth).toBe('Bearer access-1');
  });

  it('refreshes once for concurrent 401s, retries with the new token and saves the new session', async () => {
    let refreshes = 0;
    const { fetch, calls } = scriptedFetch(async (call) => {
      if (call.url === '/api/auth/refresh') {
        refreshes++;
        expect(JSON.parse(call.body ?? '{}')).toEqual({ refreshToken: 'refresh-1' });
        return json(200, session(2));
      }
      return call.auth === 'Bearer access-2' ? json(200, []) : unauthorized();
    });
    const store = memoryStore(session(1));
    const api = new Api(store, fetch);
    const results = await Promise.all([api.json('/api/chats', ChatList), api.json('/api/chats', ChatList), api.json('/api/chats', ChatList)]);
    expect(results).toEqual([[], [], []]);
    expect(refreshes).toBe(1);
    expect(api.current()?.accessToken).toBe('access-2');
    expect(store.saved.at(-1)?.refreshToken).toBe('refresh-2');
    expect(calls.filter((c) => c.url === '/api/auth/refresh' && c.auth !== null)).toEqual([]);
  });

  it('ends the session when the refresh token is refused, and tells listeners', async () => {
    const { fetch } = scriptedFetch(() => unauthorized());
    const api = new Api(memoryStore(session(1)), fetch);
    const seen: (Session | null)[] = [];
    api.onSession((s) => seen.push(s));
    const failure = await api.json('/api/chats', ChatList).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).status).toBe(401);
    expect(api.current()).toBeNull();
    expect(seen).toEqual([null]);
  });

  it('turns an error body into an ApiError with the server\'s code and message', async () => {
    const { fetch } = scriptedFetch(() => json(409, { statusCode: 409, code: 'WA_CONFLICT', error: 'Conflict', message: 'Email already registered' }));
    const api = new Api(memoryStore(null), fetch);
    const failure = await api.json('/api/auth/register', ChatList, { method: 'POST', body: {}, anonymous: true }).catch((err: unknown) => err);
    expect(failure).toMatchObject({ status: 409, code: 'WA_CONFLICT', message: 'Email already registered' });
  });

  it('rejects a 2xx body that does not match the schema instead of rendering it', async () => {
    const { fetch } = scriptedFetch(() => json(200, [{ id: 'not a chat' }]));
    const api = new Api(memoryStore(session(1)), fetch);
    await expect(api.json('/api/chats', ChatList)).rejects.toMatchObject({ code: 'WA_BAD_RESPONSE' });
  });

  it('reports an unreachable server as a network error', async () => {
    const api = new Api(memoryStore(session(1)), (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch);
    await expect(api.json('/api/chats', ChatList)).rejects.toMatchObject({ status: 0, code: 'WA_NETWORK' });
  });

  it('answers null for missing media and keeps the file name of present media', async () => {
    const { fetch } = scriptedFetch((call) =>
      call.url.endsWith('/gone')
        ? json(404, { statusCode: 404, code: 'WA_NOT_FOUND', error: 'Not Found', message: 'Media not found' })
        : new Response(new Uint8Array([1, 2, 3]), { headers: { 'content-type': 'image/png', 'content-disposition': 'attachment; filename="a.png"; filename*=UTF-8\'\'l%C3%B6we.png' } }),
    );
    const api = new Api(memoryStore(session(1)), fetch);
    expect(await api.file('/api/media/gone')).toBeNull();
    const file = await api.file('/api/media/here');
    expect(file?.filename).toBe('löwe.png');
    expect(file?.blob.size).toBe(3);
  });
});

describe('file names from Content-Disposition', () => {
  it('prefers the UTF-8 name, falls back to the plain one, and has none otherwise', () => {
    expect(filenameOf('attachment; filename="x.pdf"; filename*=UTF-8\'\'%E2%82%AC.pdf')).toBe('€.pdf');
    expect(filenameOf('attachment; filename="x.pdf"')).toBe('x.pdf');
    expect(filenameOf('attachment; filename*=UTF-8\'\'%E2%ZZ; filename="safe.pdf"')).toBe('safe.pdf');
    expect(filenameOf('attachment')).toBeNull();
    expect(filenameOf(null)).toBeNull();
  });
});
