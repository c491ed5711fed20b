import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/domain/errors.js';
import { createTestDatabase, seedTenant, type TestDatabase } from '../../helpers/db.js';

describe('session repository', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  it('records the desired state and lists active tenants across tenants', async () => {
    const a = await seedTenant(db.store);
    const b = await seedTenant(db.store);
    const c = await seedTenant(db.store);
    expect(await db.store.sessions.setDesired(a.tenantId, 'active')).toMatchObject({ tenantId: a.tenantId, desiredState: 'active' });
    await db.store.sessions.setDesired(b.tenantId, 'active');
    await db.store.sessions.setDesired(b.tenantId, 'stopped');
    const active = await db.store.sessions.listActive();
    expect(active).toContain(a.tenantId);
    expect(active).not.toContain(b.tenantId);
    expect(active).not.toContain(c.tenantId);
  });

  it('claims with a newer epoch and refuses a claim with an older one', async () => {
    const t = await seedTenant(db.store);
    await db.store.sessions.claim(t.tenantId, 3, 'node-a');
    expect(await db.store.sessions.get(t.tenantId)).toMatchObject({ leaseEpoch: 3, ownerNode: 'node-a' });
    await db.store.sessions.claim(t.tenantId, 5, 'node-b');
    await expect(db.store.sessions.claim(t.tenantId, 4, 'node-a')).rejects.toMatchObject({ code: ErrorCodes.STALE_EPOCH });
    expect(await db.store.sessions.get(t.tenantId)).toMatchObject({ leaseEpoch: 5, ownerNode: 'node-b' });
  });

  it('refuses a status write from an owner whose epoch is stale and keeps the current status', async () => {
    const t = await seedTenant(db.store);
    await db.store.sessions.claim(t.tenantId, 1, 'node-a');
    await db.store.sessions.setStatus(t.tenantId, 1, 'qr', null);
    await db.store.sessions.claim(t.tenantId, 2, 'node-b');
    await db.store.sessions.setStatus(t.tenantId, 2, 'connected', null);
    await expect(db.store.sessions.setStatus(t.tenantId, 1, 'failed', 'old owner')).rejects.toMatchObject({
      code: ErrorCodes.STALE_EPOCH,
    });
    expect(await db.store.sessions.get(t.tenantId)).toMatchObject({ status: 'connected', statusReason: null, leaseEpoch: 2 });
  });

  it('remembers a newer epoch seen in a write, fencing out the older holder', async () => {
    const t = await seedTenant(db.store);
    await db.store.sessions.claim(t.tenantId, 1, 'node-a');
    await db.store.sessions.setStatus(t.tenantId, 7, 'failed', 'crash loop');
    expect(await db.store.sessions.get(t.tenantId)).toMatchObject({ status: 'failed', statusReason: 'crash loop', leaseEpoch: 7 });
    await expect(db.store.sessions.setStatus(t.tenantId, 1, 'connected', null)).rejects.toMatchObject({ code: ErrorCodes.STALE_EPOCH });
  });

  it('saves and loads credentials under the fence', async () => {
    const t = await seedTenant(db.store);
    await db.store.sessions.claim(t.tenantId, 2, 'node-a');
    expect(await db.store.sessions.loadCredentials(t.tenantId)).toBeNull();
    await db.store.sessions.saveCredentials(t.tenantId, 2, new Uint8Array([9, 8, 7]));
    expect(Array.from((await db.store.sessions.loadCredentials(t.tenantId)) ?? [])).toEqual([9, 8, 7]);
    await expect(db.store.sessions.saveCredentials(t.tenantId, 1, new Uint8Array([1]))).rejects.toMatchObject({
      code: ErrorCodes.STALE_EPOCH,
    });
    expect(Array.from((await db.store.sessions.loadCredentials(t.tenantId)) ?? [])).toEqual([9, 8, 7]);
    await db.store.sessions.saveCredentials(t.tenantId, 2, null);
    expect(await db.store.sessions.loadCredentials(t.tenantId)).toBeNull();
  });

  it('keeps one tenants session invisible to another', async () => {
    const a = await seedTenant(db.store);
    const b = await seedTenant(db.store);
    await db.store.sessions.claim(a.tenantId, 1, 'node-a');
    await db.store.sessions.saveCredentials(a.tenantId, 1, new Uint8Array([1, 2]));
    expect((await db.store.sessions.get(b.tenantId))?.ownerNode).toBeNull();
    expect(await db.store.sessions.loadCredentials(b.tenantId)).toBeNull();
  });

  it('refuses session writes for a tenant that does not exist and a malformed epoch', async () => {
    const t = await seedTenant(db.store);
    await expect(db.store.sessions.claim('00000000-0000-4000-8000-000000000000', 1, 'n')).rejects.toMatchObject({
      code: ErrorCodes.NOT_FOUND,
    });
    await expect(db.store.sessions.setStatus(t.tenantId, -1, 'qr', null)).rejects.toMatchObject({ code: ErrorCodes.VALIDATION });
  });
});
