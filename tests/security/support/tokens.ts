import { decodeProtectedHeader } from 'jose';
import { createAccessTokens, type Principal } from '../../../src/http/auth/tokens.js';

/**
 * Forged and expired access tokens, made the way an attacker (or time) would make them. Signing goes
 * through the product's own signer where the signature must be genuine (expired, short-lived), so
 * the only thing under test is the verifier.
 */

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A genuine token for `principal` that expired an hour ago. */
export async function expiredToken(secret: string, issuer: string, principal: Principal): Promise<string> {
  const hourAgo = Date.now() - 3_600_000;
  return createAccessTokens({ secret, issuer, ttlS: 60, clock: { now: () => hourAgo } }).sign(principal);
}

/** A genuine token for `principal` that expires `ttlS` seconds from now. */
export async function shortLivedToken(secret: string, issuer: string, principal: Principal, ttlS: number): Promise<string> {
  return createAccessTokens({ secret, issuer, ttlS, clock: { now: () => Date.now() } }).sign(principal);
}

/** The same header and claims, `alg: none` and an empty signature (the classic JWT bypass). */
export function algNoneToken(genuine: string): string {
  const [, payload] = genuine.split('.');
  const { kid } = decodeProtectedHeader(genuine);
  return `${b64url({ alg: 'none', typ: 'JWT', kid })}.${payload ?? ''}.`;
}

/** The same header and claims with the signature of another key. */
export async function badSignatureToken(genuine: string, issuer: string, principal: Principal): Promise<string> {
  const forged = await createAccessTokens({ secret: 'attacker-guess-0123456789abcdef0123456789', issuer, ttlS: 900, clock: { now: () => Date.now() } }).sign(principal);
  const [header, payload] = genuine.split('.');
  return `${header ?? ''}.${payload ?? ''}.${forged.split('.')[2] ?? ''}`;
}

/** A genuine token whose claims were edited (role raised to admin): the signature no longer matches. */
export function tamperedClaimsToken(genuine: string): string {
  const [header, payload, signature] = genuine.split('.');
  const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  return `${header ?? ''}.${b64url({ ...claims, role: 'admin' })}.${signature ?? ''}`;
}
