/**
 * Where a whatsapp-web.js session (its browser profile, zipped) is kept between runs, so any node can
 * restore a tenant's WhatsApp link (DESIGN.md section 5). One instance serves one tenant.
 *
 * The port lives in `domain` because both sides need it and neither may import the other: the wwebjs
 * engine (inside an actor) consumes it, and `src/store/remote-auth.ts` implements it over PostgreSQL in
 * the parent. `session` is whatsapp-web.js' session name (`RemoteAuth-<tenantId>`), kept so one tenant
 * could hold more than one. Writes (`save`, `delete`) are fenced by the lease epoch the implementation
 * was made for: a writer that no longer holds the tenant's lease gets `StaleEpochError`
 * (`WA_STALE_EPOCH`).
 */
export interface AuthStore {
  sessionExists(session: string): Promise<boolean>;
  /** Replace the stored zip of `session`. */
  save(session: string, zip: Uint8Array): Promise<void>;
  /** The stored zip, or null when there is none. */
  extract(session: string): Promise<Uint8Array | null>;
  /** Forget `session` (after a logout). Deleting a missing session is not an error. */
  delete(session: string): Promise<void>;
}
