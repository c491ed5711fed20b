import { decodeJwt } from 'jose';
import type { ExtendedError } from 'socket.io';
import { ErrorCodes, isAppError, type ErrorCode } from '../../domain/errors.js';

/** Who a socket belongs to, as the `authenticate` dependency reports it. */
export interface Principal {
  userId: string;
  tenantId: string;
  role: 'admin' | 'employee';
}

/** Verifies an access token; throws `AppError(UNAUTHENTICATED)` for a bad one. */
export type Authenticate = (token: string) => Promise<Principal>;

/** The parts of a Socket.IO handshake a token may come in. */
export interface HandshakeSource {
  auth: unknown;
  headers: { authorization?: string | undefined };
  query: Record<string, string | string[] | undefined>;
}

const BEARER = /^bearer\s+/i;

function bare(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const token = value.replace(BEARER, '').trim();
  return token.length > 0 ? token : undefined;
}

/**
 * The access token of a handshake, looked for in this order: `auth.token` (the Socket.IO way, and the only
 * one a browser WebSocket can send), an `Authorization: Bearer` header, then `?token=`. A `Bearer ` prefix
 * is accepted in every place.
 */
export function tokenFromHandshake(source: HandshakeSource): string | undefined {
  const auth = source.auth;
  const fromAuth = typeof auth === 'object' && auth !== null && 'token' in auth ? bare(auth.token) : undefined;
  if (fromAuth !== undefined) return fromAuth;
  const header = source.headers.authorization;
  if (header !== undefined && BEARER.test(header)) return bare(header);
  const query = source.query.token;
  return bare(Array.isArray(query) ? query[0] : query);
}

/** Expiry of a JWT in epoch ms, or undefined when it has none or is not a JWT. Call after verifying it. */
export function tokenExpiry(token: string): number | undefined {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    // authenticate accepted it, so it is valid for us even if it is not a JWT: it simply has no expiry.
    return undefined;
  }
}

/** The error a refused client sees as `connect_error`: `err.message`, and `err.data.code` to branch on. */
export function connectError(code: ErrorCode, message: string): ExtendedError {
  return Object.assign(new Error(message), { data: { code, message } });
}

export type HandshakeResult =
  | { ok: true; principal: Principal; expiresAt: number | undefined }
  | { ok: false; error: ExtendedError; cause?: unknown };

/**
 * Authenticates a handshake. A missing, invalid or expired token is refused with code
 * `WA_UNAUTHENTICATED`; another AppError keeps its code and message (they are written to be shown);
 * anything else is an internal error whose cause the caller logs.
 */
export async function authenticateHandshake(
  source: HandshakeSource,
  authenticate: Authenticate,
  now: number,
): Promise<HandshakeResult> {
  const token = tokenFromHandshake(source);
  if (token === undefined) {
    return { ok: false, error: connectError(ErrorCodes.UNAUTHENTICATED, 'missing token: pass it as auth.token') };
  }
  let principal: Principal;
  try {
    principal = await authenticate(token);
  } catch (err) {
    if (isAppError(err)) return { ok: false, error: connectError(err.code, err.message) };
    return { ok: false, error: connectError(ErrorCodes.INTERNAL, 'internal error'), cause: err };
  }
  const expiresAt = tokenExpiry(token);
  // Refused here even if the verifier allows clock skew: the expiry timer would cut the socket at once.
  if (expiresAt !== undefined && expiresAt <= now) {
    return { ok: false, error: connectError(ErrorCodes.UNAUTHENTICATED, 'token expired') };
  }
  return { ok: true, principal, expiresAt };
}

/**
 * The `lastEventId` a reconnecting client sends in `auth` (a string id, or a number as a bare seq), as
 * text; undefined when absent. Checking it against the tenant is the event source's job.
 */
export function lastEventIdFromHandshake(auth: unknown): string | undefined {
  if (typeof auth !== 'object' || auth === null || !('lastEventId' in auth)) return undefined;
  const value = auth.lastEventId;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value === 'string' && value.length > 0 && value.length <= 128) return value;
  return value === undefined || value === null || value === '' ? undefined : 'invalid';
}
