import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, ForbiddenError, isAppError, UnauthenticatedError } from '../domain/errors.js';
import { BEARER_SCHEME } from './auth/guard.js';
import { errorBody } from './errors.js';

/**
 * Serves the web console (web/, built by `npm run build` into dist/console) at `/`:
 *
 * - files of the build by their path; `/assets/*` are content-hashed by Vite, so they are cached for a
 *   year as immutable, everything else (index.html) is revalidated on every load (`no-cache` + ETag);
 * - any other GET that does not name a file type gets index.html (the console routes in the browser:
 *   /chats/<id> must survive a reload), except the server's own paths, which keep their 404s;
 * - index.html carries the console's own Content-Security-Policy: the API's default one has no `blob:`
 *   (media previews);
 * - with the sandbox engine, `/api/demo/*`: the demo's "simulate phone" panel drives the simulator's
 *   phone API through these routes (admins only), so the browser needs neither the simulator's address
 *   (often internal) nor CORS on it.
 *
 * The files are read once, at registration: a rebuilt console needs a restart, and a request never
 * touches the disk (nor can it name a path outside the build).
 */

export interface ConsoleOptions {
  /** The Vite build output (`dist/console` at the repository root). */
  distDir: string;
  /**
   * Set when the sandbox engine runs: the `/api/demo/*` routes exist (404 without them) and the console
   * shows its "simulate phone" panel.
   */
  demo?: DemoOptions | undefined;
}

export interface DemoOptions {
  /** Base URL of the simulator's phone API, as this server reaches it (config SIM_URL). */
  simulatorUrl: string;
  /**
   * The REST access-token check (`app.authenticateToken`): only a tenant's admin drives the phones, and
   * only phones no other tenant claimed (without `tenantId`, every caller counts as one tenant).
   */
  authenticate: (token: string) => Promise<{ role: 'admin' | 'employee'; tenantId?: string }>;
}

/** Paths the console must never answer for: the API, Socket.IO, health, metrics. */
const SERVER_PATHS = ['/api', '/socket.io', '/healthz', '/readyz', '/metrics'];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** Types worth compressing; images and fonts are compressed already. */
const COMPRESSIBLE = /^(text\/|application\/(json|manifest\+json)|image\/svg\+xml)/;

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

interface StaticFile {
  body: Buffer;
  /** Present when gzip saves something. */
  gzip: Buffer | undefined;
  type: string;
  etag: string;
  cacheControl: string;
}

export const DemoConfig = Type.Object(
  { simulatorUrl: Type.String({ description: 'Base URL of the WhatsApp simulator\'s phone API, as the server reaches it.' }) },
  { title: 'DemoConfig' },
);

/** Bodies the demo routes forward; the simulator validates them again. */
const PhoneNumber = Type.String({ pattern: '^[0-9]{5,15}$', description: '5 to 15 digits.' });
const DemoPhoneBody = Type.Object({ number: PhoneNumber, name: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
const DemoLinkBody = Type.Object({ qr: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });
const DemoSendBody = Type.Object({ to: PhoneNumber, body: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false });
const DemoNumberParams = Type.Object({ number: PhoneNumber });
/** The simulator answers in milliseconds; a stuck one must not hold the request for long. */
const SIMULATOR_TIMEOUT_MS = 10_000;

/** True for `/api`, `/api/...`, `/api?x` and the like: the server's own paths. */
export function isServerPath(path: string): boolean {
  return SERVER_PATHS.some((prefix) => path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`));
}

/** The CSP of the console page: the API's rules plus blob: for media previews and downloads. */
export function consoleCsp(): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Every file of the build by URL path (`/index.html`, `/assets/index-abc.js`); empty if not built. */
export async function loadConsoleFiles(distDir: string): Promise<Map<string, StaticFile>> {
  const files = new Map<string, StaticFile>();
  let paths: string[];
  try {
    paths = await listFiles(distDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return files;
    throw err;
  }
  for (const path of paths) {
    const urlPath = `/${relative(distDir, path).split(sep).join('/')}`;
    const body = await readFile(path);
    const type = CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
    const zipped = COMPRESSIBLE.test(type) ? gzipSync(body, { level: 9 }) : undefined;
    files.set(urlPath, {
      body,
      gzip: zipped !== undefined && zipped.byteLength < body.byteLength ? zipped : undefined,
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      cacheControl: urlPath.startsWith('/assets/') ? IMMUTABLE : REVALIDATE,
    });
  }
  return files;
}

function acceptsGzip(request: FastifyRequest): boolean {
  const header = request.headers['accept-encoding'];
  return typeof header === 'string' && /\bgzip\b/.test(header);
}

function send(request: FastifyRequest, reply: FastifyReply, file: StaticFile, csp: string | undefined): FastifyReply {
  reply.header('content-type', file.type).header('cache-control', file.cacheControl).header('etag', file.etag).header('vary', 'accept-encoding');
  if (csp !== undefined) reply.header('content-security-policy', csp);
  const tags = request.headers['if-none-match'];
  if (typeof tags === 'string' && tags.split(',').some((t) => t.trim() === file.etag)) return reply.code(304).send();
  if (file.gzip !== undefined && acceptsGzip(request)) return reply.header('content-encoding', 'gzip').send(file.gzip);
  return reply.send(file.body);
}

/**
 * Registers the console's routes on `app` (call before `app.ready()`, e.g. in buildApp's `beforeReady`).
 * Without a build it still registers them and answers 503 with what to run, so a server started from a
 * fresh clone explains itself instead of showing a 404.
 */
export async function registerConsole(app: FastifyInstance, opts: ConsoleOptions): Promise<void> {
  const files = await loadConsoleFiles(opts.distDir);
  const index = files.get('/index.html');
  const csp = consoleCsp();
  if (index === undefined) app.log.warn({ distDir: opts.distDir }, 'web console not built: run npm run build');

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const path = decodePath(request.url);
    if (path === undefined || isServerPath(path)) return notFound(reply);
    if (index === undefined) {
      return reply.code(503).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send('The web console is not built. Run: npm run build');
    }
    const file = files.get(path);
    if (file !== undefined) return send(request, reply, file, file === index ? csp : undefined);
    // A missing asset is a 404, not the page: a browser would otherwise run HTML as a script. Only known
    // file types count: chat ids end in `.us` (/chats/4915550101@c.us is a console route).
    if (path.startsWith('/assets/') || CONTENT_TYPES[extname(path).toLowerCase()] !== undefined) return notFound(reply);
    return send(request, reply, index, csp);
  };

  const hide = { schema: { hide: true } };
  app.get('/', hide, handler);
  app.get('/*', hide, handler);

  if (opts.demo !== undefined) registerDemoRoutes(app, opts.demo);
}

/**
 * `/api/demo/config` and three phone API calls forwarded to the simulator: create a phone, scan a QR,
 * send from a phone. The simulator's answer (status and body, its errors have the API's shape) is
 * passed through.
 */
function registerDemoRoutes(app: FastifyInstance, demo: DemoOptions): void {
  const config = { simulatorUrl: demo.simulatorUrl };
  /**
   * Phone number -> the tenant that created it here or linked it first. The simulator has one network
   * for every tenant: without this, any admin could link another tenant's business phone to its own
   * session (taking its chats over) or write as it. Kept in this node's memory: the demo runs one node.
   */
  const owners = new Map<string, string>();
  const callers = new WeakMap<FastifyRequest, string>();
  const requireAdmin = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    try {
      if (token === undefined) throw new UnauthenticatedError('Authentication required: send Authorization: Bearer <access token>');
      const principal = await demo.authenticate(token);
      if (principal.role !== 'admin') throw new ForbiddenError('Only an admin drives the demo phones');
      callers.set(request, principal.tenantId ?? '');
    } catch (err) {
      // RFC 6750, as on every other protected route.
      if (isAppError(err) && err.code === ErrorCodes.UNAUTHENTICATED) reply.header('www-authenticate', 'Bearer');
      throw err;
    }
  };
  const requireOwnPhone = async (request: FastifyRequest): Promise<void> => {
    const owner = owners.get(number(request));
    if (owner !== undefined && owner !== callers.get(request)) throw new ForbiddenError('This demo phone belongs to another tenant');
  };
  /** After the simulator accepted: a new phone, or a first link, is the caller's from now on. */
  const claim = (request: FastifyRequest, phone: string): void => {
    if (!owners.has(phone)) owners.set(phone, callers.get(request) ?? '');
  };
  const forward = (path: (request: FastifyRequest) => string, claims?: (request: FastifyRequest, status: number) => string | undefined) => async (request: FastifyRequest, reply: FastifyReply) => {
    let response: Response;
    try {
      response = await fetch(new URL(path(request), demo.simulatorUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request.body),
        signal: AbortSignal.timeout(SIMULATOR_TIMEOUT_MS),
      });
    } catch (err) {
      request.log.warn({ err }, 'simulator unreachable');
      return reply.code(503).send(errorBody(503, ErrorCodes.OWNER_UNAVAILABLE, 'The WhatsApp simulator cannot be reached'));
    }
    const text = await response.text();
    const claimed = claims?.(request, response.status);
    if (claimed !== undefined) claim(request, claimed);
    return reply.code(response.status).type('application/json; charset=utf-8').send(text);
  };
  // The simulator's bodies pass through as they are (its errors have the API's shape): documented, not re-serialized.
  const answers = Object.fromEntries(
    [200, 201, 400, 401, 403, 404, 409, 503].map((status) => [status, Type.Unknown({ description: status < 300 ? 'The simulator\'s answer.' : 'An error, `{ statusCode, code, error, message }`.' })]),
  );
  const route = { tags: ['demo'], security: [{ [BEARER_SCHEME]: [] }], response: answers };
  const number = (request: FastifyRequest): string => (request.params as { number?: string }).number ?? (request.body as { number: string }).number;

  app.get('/api/demo/config', { schema: { tags: ['demo'], summary: 'Present when the sandbox engine runs', response: { 200: DemoConfig } } }, async () => config);
  app.post(
    '/api/demo/phones',
    { onRequest: requireAdmin, schema: { ...route, summary: 'Create a simulated phone (the simulator\'s POST /phones)', body: DemoPhoneBody } },
    forward(() => '/phones', (request, status) => (status === 201 ? number(request) : undefined)),
  );
  app.post(
    '/api/demo/phones/:number/link',
    {
      onRequest: requireAdmin,
      preHandler: requireOwnPhone,
      schema: { ...route, summary: 'Scan a QR with a simulated phone (one no other tenant created or linked)', params: DemoNumberParams, body: DemoLinkBody },
    },
    forward((request) => `/phones/${number(request)}/link`, (request, status) => (status === 200 ? number(request) : undefined)),
  );
  app.post(
    '/api/demo/phones/:number/messages',
    {
      onRequest: requireAdmin,
      preHandler: requireOwnPhone,
      schema: { ...route, summary: 'Send a message from a simulated phone (one no other tenant created or linked)', params: DemoNumberParams, body: DemoSendBody },
    },
    forward((request) => `/phones/${number(request)}/messages`),
  );
}

/** The app's own not-found answer (the API's JSON 404), not one of ours. */
function notFound(reply: FastifyReply): FastifyReply {
  reply.callNotFound();
  return reply;
}

/** The request path without its query, percent-decoded; undefined for a malformed escape. */
function decodePath(url: string): string | undefined {
  const raw = url.split('?')[0] ?? '/';
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}
