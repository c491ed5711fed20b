import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type WAWebJS from 'whatsapp-web.js';
import type { AuthStore } from '../../domain/auth-store.js';
import type { LeveledLog } from '../../domain/log.js';

/**
 * Where a wwebjs session's login lives (docs/wwebjs.md, "Where the session lives").
 *
 * - `remote`: whatsapp-web.js RemoteAuth. The browser profile is zipped and kept through an `AuthStore`
 *   (in production: PostgreSQL, src/store/remote-auth.ts, reached from the actor as described below).
 *   Any node can restore the session.
 * - `local`: whatsapp-web.js LocalAuth, the profile stays in `<dataPath>/session-<tenantId>`: one node
 *   with a persistent volume.
 * - `none`: nothing kept (tests; every start needs a QR).
 */
export type WwebjsAuth =
  | {
      kind: 'remote';
      store: AuthStore;
      /** How often RemoteAuth re-uploads the profile; whatsapp-web.js accepts 60 000 ms or more (default 300 000). */
      backupSyncIntervalMs?: number;
    }
  | { kind: 'local' }
  | { kind: 'none' };

export type WwebjsAuthKind = WwebjsAuth['kind'];

/**
 * The profile folder of a tenant for each auth kind: the names LocalAuth (`session-<id>`) and RemoteAuth
 * (`RemoteAuth-<id>`) choose themselves; we pass the same folder to Chromium and use it to find the
 * session's processes.
 */
export function sessionName(kind: WwebjsAuthKind, tenantId: string): string {
  switch (kind) {
    case 'remote':
      return `RemoteAuth-${tenantId}`;
    case 'local':
      return `session-${tenantId}`;
    case 'none':
      return `profile-${tenantId}`;
  }
}

export function profileDir(dataPath: string, kind: WwebjsAuthKind, tenantId: string): string {
  return join(dataPath, sessionName(kind, tenantId));
}

export interface StoreAdapterOptions {
  /** RemoteAuth's dataPath: it writes `<dataPath>/<session>.zip` before calling `save`. */
  dataPath: string;
  log: LeveledLog;
  /**
   * Asked before a delete. whatsapp-web.js' RemoteAuth deletes the stored session on every abnormal
   * state (CONFLICT, TOS_BLOCK ...), not only when the phone unlinked us; we keep it unless the account
   * is really gone, so a conflict does not cost the tenant its login.
   */
  mayDelete: () => boolean;
  /** A save failed (store down, lease lost). RemoteAuth calls save from a timer that does not catch. */
  onSaveError: (err: unknown) => void;
}

/**
 * whatsapp-web.js' `Store` (the RemoteAuth store interface) over our `AuthStore` port. RemoteAuth hands
 * over file paths, the port takes bytes: this reads and writes the zip files.
 */
export function createWwebjsStore(port: AuthStore, opts: StoreAdapterOptions): WAWebJS.Store {
  return {
    sessionExists: ({ session }) => port.sessionExists(session),

    async save({ session }) {
      try {
        const zip = await readFile(join(opts.dataPath, `${session}.zip`));
        await port.save(session, new Uint8Array(zip.buffer, zip.byteOffset, zip.byteLength));
        opts.log.info({ session, bytes: zip.byteLength }, 'remote auth session saved');
      } catch (err) {
        // Never reject: RemoteAuth's backup timer and afterAuthReady do not catch, and an unhandled
        // rejection would crash the actor for what is a store problem.
        opts.log.warn({ err, session }, 'remote auth session save failed');
        opts.onSaveError(err);
      }
    },

    async extract({ session, path }) {
      const zip = await port.extract(session);
      if (zip === null) throw new Error(`remote auth session ${session} vanished between sessionExists and extract`);
      // A fresh node has no data folder yet.
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, zip);
    },

    async delete({ session }) {
      if (!opts.mayDelete()) {
        opts.log.info({ session }, 'kept the stored remote auth session (the account was not unlinked)');
        return;
      }
      await port.delete(session);
      opts.log.info({ session }, 'remote auth session deleted');
    },
  };
}

/** A zip known to the actor at start: what the parent read from the store (or null). */
export interface AuthSnapshot {
  session: string;
  zip: Uint8Array;
}

export interface SnapshotAuthStoreOptions {
  snapshot: AuthSnapshot | null;
  /** Forward a save to the store in the parent (e.g. an actor event); rejecting fails the save. */
  onSave: (session: string, zip: Uint8Array) => void | Promise<void>;
  onDelete: (session: string) => void | Promise<void>;
}

/**
 * An `AuthStore` for an actor whose real store lives in the parent and which can only send events up:
 * reads are served from the snapshot the parent passed in the start options, writes update it and are
 * forwarded. The parent applies them with the actor's lease epoch (StaleEpochError fences a stale actor
 * there). See docs/wwebjs.md for the wiring.
 */
export function createSnapshotAuthStore(opts: SnapshotAuthStoreOptions): AuthStore {
  const zips = new Map<string, Uint8Array>();
  if (opts.snapshot !== null) zips.set(opts.snapshot.session, opts.snapshot.zip);
  return {
    sessionExists: async (session) => zips.has(session),
    extract: async (session) => zips.get(session) ?? null,
    async save(session, zip) {
      await opts.onSave(session, zip);
      zips.set(session, zip);
    },
    async delete(session) {
      await opts.onDelete(session);
      zips.delete(session);
    },
  };
}

/** LocalAuth's logout removes its folder itself; this is for a logout without a live client. */
export async function removeProfile(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
