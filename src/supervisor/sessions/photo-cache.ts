import type { Clock } from '../../domain/clock.js';

type Photo = { mimetype: string; data: Uint8Array } | null;

/**
 * Profile photos change rarely and fetching one costs a round trip to WhatsApp: keep each (and each
 * "has none") for a while. Bounded: the oldest entry goes first.
 */
export function createPhotoCache(opts: { clock: Clock; ttlMs?: number; maxEntries?: number }) {
  const ttlMs = opts.ttlMs ?? 10 * 60_000;
  const maxEntries = opts.maxEntries ?? 5_000;
  const entries = new Map<string, { photo: Photo; expires: number }>();
  return {
    async get(tenantId: string, chatId: string, load: () => Promise<Photo>): Promise<Photo> {
      const key = `${tenantId}\u0000${chatId}`;
      const hit = entries.get(key);
      if (hit !== undefined && hit.expires > opts.clock.now()) return hit.photo;
      const photo = await load();
      entries.delete(key);
      entries.set(key, { photo, expires: opts.clock.now() + ttlMs });
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done !== true) entries.delete(oldest.value);
      }
      return photo;
    },
  };
}
