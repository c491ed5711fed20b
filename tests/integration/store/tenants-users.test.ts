import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/domain/errors.js';
import { createTestDatabase, seedTenant, type TestDatabase } from '../../helpers/db.js';

describe('tenant and user repositories', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  it('creates a tenant with its admin and a stopped session', async () => {
    const { tenantId, admin } = await db.store.tenants.createWithAdmin({
      tenantName: 'Acme',
      name: 'Ada',
      email: 'ada@acme.test',
      passwordHash: 'hash-1',
    });
    expect(admin).toMatchObject({ tenantId, name: 'Ada', email: 'ada@acme.test', role: 'admin', disabled: false });
    expect(Number.isNaN(Date.parse(admin.createdAt))).toBe(false);
    const session = await db.store.sessions.get(tenantId);
    expect(session).toMatchObject({ desiredState: 'stopped', status: 'stopped', leaseEpoch: 0, ownerNode: null });
  });

  it('refuses a second account with the same email in any letter case and leaves no tenant behind', async () => {
    await db.store.tenants.createWithAdmin({ tenantName: 'One', name: 'A', email: 'dup@x.test', passwordHash: 'h' });
    const before = await db.sql`SELECT count(*)::int AS n FROM tenants`;
    await expect(
      db.store.tenants.createWithAdmin({ tenantName: 'Two', name: 'B', email: 'DUP@x.test', passwordHash: 'h' }),
    ).rejects.toMatchObject({ code: ErrorCodes.CONFLICT, message: 'Email already registered' });
    const after = await db.sql`SELECT count(*)::int AS n FROM tenants`;
    expect(after[0]?.n).toBe(before[0]?.n);
  });

  it('refuses an employee whose email is already registered in another tenant', async () => {
    const a = await seedTenant(db.store);
    const b = await seedTenant(db.store);
    await expect(
      db.store.users.createEmployee({ tenantId: b.tenantId, name: 'E', email: a.admin.email.toUpperCase(), passwordHash: 'h' }),
    ).rejects.toMatchObject({ code: ErrorCodes.CONFLICT });
  });

  it('finds a user for login by email in any case, with the password hash', async () => {
    const t = await seedTenant(db.store, { passwordHash: 'argon-hash' });
    const found = await db.store.users.findByEmailForLogin(t.admin.email.toUpperCase());
    expect(found).toMatchObject({ id: t.admin.id, tenantId: t.tenantId, passwordHash: 'argon-hash', role: 'admin' });
    expect(await db.store.users.findByEmailForLogin('nobody@nowhere.test')).toBeNull();
  });

  it('finds a user only within its own tenant', async () => {
    const a = await seedTenant(db.store, { employees: 1 });
    const b = await seedTenant(db.store);
    const emp = a.employees[0]!;
    expect(await db.store.users.findById(a.tenantId, emp.id)).toMatchObject({ id: emp.id, role: 'employee' });
    expect(await db.store.users.findById(b.tenantId, emp.id)).toBeNull();
    expect(await db.store.users.findById(a.tenantId, 'not-a-uuid')).toBeNull();
  });

  it('lists the employees of a tenant without its admin or other tenants employees', async () => {
    const a = await seedTenant(db.store, { employees: 3 });
    await seedTenant(db.store, { employees: 2 });
    const list = await db.store.users.listEmployees(a.tenantId);
    expect(list.map((u) => u.id)).toEqual(a.employees.map((u) => u.id));
    expect(list.every((u) => u.role === 'employee' && u.tenantId === a.tenantId)).toBe(true);
  });

  it('disables an employee, revoking its refresh tokens and chat permissions in one step', async () => {
    const t = await seedTenant(db.store, { employees: 1, chats: 2 });
    const emp = t.employees[0]!;
    for (const chat of t.chats) await db.store.permissions.assign(t.tenantId, emp.id, chat.id);
    const tokenId = crypto.randomUUID();
    await db.store.refreshTokens.insert({
      id: tokenId,
      tenantId: t.tenantId,
      userId: emp.id,
      familyId: crypto.randomUUID(),
      tokenHash: `hash-${tokenId}`,
      expiresAt: new Date(Date.now() + 60_000),
    });

    expect(await db.store.users.disableEmployee(t.tenantId, emp.id)).toBe(true);

    expect(await db.store.users.findById(t.tenantId, emp.id)).toMatchObject({ disabled: true });
    expect((await db.store.users.findByEmailForLogin(emp.email))?.disabled).toBe(true);
    expect(await db.store.permissions.listForUser(t.tenantId, emp.id)).toEqual([]);
    expect((await db.store.refreshTokens.findByHash(`hash-${tokenId}`))?.revokedAt).toBeInstanceOf(Date);
  });

  it('does not disable an admin, an unknown user or another tenants employee', async () => {
    const a = await seedTenant(db.store, { employees: 1 });
    const b = await seedTenant(db.store);
    expect(await db.store.users.disableEmployee(a.tenantId, a.admin.id)).toBe(false);
    expect(await db.store.users.disableEmployee(a.tenantId, crypto.randomUUID())).toBe(false);
    expect(await db.store.users.disableEmployee(b.tenantId, a.employees[0]!.id)).toBe(false);
    expect(await db.store.users.findById(a.tenantId, a.employees[0]!.id)).toMatchObject({ disabled: false });
  });
});
