import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ApiErrorBody, Session } from './schemas.js';

/** A failed API call: the server's `{ statusCode, code, message }`, or a network/shape failure (status 0). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface DownloadedFile {
  blob: Blob;
  /** From Content-Disposition, when the server named the file. */
  filename: string | null;
}

/** The name in a Content-Disposition header: RFC 5987 `filename*` first, then plain `filename`. */
export function filenameOf(header: string | null): string | null {
  if (header === null) return null;
  const extended = /filename\*=UTF-8''([^;]+)/i.exec(header)?.[1];
  if (extended !== undefined) {
    try {
      return decodeURIComponent(extended.trim());
    } catch {
      // A malformed escape: fall back to the plain name.
    }
  }
  return /filename="([^"]*)"/i.exec(header)?.[1] ?? null;
}

/** Where the signed-in session lives: per tab, so two tabs can hold two accounts and closing forgets it. */
const STORAGE_KEY = 'wa-tenants.session';

export interface SessionStore {
  load(): Session | null;
  save(session: Session | null): void;
}

/** The part of the Web Storage API the session store uses (sessionStorage in the browser). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export function browserSessionStore(storage: KeyValueStorage): SessionStore {
  return {
    load() {
      const raw = storage.getItem(STORAGE_KEY);
      if (raw === null) return null;
      try {
        const parsed: unknown = JSON.parse(raw);
        return Value.Check(Session, parsed) ? parsed : null;
      } catch {
        // A corrupt entry is the same as none: the user signs in again.
        return null;
      }
    },
    save(session) {
      if (session === null) storage.removeItem(STORAGE_KEY);
      else storage.setItem(STORAGE_KEY, JSON.stringify(session));
    },
  };
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'DELETE';
  /** JSON-encoded unless it is FormData (multipart upload). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Public routes (login, register, refresh) send no token and never refresh. */
  anonymous?: boolean;
}

export type SessionListener = (session: Session | null) => void;

/**
 * The REST client: bearer token on every call, one refresh-and-retry on a 401 (concurrent 401s share
 * one refresh, because a refresh token is single-use), every response body checked against its schema.
 */
export class Api {
  private session: Session | null;
  private refreshing: Promise<Session | null> | undefined;
  private readonly listeners = new Set<SessionListener>();

  constructor(
    private readonly store: SessionStore,
    private readonly fetchFn: typeof fetch = (input, init) => fetch(input, init),
  ) {
    this.session = store.load();
  }

  current(): Session | null {
    return this.session;
  }

  /** Called with every new session (refresh, sign-in) and with null on sign-out. Returns unsubscribe. */
  onSession(listener: SessionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setSession(session: Session | null): void {
    this.session = session;
    this.store.save(session);
    for (const listener of this.listeners) listener(session);
  }

  /** A call whose 2xx body must match `schema`. */
  async json<S extends TSchema>(path: string, schema: S, opts: RequestOptions = {}): Promise<Static<S>> {
    const response = await this.send(path, opts);
    const body: unknown = await response.json().catch(() => undefined);
    if (!Value.Check(schema, body)) throw new ApiError(0, 'WA_BAD_RESPONSE', `Unexpected answer from ${path}`);
    return body;
  }

  /** A call whose 2xx body the caller narrows itself (undefined when it is not JSON). */
  async unknownJson(path: string, opts: RequestOptions = {}): Promise<unknown> {
    const response = await this.send(path, opts);
    return response.json().catch(() => undefined);
  }

  /** A call whose body does not matter (204s): it is drained so the connection is reusable. */
  async empty(path: string, opts: RequestOptions = {}): Promise<void> {
    const response = await this.send(path, opts);
    await response.arrayBuffer().catch(() => undefined);
  }

  /** A call answering bytes (media): resolves null on 404, else the bytes and the file name sent. */
  async file(path: string): Promise<DownloadedFile | null> {
    try {
      const response = await this.send(path, {});
      return { blob: await response.blob(), filename: filenameOf(response.headers.get('content-disposition')) };
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }
  }

  /** A fresh access token (refreshing if needed), for the Socket.IO handshake. */
  async freshSession(): Promise<Session | null> {
    return this.refresh();
  }

  private async send(path: string, opts: RequestOptions): Promise<Response> {
    const first = await this.attempt(path, opts, this.session?.accessToken);
    if (first.status !== 401 || opts.anonymous === true || this.session === null) return this.check(first);
    await first.arrayBuffer().catch(() => undefined);
    const renewed = await this.refresh();
    if (renewed === null) throw new ApiError(401, 'WA_UNAUTHENTICATED', 'Your session ended; sign in again');
    return this.check(await this.attempt(path, opts, renewed.accessToken));
  }

  private async attempt(path: string, opts: RequestOptions, token: string | undefined): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    if (opts.anonymous !== true && token !== undefined) headers.authorization = `Bearer ${token}`;
    let body: FormData | string | undefined;
    if (opts.body instanceof FormData) body = opts.body;
    else if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    try {
      return await this.fetchFn(path, { method: opts.method ?? 'GET', headers, body });
    } catch {
      throw new ApiError(0, 'WA_NETWORK', 'The server cannot be reached; check your connection');
    }
  }

  private async check(response: Response): Promise<Response> {
    if (response.ok) return response;
    const body: unknown = await response.json().catch(() => undefined);
    if (Value.Check(ApiErrorBody, body)) throw new ApiError(response.status, body.code, body.message);
    throw new ApiError(response.status, 'WA_HTTP', `${response.status} ${response.statusText}`.trim());
  }

  /** One refresh at a time: a second caller waits for the first instead of spending the token twice. */
  private refresh(): Promise<Session | null> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<Session | null> {
    const old = this.session;
    if (old === null) return null;
    try {
      const next = await this.json('/api/auth/refresh', Session, {
        method: 'POST',
        body: { refreshToken: old.refreshToken },
        anonymous: true,
      });
      this.setSession(next);
      return next;
    } catch (err) {
      // 401: the refresh token is spent or revoked (a disabled account): the session is over.
      if (err instanceof ApiError && err.status === 401) this.setSession(null);
      else throw err;
      return null;
    }
  }
}
