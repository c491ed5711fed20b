import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, seedTenant, type SeededTenant, type TestDatabase } from '../../helpers/db.js';
import { withTenant } from '../../../src/store/with-tenant.js';

const TENANT_TABLES = ['users', 'refresh_tokens', 'chats', 'messages', 'media', 'chat_permissions', 'sessions'] as const;

/**
 * Row-level security is the second wall behind the tenant_id filter of every query. These tests bypass the
 * repositories and query as role wa_app directly, the way a repository bug (a missing WHERE) would.
 */
describe('row-level security', () => {
  let db: TestDatabase;
  let a: SeededTenant;
  let b: SeededTenant;
  beforeAll(async () => {
    db = await createTestDatabase();
    a = await seedTenant(db.store, { employees: 1, chats: 2, messagesPerChat: 2 });
    b = await seedTenant(db.store, { employees: 1, chats: 1, messagesPerChat: 1 });
    await db.store.permissions.assign(a.tenantId, a.employees[0]!.id, a.chats[0]!.id);
    const messageId = a.messages.get(a.chats[0]!.id)![0]!.id;
    await db.store.media.put(a.tenantId, { messageId, mimetype: 'text/plain', filename: null, data: new Uint8Array([1]) });
    await db.store.refreshTokens.insert({
      id: crypto.randomUUID(),
      tenantId: a.tenantId,
      userId: a.admin.id,
      familyId: crypto.randomUUID(),
      tokenHash: `rls-${a.tenantId}`,
      expiresAt: new Date(Date.now() + 60_000),
    });
  });
  afterAll(async () => {
    await db.close();
  });

  async function countAs(tenantSetting: string | null, table: string): Promise<number> {
    const rows = await db.sql.begin(async (tx) => {
      if (tenantSetting !== null) await tx`SELECT set_config('app.tenant_id', ${tenantSetting}, true)`;
      await tx`SET LOCAL ROLE wa_app`;
      return tx`SELECT count(*)::int AS n FROM ${tx(table)}`;
    });
    return Number(rows[0]?.n);
  }

  it('shows the owner role rows of tenant a in every tenant table (the control)', async () => {
    for (const table of TENANT_TABLES) {
      const rows = await db.sql`SELECT count(*)::int AS n FROM ${db.sql(table)} WHERE tenant_id = ${a.tenantId}`;
      expect(rows[0]?.n, table).toBeGreaterThan(0);
    }
  });

  it('shows wa_app nothing in any tenant table when app.tenant_id is not set', async () => {
    for (const table of [...TENANT_TABLES, 'tenants']) expect(await countAs(null, table), table).toBe(0);
  });

  it('shows wa_app none of tenant a rows when app.tenant_id names tenant b', async () => {
    for (const table of TENANT_TABLES) {
      const rows = await db.sql.begin(async (tx) => {
        await tx`SELECT set_config('app.tenant_id', ${b.tenantId}, true)`;
        await tx`SET LOCAL ROLE wa_app`;
        return tx`SELECT count(*)::int AS n FROM ${tx(table)} WHERE tenant_id = ${a.tenantId}`;
      });
      expect(rows[0]?.n, table).toBe(0);
    }
  });

  it('shows wa_app tenant a rows only with tenant a id set', async () => {
    expect(await countAs(a.tenantId, 'messages')).toBe(4);
    expect(await countAs(b.tenantId, 'messages')).toBe(1);
  });

  it('refuses a write into another tenant under wa_app', async () => {
    await expect(
      withTenant(db.sql, b.tenantId, (tx) => tx`INSERT INTO chats (tenant_id, id) VALUES (${a.tenantId}, 'sneaky@c.us')`),
    ).rejects.toMatchObject({ code: '42501' });
    const updated = await withTenant(db.sql, b.tenantId, (tx) => tx`UPDATE chats SET name = 'pwned' WHERE tenant_id = ${a.tenantId} RETURNING id`);
    expect(updated).toHaveLength(0);
    expect((await db.store.chats.find(a.tenantId, a.chats[0]!.id))?.name).not.toBe('pwned');
  });

  it('leaves no role or tenant setting behind on the pooled connection', async () => {
    await withTenant(db.sql, a.tenantId, (tx) => tx`SELECT 1`);
    const rows = await db.sql`SELECT current_user AS who, current_setting('app.tenant_id', true) AS tenant`;
    expect(rows[0]?.who).toBe('postgres');
    expect(rows[0]?.tenant ?? '').toBe('');
  });

  it('gives wa_app no access to the migration bookkeeping', async () => {
    await expect(withTenant(db.sql, a.tenantId, (tx) => tx`SELECT * FROM schema_migrations`)).rejects.toMatchObject({ code: '42501' });
  });
});
