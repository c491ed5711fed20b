import type { Clock } from '../../domain/clock.js';
import { SingleFlight } from '../../domain/single-flight.js';
import type { UserRepo } from '../../store/types.js';

/**
 * Whether a token's user may still act. A signed access token lives up to ACCESS_TOKEN_TTL_S, so every
 * request also asks this cache whether the user was disabled since. Misses read the store; entries live
 * `ttlMs`. The node that disables a user calls `markDisabled` before answering, so on that node the
 * revocation acts at once; other nodes learn within `ttlMs` unless someone forwards the event to
 * `markDisabled` there too (cross-node invalidation).
 */
export interface UserStatusCache {
  /** True when the user exists in the tenant and is not disabled. */
  isActive(tenantId: string, userId: string): Promise<boolean>;
  /** Records at once that the user is disabled. Synchronous on purpose: no await between disable and effect. */
  markDisabled(userId: string): void;
  /** Forgets what is known about the user; the next check reads the store. */
  invalidate(userId: string): void;
}

interface Entry {
  /** Null for a disabled mark: a disabled user is disabled whatever tenant a token claims. */
  tenantId: string | null;
  active: boolean;
  expiresAt: number;
}

export interface UserStatusCacheOptions {
  users: Pick<UserRepo, 'findById'>;
  clock: Clock;
  /** How long a store answer is trusted. Default 5 s: the worst-case delay on other nodes. */
  ttlMs?: number;
  /** Bound on remembered users; the oldest entry goes first. Default 10,000. */
  maxEntries?: number;
}

export function createUserStatusCache(opts: UserStatusCacheOptions): UserStatusCache {
  const ttlMs = opts.ttlMs ?? 5_000;
  const maxEntries = opts.maxEntries ?? 10_000;
  const entries = new Map<string, Entry>();
  // Bumped by every invalidation: a store read that started before one must not cache its answer, or a
  // read racing a disable could store "active" after the disable and undo it for `ttlMs`.
  let generation = 0;

  const remember = (userId: string, entry: Entry) => {
    entries.delete(userId);
    entries.set(userId, entry);
    if (entries.size > maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done !== true) entries.delete(oldest.value);
    }
  };

  // Concurrent reads for one user share one store read; one begun before an invalidation is not joined.
  const flights = new SingleFlight<boolean>();
  const read = (tenantId: string, userId: string): Promise<boolean> => {
    const startedAt = generation;
    return flights.run(`${startedAt}\n${tenantId}\n${userId}`, async () => {
      const readAt = opts.clock.now();
      const user = await opts.users.findById(tenantId, userId);
      const active = user !== null && !user.disabled;
      if (generation === startedAt) {
        remember(userId, { tenantId, active, expiresAt: readAt + ttlMs });
        return active;
      }
      // Something was invalidated meanwhile: a fresh mark wins over this possibly stale read.
      const mark = entries.get(userId);
      return active && mark?.active !== false;
    });
  };

  return {
    async isActive(tenantId, userId) {
      const now = opts.clock.now();
      const cached = entries.get(userId);
      if (cached !== undefined && cached.expiresAt > now) {
        if (!cached.active) return false;
        if (cached.tenantId === tenantId) {
          // In use: read again in the background before it expires, so requests never queue behind it.
          // A failed refresh is not this request's failure: the entry still holds, and the first request
          // after it expires reads the store itself (and sees the error).
          if (cached.expiresAt - now < ttlMs / 2) read(tenantId, userId).catch(() => undefined);
          return true;
        }
      }
      return read(tenantId, userId);
    },

    markDisabled(userId) {
      generation += 1;
      remember(userId, { tenantId: null, active: false, expiresAt: opts.clock.now() + ttlMs });
    },

    invalidate(userId) {
      generation += 1;
      entries.delete(userId);
    },
  };
}
