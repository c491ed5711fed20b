import { PNG } from 'pngjs';
import jsQRModule from 'jsqr';
import { io, type Socket } from 'socket.io-client';

// jsqr is CommonJS with `export default`: under NodeNext its default import is the module object.
type DecodeQr = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;
const jsQR = (jsQRModule as unknown as { default: DecodeQr }).default;

/** A REST client for one base URL; every response body is read (open bodies keep sockets alive). */
export async function api<T = unknown>(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T; text: string; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: body as T, text, headers: res.headers };
}

export interface Account {
  accessToken: string;
  refreshToken: string;
  user: { id: string; name: string; email: string; role: 'admin' | 'employee'; tenantId: string };
}

let counter = 0;
export function uniqueEmail(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}@example.test`;
}

export async function register(base: string, name: string): Promise<Account> {
  const res = await api<Account>(base, 'POST', '/api/auth/register', {
    body: { name, email: uniqueEmail(name.toLowerCase()), password: 'correct horse battery' },
  });
  if (res.status !== 201) throw new Error(`register answered ${res.status}: ${res.text}`);
  return res.body;
}

export async function login(base: string, email: string, password: string): Promise<Account> {
  const res = await api<Account>(base, 'POST', '/api/auth/login', { body: { email, password } });
  if (res.status !== 200) throw new Error(`login answered ${res.status}: ${res.text}`);
  return res.body;
}

/** Every event a socket received, in order, and a way to wait for the next matching one. */
export interface RecordedSocket {
  socket: Socket;
  events: { name: string; payload: unknown }[];
  /** Resolves with the first recorded event (past or future) matching, after index `from`. */
  next<T = unknown>(name: string, match?: (payload: T) => boolean, opts?: { from?: number; timeoutMs?: number }): Promise<T>;
  close(): void;
}

/** Connects like the seed's client (`io(url, { auth: { token } })`) and waits for the server's `ready`. */
export async function connectSocket(base: string, token: string): Promise<RecordedSocket> {
  const socket = io(base, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  const events: { name: string; payload: unknown }[] = [];
  const waiters = new Set<() => void>();
  socket.onAny((name: string, payload: unknown) => {
    events.push({ name, payload });
    for (const w of [...waiters]) w();
  });
  const recorded: RecordedSocket = {
    socket,
    events,
    next<T>(name: string, match: (payload: T) => boolean = () => true, opts: { from?: number; timeoutMs?: number } = {}) {
      const from = opts.from ?? 0;
      return new Promise<T>((resolve, reject) => {
        const check = (): boolean => {
          for (let i = from; i < events.length; i++) {
            const e = events[i];
            if (e !== undefined && e.name === name && match(e.payload as T)) {
              resolve(e.payload as T);
              return true;
            }
          }
          return false;
        };
        if (check()) return;
        const waiter = (): void => {
          if (check()) {
            waiters.delete(waiter);
            clearTimeout(timer);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no "${name}" event matched within ${opts.timeoutMs ?? 20_000} ms; got ${events.map((e) => e.name).join(', ')}`));
        }, opts.timeoutMs ?? 20_000);
        waiters.add(waiter);
      });
    },
    close: () => void socket.close(),
  };
  await new Promise<void>((resolve, reject) => {
    socket.once('connect_error', reject);
    socket.once('ready', () => resolve());
  });
  return recorded;
}

/** Decodes the QR code in a PNG data URL (the `qr` event) back to its text, as a phone camera would. */
export function decodeQrDataUrl(dataUrl: string): string {
  const prefix = 'data:image/png;base64,';
  if (!dataUrl.startsWith(prefix)) throw new Error('not a PNG data URL');
  const png = PNG.sync.read(Buffer.from(dataUrl.slice(prefix.length), 'base64'));
  const code = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.byteLength), png.width, png.height);
  if (code === null) throw new Error('no QR code found in the image');
  return code.data;
}

/** Phone API of the simulator. */
export async function phone(simUrl: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await api(simUrl, method, path, body === undefined ? {} : { body });
  return { status: res.status, body: res.body };
}
