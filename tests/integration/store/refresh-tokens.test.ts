import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, seedTenant, type SeededTenant, type TestDatabase } from '../../helpers/db.js';

describe('refresh token repository', () => {
  let db: TestDatabase;
  let t: SeededTenant;
  beforeAll(async () => {
    db = await createTestDatabase();
    t = await seedTenant(db.store, { employees: 1 });
  });
  afterAll(async () => {
    await db.close();
  });

  function token(familyId = randomUUID(), userId = t.admin.id) {
    const id = randomUUID();
    return { id, tenantId: t.tenantId, userId, familyId, tokenHash: `sha-${id}`, expiresAt: new Date('2099-01-01T00:00:00Z') };
  }

  it('stores a token and finds it by its hash without the hash', async () => {
    const tok = token();
    await db.store.refreshTokens.insert(tok);
    const found = await db.store.refreshTokens.findByHash(tok.tokenHash);
    expect(found).toEqual({
      id: tok.id,
      tenantId: t.tenantId,
      userId: t.admin.id,
      familyId: tok.familyId,
      expiresAt: tok.expiresAt,
      revokedAt: null,
      replacedBy: null,
    });
    expect(await db.store.refreshTokens.findByHash('sha-unknown')).toBeNull();
  });

  it('rotates a token once and reports the reuse of a rotated token', async () => {
    const first = token();
    await db.store.refreshTokens.insert(first);
    const second = token(first.familyId);
    expect(await db.store.refreshTokens.rotate(first.id, second)).toBe(true);

    const old = await db.store.refreshTokens.findByHash(first.tokenHash);
    expect(old?.revokedAt).toBeInstanceOf(Date);
    expect(old?.replacedBy).toBe(second.id);
    expect((await db.store.refreshTokens.findByHash(second.tokenHash))?.revokedAt).toBeNull();

    const third = token(first.familyId);
    expect(await db.store.refreshTokens.rotate(first.id, third)).toBe(false);
    expect(await db.store.refreshTokens.findByHash(third.tokenHash)).toBeNull();
  });

  it('lets exactly one of two concurrent rotations of the same token win', async () => {
    const first = token();
    await db.store.refreshTokens.insert(first);
    const a = token(first.familyId);
    const b = token(first.familyId);
    const results = await Promise.all([db.store.refreshTokens.rotate(first.id, a), db.store.refreshTokens.rotate(first.id, b)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const stored = await Promise.all([a, b].map((x) => db.store.refreshTokens.findByHash(x.tokenHash)));
    expect(stored.filter((x) => x !== null)).toHaveLength(1);
  });

  it('does not rotate a token through another tenant', async () => {
    const other = await seedTenant(db.store);
    const first = token();
    await db.store.refreshTokens.insert(first);
    const foreign = { ...token(first.familyId), tenantId: other.tenantId, userId: other.admin.id };
    expect(await db.store.refreshTokens.rotate(first.id, foreign)).toBe(false);
    expect((await db.store.refreshTokens.findByHash(first.tokenHash))?.revokedAt).toBeNull();
  });

  it('revokes a whole family and leaves other families alone', async () => {
    const fam = randomUUID();
    const x = token(fam);
    const y = token(fam);
    const z = token();
    for (const tok of [x, y, z]) await db.store.refreshTokens.insert(tok);
    await db.store.refreshTokens.revokeFamily(t.tenantId, fam);
    expect((await db.store.refreshTokens.findByHash(x.tokenHash))?.revokedAt).toBeInstanceOf(Date);
    expect((await db.store.refreshTokens.findByHash(y.tokenHash))?.revokedAt).toBeInstanceOf(Date);
    expect((await db.store.refreshTokens.findByHash(z.tokenHash))?.revokedAt).toBeNull();
  });

  it('revokes every token of one user only', async () => {
    const emp = t.employees[0]!;
    const mine = [token(undefined, emp.id), token(undefined, emp.id)];
    const admins = token();
    for (const tok of [...mine, admins]) await db.store.refreshTokens.insert(tok);
    await db.store.refreshTokens.revokeAllForUser(t.tenantId, emp.id);
    for (const tok of mine) expect((await db.store.refreshTokens.findByHash(tok.tokenHash))?.revokedAt).toBeInstanceOf(Date);
    expect((await db.store.refreshTokens.findByHash(admins.tokenHash))?.revokedAt).toBeNull();
  });
});
