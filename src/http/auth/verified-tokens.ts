import { createHash } from 'node:crypto';

/**
 * Remembers access tokens that passed full verification, so a client sending the same token on every
 * request pays for the HMAC and claim checks once (jose's verify is the largest CPU cost of a small
 * read). Safe because an entry:
 * - is keyed by the SHA-256 of the whole token (signature included): only that exact token hits, and
 *   no bearer token is kept in memory;
 * - expires no later than the token's own `exp`, by the same clock as the verifier;
 * - holds only what the signature vouches for (user, tenant, role). Revocation is not the cache's
 *   business: the guard asks the disabled-user cache on every request, hit or miss.
 * Failures are never cached. The cache is bounded; the oldest entry goes first.
 */
export interface VerifiedTokens<P> {
  get(token: string, nowMs: number): P | undefined;
  put(token: string, principal: P, expiresAtMs: number): void;
  readonly size: number;
}

export function createVerifiedTokens<P>(maxEntries: number): VerifiedTokens<P> {
  const entries = new Map<string, { principal: P; expiresAtMs: number }>();
  const keyOf = (token: string) => createHash('sha256').update(token).digest('base64');
  return {
    get(token, nowMs) {
      if (maxEntries === 0) return undefined;
      const key = keyOf(token);
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (nowMs < entry.expiresAtMs) return entry.principal;
      entries.delete(key);
      return undefined;
    },
    put(token, principal, expiresAtMs) {
      if (maxEntries === 0) return;
      const key = keyOf(token);
      entries.delete(key);
      entries.set(key, { principal, expiresAtMs });
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done !== true) entries.delete(oldest.value);
      }
    },
    get size() {
      return entries.size;
    },
  };
}
