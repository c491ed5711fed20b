import { createHash, createSecretKey, type KeyObject } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { SignJWT, errors as joseErrors, jwtVerify, type JWTHeaderParameters } from 'jose';
import type { Clock } from '../../domain/clock.js';
import { UnauthenticatedError } from '../../domain/errors.js';
import { Role } from '../../domain/types.js';
import { createVerifiedTokens } from './verified-tokens.js';

/**
 * Access tokens: short-lived HS256 JWTs. Keys are imported once (a KeyObject verifies ~40x faster than
 * a string secret, see docs STACK.md); each carries a `kid` derived from its secret so verification
 * picks the right key directly while older secrets are still accepted during a rotation.
 */

/** Who is calling: what a verified access token says. */
export interface Principal {
  userId: string;
  tenantId: string;
  role: Role;
}

// A pattern, not `format: 'uuid'`: TypeBox's Value.Check knows no formats unless registered globally.
const UuidString = Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' });

const AccessClaims = Type.Object({
  sub: UuidString,
  tid: UuidString,
  role: Role,
  typ: Type.Literal('access'),
  iss: Type.String(),
  iat: Type.Integer(),
  exp: Type.Integer(),
});
export type AccessClaims = Static<typeof AccessClaims>;

export interface AccessTokens {
  /** Lifetime of a new token, in seconds. */
  readonly ttlS: number;
  sign(principal: Principal): Promise<string>;
  /** Throws `UnauthenticatedError` for anything but a valid, unexpired access token of ours. */
  verify(token: string): Promise<Principal>;
}

export interface AccessTokenOptions {
  secret: string;
  /** Earlier secrets still accepted for verification; tokens are never signed with them. */
  previousSecrets?: readonly string[];
  issuer: string;
  ttlS: number;
  clock: Clock;
  /**
   * Verified tokens remembered until their expiry (see verified-tokens.ts), so a client's repeated token
   * is checked once. Default 10 000; 0 verifies every time.
   */
  verifiedCacheSize?: number;
}

/** Not secret: a short fingerprint so a token names the key it was signed with. */
function keyId(secret: string): string {
  return createHash('sha256').update(`wa-tenants:kid:${secret}`).digest('base64url').slice(0, 16);
}

/** Splits the JWT_PREVIOUS_SECRETS config value. */
export function parseSecretList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function createAccessTokens(opts: AccessTokenOptions): AccessTokens {
  const signingKid = keyId(opts.secret);
  const signingKey = createSecretKey(Buffer.from(opts.secret, 'utf8'));
  const keys = new Map<string, KeyObject>([[signingKid, signingKey]]);
  for (const previous of opts.previousSecrets ?? []) {
    const kid = keyId(previous);
    if (!keys.has(kid)) keys.set(kid, createSecretKey(Buffer.from(previous, 'utf8')));
  }
  const invalid = () => new UnauthenticatedError('Invalid access token');
  const verified = createVerifiedTokens<Principal>(opts.verifiedCacheSize ?? 10_000);

  const resolveKey = (header: JWTHeaderParameters): KeyObject => {
    const key = header.kid === undefined ? undefined : keys.get(header.kid);
    if (key === undefined) throw invalid();
    return key;
  };

  return {
    ttlS: opts.ttlS,

    async sign(principal) {
      const nowS = Math.floor(opts.clock.now() / 1000);
      return new SignJWT({ tid: principal.tenantId, role: principal.role, typ: 'access' })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: signingKid })
        .setSubject(principal.userId)
        .setIssuer(opts.issuer)
        .setIssuedAt(nowS)
        .setExpirationTime(nowS + opts.ttlS)
        .sign(signingKey);
    },

    async verify(token) {
      const cached = verified.get(token, opts.clock.now());
      if (cached !== undefined) return { ...cached };
      let payload: unknown;
      try {
        // `algorithms` pins HS256: `alg: none` and any asymmetric-key confusion are refused by jose.
        ({ payload } = await jwtVerify(token, resolveKey, {
          algorithms: ['HS256'],
          issuer: opts.issuer,
          currentDate: new Date(opts.clock.now()),
        }));
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) throw new UnauthenticatedError('Access token expired');
        throw invalid();
      }
      // A refresh or foreign token signed with our key still must look exactly like an access token.
      if (!Value.Check(AccessClaims, payload)) throw invalid();
      const principal: Principal = { userId: payload.sub, tenantId: payload.tid, role: payload.role };
      // jose refuses a token once `exp <= now` (whole seconds): the entry ends at the same instant.
      verified.put(token, principal, payload.exp * 1000);
      return { ...principal };
    },
  };
}
