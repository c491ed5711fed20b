import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type WAWebJS from 'whatsapp-web.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSnapshotAuthStore, createWwebjsStore } from '../../../src/actors/engines/wwebjs-auth.js';
import { loadWwebjsLibrary, type WwebjsLibrary } from '../../../src/actors/engines/wwebjs-library.js';
import { ErrorCodes } from '../../../src/domain/errors.js';
import { createLogger } from '../../../src/domain/log.js';
import { createRemoteAuthStore } from '../../../src/store/remote-auth.js';
import { createTestDatabase, seedTenant, type TestDatabase } from '../../helpers/db.js';
import { tempDir } from './helpers.js';

const log = createLogger({ level: 'silent' });

/** RemoteAuth's upload; JS-only in whatsapp-web.js (index.d.ts does not declare it). */
interface RemoteAuthInternals {
  storeRemoteSession(options?: { emit?: boolean }): Promise<void>;
  userDataDir: string;
}

/** What RemoteAuth needs of a client: the options it reads and rewrites. */
function fakeClient(): WAWebJS.Client {
  return { options: { puppeteer: {} } } as unknown as WAWebJS.Client;
}

describe('RemoteAuth store on PostgreSQL', () => {
  let db: TestDatabase;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let library: WwebjsLibrary;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await tempDir('wwebjs-remote-auth');
    library = await loadWwebjsLibrary();
  });
  afterAll(async () => {
    await db.close();
    await dir.remove();
  });

  function remoteAuth(tenantId: string, epoch: number, dataPath: string, errors: unknown[] = []): WAWebJS.RemoteAuth & RemoteAuthInternals {
    const store = createWwebjsStore(createRemoteAuthStore(db.sql, tenantId, epoch), {
      dataPath,
      log,
      mayDelete: () => true,
      onSaveError: (err) => errors.push(err),
    });
    // The engine's own way to make it: whatsapp-web.js RemoteAuth with our unzip fix.
    const auth = library.createAuthStrategy({ kind: 'remote', clientId: tenantId, dataPath, store, backupSyncIntervalMs: 60_000 });
    auth.setup(fakeClient());
    return auth as WAWebJS.RemoteAuth & RemoteAuthInternals;
  }

  it('round-trips a session folder through whatsapp-web.js RemoteAuth and PostgreSQL', async () => {
    const { tenantId } = await seedTenant(db.store);
    await db.store.sessions.claim(tenantId, 1, 'node-a');
    const dataPath = join(dir.path, 'roundtrip');
    const first = remoteAuth(tenantId, 1, dataPath);
    // No stored session yet: RemoteAuth starts from an empty profile folder.
    await first.beforeBrowserInitialized();
    const profile = first.userDataDir;
    expect(profile).toBe(join(dataPath, `RemoteAuth-${tenantId}`));
    const leveldb = join(profile, 'Default', 'IndexedDB', 'https_web.whatsapp.com_0.indexeddb.leveldb');
    await mkdir(leveldb, { recursive: true });
    await mkdir(join(profile, 'Default', 'Local Storage', 'leveldb'), { recursive: true });
    await mkdir(join(profile, 'Default', 'Cache'), { recursive: true });
    const keys = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31) % 256));
    await writeFile(join(leveldb, '000003.log'), keys);
    await writeFile(join(profile, 'Default', 'Local Storage', 'leveldb', 'CURRENT'), 'MANIFEST-000001\n');
    await writeFile(join(profile, 'Default', 'Cache', 'junk'), 'not part of a session');

    await first.storeRemoteSession();
    const pg = createRemoteAuthStore(db.sql, tenantId, 1);
    const session = `RemoteAuth-${tenantId}`;
    expect(await pg.sessionExists(session)).toBe(true);
    const zip = await pg.extract(session);
    expect(Buffer.from(zip ?? []).subarray(0, 2).toString()).toBe('PK');

    // Another node (or a restart) with an empty disk restores it.
    await rm(dataPath, { recursive: true, force: true });
    const second = remoteAuth(tenantId, 1, dataPath);
    await second.beforeBrowserInitialized();
    expect((await readFile(join(leveldb, '000003.log'))).equals(keys)).toBe(true);
    expect(await readFile(join(profile, 'Default', 'Local Storage', 'leveldb', 'CURRENT'), 'utf8')).toBe('MANIFEST-000001\n');
    // RemoteAuth keeps only what restores a login (IndexedDB, Local Storage), not caches.
    await expect(stat(join(profile, 'Default', 'Cache', 'junk'))).rejects.toMatchObject({ code: 'ENOENT' });
    // The temporary zip is gone from the disk.
    await expect(stat(join(dataPath, `${session}.zip`))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses writes from a lease epoch older than the tenant lease, and accepts the current one', async () => {
    const { tenantId } = await seedTenant(db.store);
    const session = `RemoteAuth-${tenantId}`;
    await db.store.sessions.claim(tenantId, 1, 'node-a');
    const old = createRemoteAuthStore(db.sql, tenantId, 1);
    await old.save(session, new Uint8Array([1, 1, 1]));
    await db.store.sessions.claim(tenantId, 2, 'node-b');

    await expect(old.save(session, new Uint8Array([6, 6, 6]))).rejects.toMatchObject({ code: ErrorCodes.STALE_EPOCH });
    await expect(old.delete(session)).rejects.toMatchObject({ code: ErrorCodes.STALE_EPOCH });
    const current = createRemoteAuthStore(db.sql, tenantId, 2);
    expect([...((await current.extract(session)) ?? [])]).toEqual([1, 1, 1]);

    await current.save(session, new Uint8Array([2, 2, 2]));
    expect([...((await old.extract(session)) ?? [])]).toEqual([2, 2, 2]);
    await current.delete(session);
    expect(await current.sessionExists(session)).toBe(false);
    expect(await current.extract(session)).toBeNull();
  });

  it('does not let a stale save reject inside RemoteAuth, and reports it', async () => {
    const { tenantId } = await seedTenant(db.store);
    await db.store.sessions.claim(tenantId, 5, 'node-b');
    const dataPath = join(dir.path, 'stale');
    await mkdir(dataPath, { recursive: true });
    const session = `RemoteAuth-${tenantId}`;
    await writeFile(join(dataPath, `${session}.zip`), 'zip bytes');
    const errors: unknown[] = [];
    const store = createWwebjsStore(createRemoteAuthStore(db.sql, tenantId, 4), { dataPath, log, mayDelete: () => true, onSaveError: (e) => errors.push(e) });
    // RemoteAuth calls save from a timer that does not catch: it must resolve.
    await expect(Promise.resolve(store.save({ session }))).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: ErrorCodes.STALE_EPOCH });
    expect(await createRemoteAuthStore(db.sql, tenantId, 5).sessionExists(session)).toBe(false);
  });

  it('keeps the stored session when whatsapp-web.js deletes it for a reason other than an unlink', async () => {
    const { tenantId } = await seedTenant(db.store);
    const session = `RemoteAuth-${tenantId}`;
    const pg = createRemoteAuthStore(db.sql, tenantId, 0);
    await pg.save(session, new Uint8Array([7]));
    let unlinked = false;
    const store = createWwebjsStore(pg, { dataPath: dir.path, log, mayDelete: () => unlinked, onSaveError: () => {} });
    await store.delete({ session });
    expect(await pg.sessionExists(session)).toBe(true);
    unlinked = true;
    await store.delete({ session });
    expect(await pg.sessionExists(session)).toBe(false);
  });

  it('keeps tenants apart and refuses an unknown tenant', async () => {
    const a = await seedTenant(db.store);
    const b = await seedTenant(db.store);
    const session = `RemoteAuth-${a.tenantId}`;
    await createRemoteAuthStore(db.sql, a.tenantId, 0).save(session, new Uint8Array([1]));
    const other = createRemoteAuthStore(db.sql, b.tenantId, 0);
    expect(await other.sessionExists(session)).toBe(false);
    expect(await other.extract(session)).toBeNull();
    await expect(createRemoteAuthStore(db.sql, randomUUID(), 0).save(session, new Uint8Array([1]))).rejects.toMatchObject({
      code: ErrorCodes.NOT_FOUND,
    });
  });

  it('serves an actor from a snapshot and forwards its writes to the store in the parent', async () => {
    const { tenantId } = await seedTenant(db.store);
    await db.store.sessions.claim(tenantId, 3, 'node-a');
    const session = `RemoteAuth-${tenantId}`;
    const parentStore = createRemoteAuthStore(db.sql, tenantId, 3);
    await parentStore.save(session, new Uint8Array([4, 2]));
    // Parent: read the zip into the actor's start options. Actor: answer from it, send writes up.
    const zip = await parentStore.extract(session);
    const actorStore = createSnapshotAuthStore({
      snapshot: zip === null ? null : { session, zip },
      onSave: (s, z) => parentStore.save(s, z),
      onDelete: (s) => parentStore.delete(s),
    });
    expect(await actorStore.sessionExists(session)).toBe(true);
    expect([...((await actorStore.extract(session)) ?? [])]).toEqual([4, 2]);
    await actorStore.save(session, new Uint8Array([9]));
    expect([...((await parentStore.extract(session)) ?? [])]).toEqual([9]);
    await actorStore.delete(session);
    expect(await parentStore.sessionExists(session)).toBe(false);
    expect(await actorStore.sessionExists(session)).toBe(false);
  });
});
