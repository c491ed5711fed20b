import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, seedTenant, type TestDatabase, inboundMessage as message } from '../../helpers/db.js';

/**
 * Deleting a tenant is an operator's DELETE, not an API call. Migration 007 dropped the per-row foreign
 * keys of messages and events to tenants (the ingest path paid for them on every row); what they did on
 * delete still happens: messages go with their chats, events with a statement trigger.
 */
describe('deleting a tenant', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.close();
  });

  async function counts(tenantId: string): Promise<Record<string, number>> {
    const [row] = await db.sql<{ chats: number; messages: number; events: number; counters: number }[]>`
      SELECT (SELECT count(*)::int FROM chats WHERE tenant_id = ${tenantId}) AS chats,
             (SELECT count(*)::int FROM messages WHERE tenant_id = ${tenantId}) AS messages,
             (SELECT count(*)::int FROM events WHERE tenant_id = ${tenantId}) AS events,
             (SELECT count(*)::int FROM event_counters WHERE tenant_id = ${tenantId}) AS counters`;
    return { ...row };
  }

  it('removes its chats, messages and events, and nothing of another tenant', async () => {
    const [gone, kept] = await Promise.all([seedTenant(db.store, { chats: 2, messagesPerChat: 3 }), seedTenant(db.store, { chats: 1, messagesPerChat: 2 })]);
    for (const t of [gone, kept]) await db.store.messages.insertMany(t.tenantId, [message(`del-${t.tenantId}`)], { epoch: 0 });
    const before = await counts(gone.tenantId);
    expect(before).toMatchObject({ chats: 3, messages: 7, counters: 1 });
    expect(before.events).toBeGreaterThan(0);
    const keptBefore = await counts(kept.tenantId);

    await db.sql`DELETE FROM tenants WHERE id = ${gone.tenantId}`;

    expect(await counts(gone.tenantId)).toEqual({ chats: 0, messages: 0, events: 0, counters: 0 });
    expect(await counts(kept.tenantId)).toEqual(keptBefore);
  });

  it('refuses a message batch for a tenant that does not exist, and stores nothing of it', async () => {
    const missing = '00000000-0000-4000-8000-000000000001';
    // Its chat cannot be created (chats -> tenants), so the whole batch statement fails: no message, no event.
    await expect(db.store.messages.insertMany(missing, [message('del-missing')], { epoch: 0 })).rejects.toMatchObject({
      code: '23503',
      constraint_name: 'chats_tenant_id_fkey',
    });
    expect(await counts(missing)).toEqual({ chats: 0, messages: 0, events: 0, counters: 0 });
  });
});
