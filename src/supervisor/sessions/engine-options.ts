import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { wwebjsDataDir, type Config } from '../../config.js';
import type { AuthStore } from '../../domain/auth-store.js';
import { AppError, ErrorCodes } from '../../domain/errors.js';
import { remoteAuthSessionName } from '../../actors/session-protocol.js';

/** The RemoteAuth store of one tenant, writing with one lease epoch (src/store/remote-auth.ts). */
export type AuthStoreFactory = (tenantId: string, epoch: number) => AuthStore;

/**
 * The engine's slice of an actor's start options (`engineOptions`, validated again by the engine).
 *
 * wwebjs with `WA_AUTH=remote`: actors cannot reach PostgreSQL, so the node reads the tenant's stored
 * browser profile (RemoteAuth's zip) here, under the lease it just took, and hands it over as
 * `authSnapshot` (null: nothing stored, the session links with a QR). The actor sends RemoteAuth's writes
 * back as `evt.auth_save` / `evt.auth_delete`; the node stores them fenced by the lease epoch and
 * refreshes the snapshot in these options, so an actor the supervisor restarts gets the latest profile
 * (docs/wwebjs.md, "Where the session lives").
 */
export async function engineOptionsFor(
  config: Config,
  tenantId: string,
  epoch: number,
  authStore: AuthStoreFactory | undefined,
): Promise<Record<string, unknown>> {
  if (config.WA_ENGINE !== 'wwebjs') return {};
  const base = { chromiumPath: config.CHROMIUM_PATH, dataPath: wwebjsDataDir(config), auth: config.WA_AUTH };
  if (config.WA_AUTH !== 'remote') return base;
  if (authStore === undefined) throw new AppError(ErrorCodes.INTERNAL, 'WA_AUTH=remote needs a RemoteAuth store on this node');
  const session = remoteAuthSessionName(tenantId);
  const zip = await authStore(tenantId, epoch).extract(session);
  return { ...base, authSnapshot: zip === null ? null : { session, zip } };
}

/**
 * Records a RemoteAuth write in the options a restarted actor starts from (in place: the supervisor
 * holds this object). Only options that carry a snapshot (remote auth) are touched.
 */
export function refreshAuthSnapshot(engineOptions: Record<string, unknown> | undefined, session: string, zip: Uint8Array | null): void {
  if (engineOptions === undefined || !('authSnapshot' in engineOptions)) return;
  engineOptions.authSnapshot = zip === null ? null : { session, zip };
}

/**
 * Forgets a tenant's wwebjs login when no actor of it runs here (logout of a parked or stopped session;
 * a running actor's engine does this itself): the stored zip, fenced by `epoch`, and the profile folders
 * this node keeps on disk, which hold the session's keys. Other nodes' leftover folders are replaced by
 * RemoteAuth's restore the next time they run the tenant.
 */
export async function forgetWwebjsLogin(config: Config, tenantId: string, epoch: number, authStore: AuthStoreFactory | undefined): Promise<void> {
  if (config.WA_ENGINE !== 'wwebjs') return;
  await authStore?.(tenantId, epoch).delete(remoteAuthSessionName(tenantId));
  // RemoteAuth's and LocalAuth's folder names (src/actors/engines/wwebjs-auth.ts, sessionName).
  for (const folder of [remoteAuthSessionName(tenantId), `session-${tenantId}`]) {
    await rm(join(wwebjsDataDir(config), folder), { recursive: true, force: true, maxRetries: 3 });
  }
}
