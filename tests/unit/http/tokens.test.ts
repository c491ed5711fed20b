import { randomUUID } from 'node:crypto';
import { SignJWT, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAccessTokens, parseSecretList, type Principal } from '../../../src/http/auth/tokens.js';

const SECRET = 'current-secret-current-secret-0123456789';
const OLD = 'previous-secret-previous-secret-012345678';
const ISSUER = 'wa-tenants-test';

function manualClock(start = Date.parse('2030-01-01T00:00:00Z')) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

const principal = (): Principal => ({ userId: randomUUID(), tenantId: randomUUID(), role: 'employee' });

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function rejection(promise: Promise<unknown>): Promise<{ code: unknown; message: unknown }> {
  const err: unknown = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  const { code, message } = err as { code?: unknown; message?: unknown };
  return { code, message };
}

describe('access tokens', () => {
  it('verifies a token it signed and returns who it names', async () => {
    const tokens = createAccessTokens({ secret: SECRET, issuer: ISSUER, ttlS: 900, clock: manualClock() });
    const who = principal();
    expect(await tokens.verify(await tokens.sign(who))).toEqual(who);
  });

  it('accepts tokens signed with a previous secret during a rotation, and signs only with the current one', async () => {
    const clock = manualClock();
    const before = createAccessTokens({ secret: OLD, issuer: ISSUER, ttlS: 900, clock });
    const after = createAccessTokens({ secret: SECRET, previousSecrets: [OLD], issuer: ISSUER, ttlS: 900, clock });
    const who = principal();
    expect(await after.verify(await before.sign(who))).toEqual(who);

    const onlyOld = createAccessTokens({ secret: OLD, issuer: ISSUER, ttlS: 900, clock });
    expect((await rejection(onlyOld.verify(await after.sign(who)))).code).toBe('WA_UNAUTHENTICATED');
  });

  it('rejects a token of a secret that was dropped from the rotation', async () => {
    const clock = manualClock();
    const before = createAccessTokens({ secret: OLD, issuer: ISSUER, ttlS: 900, clock });
    const after = createAccessTokens({ secret: SECRET, issuer: ISSUER, ttlS: 900, clock });
    expect(await rejection(after.verify(await before.sign(principal())))).toEqual({ code: 'WA_UNAUTHENTICATED', message: 'Invalid access token' });
  });

  it('expires a token exactly ttl seconds after issue, by the injected clock', async () => {
    const clock = manualClock();
    const tokens = createAccessTokens({ secret: SECRET, issuer: ISSUER, ttlS: 60, clock });
    const token = await tokens.sign(principal());
    clock.advance(59_000);
    await expect(tokens.verify(token)).resolves.toBeDefined();
    clock.advance(1_000);
    expect(await rejection(tokens.verify(token))).toEqual({ code: 'WA_UNAUTHENTICATED', message: 'Access token expired' });
  });

  it('rejects an unsigned token with alg none even when its header names our key', async () => {
    const tokens = createAccessTokens({ secret: SECRET, issuer: ISSUER, ttlS: 900, clock: manualClock() });
    const { kid } = decodeProtectedHeader(await tokens.sign(principal()));
    const who = principal();
    const nowS = Math.floor(Date.parse('2030-01-01T00:00:00Z') / 1000);
    const payload = { sub: who.userId, tid: who.tenantId, role: 'admin', typ: 'access', iss: ISSUER, iat: nowS, exp: nowS + 900 };
    const forged = `${b64({ alg: 'none', typ: 'JWT', kid })}.${b64(payload)}.`;
    expect((await rejection(tokens.verify(forged))).code).toBe('WA_UNAUTHENTICATED');
  });

  it('rejects a token whose signature was tampered with', async () => {
    const tokens = createAccessTokens({ secret: SECRET, issuer: ISSUER, ttlS: 900, clock: manualClock() });
    const [header, payload, signature = ''] = (await tokens.sign(principal())).split('.');
    const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
    expect((await rejection(tokens.verify(`${header}.${payload}.${flipped}`))).code).toBe('WA_UNAUTHENTICATED');
  });

  it('rejects a token that promotes itself by editing the payload', async () => {
    const tokens = createAccessTokens({ secret: SECRET, issuer: ISSUER, ttlS: 900, clock: manualClock() });
    const [header, payload = '', signature] = (await tokens.sign(principal())).split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const promoted = b64({ ...claims, role: 'admin' });
    expect((await rejection(tokens.verify(`${header}.${promoted}.${signature}`))).code).toBe('WA_UNAUTHENTICATED');
  });

  it('rejects a correctly signed token whose typ is not access', async () => {
    const clock = manualClock();
    const tokens = createAccessTokens({ secret: SECRET, issuer: ISSUER, ttlS: 900, clock });
    const { kid } = decodeProtectedHeader(await tokens.sign(principal()));
    const who = principal();
    const refreshLike = await new SignJWT({ tid: who.tenantId, role: who.role, typ: 'refresh' })
      .setProtectedHeader({ alg: 'HS256', kid: kid ?? '' })
      .setSubject(who.userId)
      .setIssuer(ISSUER)
      .setIssuedAt(Math.floor(clock.now() / 1000))
      .setExpirationTime(Math.floor(clock.now() / 1000) + 900)
      .sign(Buffer.from(SECRET));
    expect((await rejection(tokens.verify(refreshLike))).code).toBe('WA_UNAUTHENTICATED');
  });

  it('rejects a token of another issuer and a token that is not a JWT at all', async () => {
    const clock = manualClock();
    const ours = createAccessTokens({ secret: SECRET, issuer: ISSUER, ttlS: 900, clock });
    const theirs = createAccessTokens({ secret: SECRET, issuer: 'someone-else', ttlS: 900, clock });
    expect((await rejection(ours.verify(await theirs.sign(principal())))).code).toBe('WA_UNAUTHENTICATED');
    expect((await rejection(ours.verify('not-a-jwt'))).code).toBe('WA_UNAUTHENTICATED');
  });

  it('answers a repeated token from its cache of verified tokens, and never past the token expiry', async () => {
    const clock = manualClock();
    const tokens = createAccessTokens({ secret: SECRET, issuer: ISSUER, ttlS: 60, clock });
    const who = principal();
    const token = await tokens.sign(who);
    expect(await tokens.verify(token)).toEqual(who);
    clock.advance(59_999);
    expect(await tokens.verify(token)).toEqual(who);
    clock.advance(1);
    expect(await rejection(tokens.verify(token))).toEqual({ code: 'WA_UNAUTHENTICATED', message: 'Access token expired' });
  });

  it('does not let a cached verification vouch for a different token of the same user', async () => {
    const tokens = createAccessTokens({ secret: SECRET, issuer: ISSUER, ttlS: 900, clock: manualClock() });
    const token = await tokens.sign(principal());
    await tokens.verify(token);
    const [header, payload = '', signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    expect((await rejection(tokens.verify(`${header}.${b64({ ...claims, role: 'admin' })}.${signature}`))).code).toBe('WA_UNAUTHENTICATED');
    expect((await rejection(tokens.verify(`${token}x`))).code).toBe('WA_UNAUTHENTICATED');
  });

  it('verifies every time with the cache disabled, and keeps a bounded number of entries', async () => {
    const { createVerifiedTokens } = await import('../../../src/http/auth/verified-tokens.js');
    const cache = createVerifiedTokens<string>(2);
    cache.put('a', 'A', 10);
    cache.put('b', 'B', 10);
    cache.put('c', 'C', 10);
    expect([cache.get('a', 0), cache.get('b', 0), cache.get('c', 0), cache.size]).toEqual([undefined, 'B', 'C', 2]);
    expect(cache.get('b', 10)).toBeUndefined();
    const off = createVerifiedTokens<string>(0);
    off.put('a', 'A', 10);
    expect(off.get('a', 0)).toBeUndefined();
  });

  it('reads the previous-secrets list from its comma-separated config form', () => {
    expect(parseSecretList('')).toEqual([]);
    expect(parseSecretList(' a , b,,c ')).toEqual(['a', 'b', 'c']);
  });
});
