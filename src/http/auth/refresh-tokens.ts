import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../../domain/clock.js';
import { UnauthenticatedError } from '../../domain/errors.js';
import type { Logger } from '../../domain/log.js';
import type { RefreshTokenRepo } from '../../store/types.js';

/**
 * Refresh tokens: 32 random bytes (base64url) handed to the client once; the store keeps only their
 * SHA-256. Tokens form a family from one login. Each refresh rotates the token; presenting a token that
 * was already rotated means a copy leaked, so the whole family is revoked and both holders must log in.
 */

export interface RefreshTokens {
  /** A new token; a new family unless `familyId` is given. */
  issue(owner: { tenantId: string; userId: string }): Promise<string>;
  /** Trades a live token for its successor. Unknown, expired, revoked or reused -> UnauthenticatedError. */
  rotate(token: string): Promise<{ token: string; tenantId: string; userId: string; familyId: string }>;
  /** Revokes the token's whole family. Unknown tokens are ignored: logging out twice is fine. */
  revoke(token: string): Promise<void>;
  /** Revokes a family found by `rotate` (used when the user turned out to be disabled). */
  revokeFamily(tenantId: string, familyId: string): Promise<void>;
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function createRefreshTokens(deps: { repo: RefreshTokenRepo; ttlS: number; clock: Clock; log: Pick<Logger, 'warn'> }): RefreshTokens {
  const { repo, clock, log } = deps;
  const invalid = () => new UnauthenticatedError('Invalid refresh token');

  const mint = (owner: { tenantId: string; userId: string }, familyId: string) => {
    const token = randomBytes(32).toString('base64url');
    const row = {
      id: randomUUID(),
      tenantId: owner.tenantId,
      userId: owner.userId,
      familyId,
      tokenHash: hashRefreshToken(token),
      expiresAt: new Date(clock.now() + deps.ttlS * 1000),
    };
    return { token, row };
  };

  return {
    async issue(owner) {
      const { token, row } = mint(owner, randomUUID());
      await repo.insert(row);
      return token;
    },

    async rotate(token) {
      const record = await repo.findByHash(hashRefreshToken(token));
      if (record === null) throw invalid();
      if (record.revokedAt !== null) {
        // Revoked with a successor = a rotated token seen again: someone holds a copy. Revoked without
        // one = logged out or disabled. Either way nothing in the family may live on.
        if (record.replacedBy !== null) {
          log.warn({ tenantId: record.tenantId, userId: record.userId, familyId: record.familyId }, 'refresh token reuse detected');
        }
        await repo.revokeFamily(record.tenantId, record.familyId);
        throw invalid();
      }
      if (record.expiresAt.getTime() <= clock.now()) throw new UnauthenticatedError('Refresh token expired');
      const next = mint(record, record.familyId);
      // Two refreshes racing with one token: the loser sees `false` and is treated as reuse.
      if (!(await repo.rotate(record.id, next.row))) {
        log.warn({ tenantId: record.tenantId, userId: record.userId, familyId: record.familyId }, 'refresh token reuse detected');
        await repo.revokeFamily(record.tenantId, record.familyId);
        throw invalid();
      }
      return { token: next.token, tenantId: record.tenantId, userId: record.userId, familyId: record.familyId };
    },

    async revoke(token) {
      const record = await repo.findByHash(hashRefreshToken(token));
      if (record !== null) await repo.revokeFamily(record.tenantId, record.familyId);
    },

    revokeFamily(tenantId, familyId) {
      return repo.revokeFamily(tenantId, familyId);
    },
  };
}
