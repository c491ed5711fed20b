import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/domain/errors.js';
import { createLogger } from '../../../src/domain/log.js';
import { openDatabase, type Database } from '../../../src/store/db.js';
import { loadMigrations, migrate } from '../../../src/store/migrate.js';
import { createStore } from '../../../src/store/store.js';
import type { Store } from '../../../src/store/types.js';
import { seedTenant } from '../../helpers/db.js';

/**
 * The embedded mode (no DATABASE_URL): PGlite behind pglite-socket, reached by the same postgres.js client.
 * One PGlite start for the whole file (~4 s, ~750 MB), so everything is checked in one test.
 */
describe('embedded database (PGlite)', () => {
  const log = createLogger({ level: 'silent' });
  let dir: string;
  let db: Database;
  let store: Store;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wa-pglite-'));
    db = await openDatabase({ dataDir: dir, poolSize: 3, log });
    store = createStore(db.sql, { close: db.close });
  });
  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('migrates, round-trips the store and enforces row-level security like the real server', async () => {
    expect(db.mode).toBe('embedded');
    expect(await migrate(db.sql, { log })).toEqual((await loadMigrations()).map((m) => m.version));
    expect(await migrate(db.sql, { log })).toEqual([]);
    await store.ping();

    const a = await seedTenant(store, { employees: 1, chats: 2, messagesPerChat: 3 });
    const b = await seedTenant(store);
    const chatId = a.chats[0]!.id;
    const first = await store.messages.page(a.tenantId, chatId, { limit: 2 });
    const second = await store.messages.page(a.tenantId, chatId, { limit: 2, before: first.nextCursor! });
    expect([...first.messages, ...second.messages].map((m) => m.id)).toEqual(
      [...a.messages.get(chatId)!].reverse().map((m) => m.id),
    );
    expect(await store.messages.insertMany(a.tenantId, a.messages.get(chatId)!)).toEqual([]);

    await store.permissions.assign(a.tenantId, a.employees[0]!.id, chatId);
    expect((await store.chats.listForUser(a.tenantId, a.employees[0]!.id)).map((c) => c.id)).toEqual([chatId]);
    await expect(store.users.createEmployee({ tenantId: b.tenantId, name: 'x', email: a.admin.email, passwordHash: 'h' })).rejects.toMatchObject({
      code: ErrorCodes.CONFLICT,
    });
    await store.sessions.claim(a.tenantId, 2, 'node-a');
    await expect(store.sessions.setStatus(a.tenantId, 1, 'connected', null)).rejects.toMatchObject({ code: ErrorCodes.STALE_EPOCH });

    // SET LOCAL ROLE wa_app works on PGlite: without a tenant id, no rows; with b's id, none of a's.
    const hidden = await db.sql.begin(async (tx) => {
      await tx`SET LOCAL ROLE wa_app`;
      const none = await tx`SELECT count(*)::int AS n FROM messages`;
      await tx`SELECT set_config('app.tenant_id', ${b.tenantId}, true)`;
      const other = await tx`SELECT count(*)::int AS n FROM messages WHERE tenant_id = ${a.tenantId}`;
      return [none[0]?.n, other[0]?.n];
    });
    expect(hidden).toEqual([0, 0]);
    // Concurrent tenant transactions over several sockets of the one PGlite session stay apart.
    const counts = await Promise.all(
      Array.from({ length: 12 }, (_, i) => store.chats.listAll(i % 2 === 0 ? a.tenantId : b.tenantId).then((c) => c.length)),
    );
    expect(counts).toEqual(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 2 : 0)));
  });
});
