import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures (docs/webhooks.md): `X-Wa-Signature: t=<unix seconds>,v1=<hex>` where `<hex>` is
 * HMAC-SHA256 with the endpoint's secret over `<t>.<raw body>`. Signing the timestamp with the body lets
 * a receiver refuse replays of an old request; `v1` names the scheme so a new one can be added beside it.
 */
export const SIGNATURE_HEADER = 'x-wa-signature';

/** How far a signature's timestamp may be from the receiver's clock by default: 5 minutes. */
export const DEFAULT_TOLERANCE_S = 300;

export function computeSignature(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/** The header value for a body sent at `timestamp` (unix seconds). */
export function signatureHeader(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${computeSignature(secret, timestamp, body)}`;
}

/**
 * Checks a received signature header against the raw body. False for a malformed header, a timestamp
 * outside `toleranceS` of `nowS`, or no matching `v1` (compared in constant time).
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  body: string,
  opts: { nowS?: number; toleranceS?: number } = {},
): boolean {
  if (header === undefined) return false;
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = parts.find(([k]) => k === 't')?.[1];
  const signatures = parts.filter(([k, v]) => k === 'v1' && v !== undefined).map(([, v]) => v as string);
  if (t === undefined || !/^\d{1,12}$/.test(t) || signatures.length === 0) return false;
  const timestamp = Number(t);
  const nowS = opts.nowS ?? Math.floor(Date.now() / 1000);
  if (Math.abs(nowS - timestamp) > (opts.toleranceS ?? DEFAULT_TOLERANCE_S)) return false;
  const expected = Buffer.from(computeSignature(secret, timestamp, body), 'hex');
  return signatures.some((s) => {
    if (!/^[0-9a-f]{64}$/i.test(s)) return false;
    return timingSafeEqual(expected, Buffer.from(s, 'hex'));
  });
}
