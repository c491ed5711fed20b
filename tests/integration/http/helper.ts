import { randomBytes } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { loadConfig, type Config } from '../../../src/config.js';
import type { Clock } from '../../../src/domain/clock.js';
import { createLogger } from '../../../src/domain/log.js';
import type { Chat, Message } from '../../../src/domain/types.js';
import type { AccessChangeListener } from '../../../src/http/access-events.js';
import { createPasswordHasher, type PasswordHasher } from '../../../src/http/auth/passwords.js';
import { buildApp, type HttpApp, type HttpDeps } from '../../../src/http/server.js';
import type { Session } from '../../../src/http/schemas.js';
import type { Store } from '../../../src/store/types.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

/** What every HTTP test file builds in beforeAll: the real app on its own PostgreSQL schema. */
export interface TestApp {
  app: HttpApp;
  db: TestDatabase;
  config: Config;
  /** Every log line the app wrote (JSON), to check what logs never contain. */
  logs: string[];
  close(): Promise<void>;
}

export const TEST_SECRET = 'test-secret-for-http-tests-0123456789abcdef';

export interface TestAppOptions {
  env?: Record<string, string>;
  clock?: Clock;
  onAccessChange?: AccessChangeListener;
  /** Default: a real argon2id pool with low cost (tests log in often), closed by `close()`. */
  passwordHasher?: PasswordHasher | 'owned-by-app';
  /** Default: the test database's store. */
  store?: (db: TestDatabase) => Store;
  serverOptions?: HttpDeps['serverOptions'];
  beforeReady?: HttpDeps['beforeReady'];
}

export async function createTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  const config = loadConfig({
    JWT_SECRET: TEST_SECRET,
    // Inject always comes from 127.0.0.1: a per-address limit of 10 would throttle a whole test file.
    LOGIN_RATE_LIMIT: '1000',
    PASSWORD_HASH_THREADS: '1',
    ...opts.env,
  });
  const logs: string[] = [];
  const log = createLogger({ level: 'trace' }, { write: (line: string) => void logs.push(line) });
  const hasher =
    opts.passwordHasher === 'owned-by-app'
      ? undefined
      : (opts.passwordHasher ?? createPasswordHasher({ threads: 1, memoryCost: 1024, timeCost: 1 }));
  const deps: HttpDeps = { config, store: opts.store?.(db) ?? db.store, log };
  if (hasher !== undefined) deps.passwordHasher = hasher;
  if (opts.clock !== undefined) deps.clock = opts.clock;
  if (opts.onAccessChange !== undefined) deps.onAccessChange = opts.onAccessChange;
  if (opts.serverOptions !== undefined) deps.serverOptions = opts.serverOptions;
  if (opts.beforeReady !== undefined) deps.beforeReady = opts.beforeReady;
  let app: HttpApp;
  try {
    app = await buildApp(deps);
  } catch (err) {
    await hasher?.close();
    await db.close();
    throw err;
  }
  return {
    app,
    db,
    config,
    logs,
    async close() {
      await app.close();
      await hasher?.close();
      await db.close();
    },
  };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export function uniqueEmail(label = 'user'): string {
  return `${label}-${randomBytes(5).toString('hex')}@example.test`;
}

/** Parses a JSON body, failing the test with the raw body when it is not JSON. */
export function json<T = Record<string, unknown>>(res: LightMyRequestResponse): T {
  try {
    return JSON.parse(res.body) as T;
  } catch {
    throw new Error(`expected JSON, got ${res.statusCode}: ${res.body}`);
  }
}

/** Asserts the shared error shape and returns the body. */
export function expectError(res: LightMyRequestResponse, statusCode: number, code: string): { message: string } {
  const body = json(res);
  expect({ status: res.statusCode, body: Object.keys(body).sort() }).toEqual({
    status: statusCode,
    body: ['code', 'error', 'message', 'statusCode'],
  });
  expect(body).toMatchObject({ statusCode, code });
  return body as { message: string };
}

export interface Account {
  email: string;
  password: string;
  session: Session;
}

/** Registers a new tenant admin through the API. */
export async function registerAdmin(app: HttpApp, name = 'Admin'): Promise<Account> {
  const email = uniqueEmail('admin');
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { name, email, password } });
  expect(res.statusCode, res.body).toBe(201);
  return { email, password, session: json<Session>(res) };
}

/** Creates an employee through the API and logs it in. */
export async function createEmployee(app: HttpApp, admin: Account, name = 'Employee'): Promise<Account & { id: string }> {
  const email = uniqueEmail('employee');
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const created = await app.inject({
    method: 'POST',
    url: '/api/auth/create-station',
    headers: bearer(admin.session.accessToken),
    payload: { name, email, password },
  });
  expect(created.statusCode, created.body).toBe(201);
  const session = await login(app, email, password);
  return { email, password, session, id: json<{ id: string }>(created).id };
}

export async function login(app: HttpApp, email: string, password: string, extra: Partial<InjectOptions> = {}): Promise<Session> {
  const res = await app.inject({ ...extra, method: 'POST', url: '/api/auth/login', payload: { email, password } });
  expect(res.statusCode, res.body).toBe(200);
  return json<Session>(res);
}

export async function assign(app: HttpApp, admin: Account, employeeId: string, chatId: string): Promise<void> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/permissions/assign',
    headers: bearer(admin.session.accessToken),
    payload: { employeeId, chatId },
  });
  expect(res.statusCode, res.body).toBe(204);
}

export interface SeededChat {
  chat: Chat;
  /** Oldest first. */
  messages: Message[];
}

/**
 * Writes a chat with `count` text messages through the store (there is no REST write path yet). Message
 * ids and bodies carry `label`, so a test can search a response for them.
 */
export async function seedChat(
  store: Store,
  tenantId: string,
  opts: { chatId: string; name: string; count: number; label: string },
): Promise<SeededChat> {
  await store.chats.upsertMany(tenantId, [
    { id: opts.chatId, name: opts.name, isGroup: false, unreadCount: 0, lastMessageAt: null, lastMessagePreview: null },
  ]);
  const base = Date.parse('2030-01-01T00:00:00.000Z');
  const messages: Message[] = Array.from({ length: opts.count }, (_, i) => ({
    id: `${opts.label}-msg-${i}`,
    chatId: opts.chatId,
    from: i % 2 === 0 ? opts.chatId : 'me@c.us',
    fromMe: i % 2 === 1,
    body: `${opts.label} body ${i}`,
    timestamp: new Date(base + i * 1000).toISOString(),
    type: 'chat',
    hasMedia: false,
    ack: 1,
  }));
  if (messages.length > 0) await store.messages.insertMany(tenantId, messages);
  const chat = await store.chats.find(tenantId, opts.chatId);
  if (chat === null) throw new Error('seeded chat not found');
  return { chat, messages };
}

/** Adds a document message with stored media bytes to a seeded chat. */
export async function seedMedia(
  store: Store,
  tenantId: string,
  opts: { chatId: string; messageId: string; mimetype: string; filename: string | null; data: Buffer; body?: string },
): Promise<Message> {
  const message: Message = {
    id: opts.messageId,
    chatId: opts.chatId,
    from: opts.chatId,
    fromMe: false,
    body: opts.body ?? '',
    timestamp: '2030-01-02T00:00:00.000Z',
    type: 'document',
    hasMedia: true,
    ack: 1,
  };
  await store.messages.insertMany(tenantId, [message]);
  await store.media.put(tenantId, { messageId: opts.messageId, mimetype: opts.mimetype, filename: opts.filename, data: opts.data });
  return message;
}
