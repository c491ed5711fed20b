import { randomBytes } from 'node:crypto';
import { createLogger, type Logger } from '../../src/domain/log.js';
import type { Chat, Message, User } from '../../src/domain/types.js';
import { openDatabase, type Sql } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createStore } from '../../src/store/store.js';
import type { Store } from '../../src/store/types.js';

/** The real PostgreSQL of this machine (and CI); override with TEST_DATABASE_URL. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  /** postgres.js pool whose every connection has search_path = `schema`. */
  sql: Sql;
  store: Store;
  /** The fresh schema this database lives in; dropped by close(). */
  schema: string;
  log: Logger;
  /** Drops the schema and ends the pool. Idempotent. */
  close(): Promise<void>;
}

export function uniqueSchemaName(prefix = 't'): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/**
 * A fresh, uniquely named schema on the real PostgreSQL with every migration applied. Use one per test
 * file (beforeAll) and close it in afterAll.
 */
export async function createTestDatabase(opts: { poolSize?: number; log?: Logger } = {}): Promise<TestDatabase> {
  const log = opts.log ?? createLogger({ level: 'silent' });
  const schema = uniqueSchemaName();
  const db = await openDatabase({ url: TEST_DATABASE_URL, dataDir: '', poolSize: opts.poolSize ?? 4, schema, log });
  const { sql } = db;
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    try {
      await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
    } finally {
      await db.close();
    }
  };
  const closeOnce = (): Promise<void> => (closing ??= close());
  try {
    await migrate(sql, { log });
  } catch (err) {
    await closeOnce();
    throw err;
  }
  const store = createStore(sql, { close: closeOnce });
  return { sql, store, schema, log, close: closeOnce };
}

export interface SeededTenant {
  tenantId: string;
  admin: User;
  employees: User[];
  chats: Chat[];
  /** Per chat id, its messages oldest first. */
  messages: Map<string, Message[]>;
}

let seedCounter = 0;

/**
 * Creates, through the store, a tenant with its admin, `employees` employees, `chats` chats and
 * `messagesPerChat` messages in each (one second apart, alternating inbound/outbound). Emails are unique
 * per call. Password hashes are placeholders unless given.
 */
export async function seedTenant(
  store: Store,
  opts: { employees?: number; chats?: number; messagesPerChat?: number; passwordHash?: string; name?: string } = {},
): Promise<SeededTenant> {
  const tag = `${Date.now().toString(36)}${(seedCounter++).toString(36)}${randomBytes(3).toString('hex')}`;
  const passwordHash = opts.passwordHash ?? 'not-a-real-hash';
  const { tenantId, admin } = await store.tenants.createWithAdmin({
    tenantName: opts.name ?? `Tenant ${tag}`,
    name: 'Admin',
    email: `admin-${tag}@example.test`,
    passwordHash,
  });
  const employees: User[] = [];
  for (let i = 0; i < (opts.employees ?? 0); i++) {
    employees.push(
      await store.users.createEmployee({ tenantId, name: `Employee ${i + 1}`, email: `emp${i + 1}-${tag}@example.test`, passwordHash }),
    );
  }
  const base = Date.parse('2024-01-01T00:00:00.000Z');
  const messages = new Map<string, Message[]>();
  const all: Message[] = [];
  for (let c = 0; c < (opts.chats ?? 0); c++) {
    const chatId = `49100000${String(c).padStart(4, '0')}@c.us`;
    const list: Message[] = [];
    for (let m = 0; m < (opts.messagesPerChat ?? 0); m++) {
      list.push({
        id: `msg-${tag}-${c}-${m}`,
        chatId,
        from: m % 2 === 0 ? chatId : 'me@c.us',
        fromMe: m % 2 === 1,
        body: `message ${m + 1} in chat ${c + 1}`,
        timestamp: new Date(base + (c * 10_000 + m) * 1000).toISOString(),
        type: 'chat',
        hasMedia: false,
        ack: 1,
      });
    }
    messages.set(chatId, list);
    all.push(...list);
  }
  const chatIds = [...messages.keys()];
  if (chatIds.length > 0) {
    await store.chats.upsertMany(
      tenantId,
      chatIds.map((id, c) => ({ id, name: `Chat ${c + 1}`, isGroup: false, unreadCount: 0, lastMessageAt: null, lastMessagePreview: null })),
    );
  }
  if (all.length > 0) await store.messages.insertMany(tenantId, all);
  const chats = await store.chats.listAll(tenantId);
  return { tenantId, admin, employees, chats, messages };
}

/** An inbound text message from `chat` (a contact), `body <id>`, sent now: what an ingest batch stores. */
export function inboundMessage(id: string, chat = '4915550001@c.us'): Message {
  return { id, chatId: chat, from: chat, fromMe: false, body: `body ${id}`, timestamp: new Date().toISOString(), type: 'chat', hasMedia: false, ack: 1 };
}

/**
 * The same pool, with `beforeBegin` run (and awaited) before each transaction it opens: to count them,
 * or to hold a BEGIN "on its way" until a test lets it go. Everything else is the pool itself.
 */
export function onBegin(sql: Sql, beforeBegin: () => void | Promise<void>): Sql {
  return new Proxy(sql, {
    get(target, prop, receiver): unknown {
      if (prop !== 'begin') return Reflect.get(target, prop, receiver) as unknown;
      return async (...args: Parameters<Sql['begin']>) => {
        await beforeBegin();
        return target.begin(...args);
      };
    },
  });
}
