import { STATUS_CODES } from 'node:http';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, isAppError, type ErrorCode } from '../domain/errors.js';

/**
 * The HTTP face of every failure. Domain code throws `AppError`s that know nothing of HTTP; this file is
 * the one table that turns a code into a status, and the one place that shapes an error body.
 */

/** Every error response, on every route: `{ statusCode, code, error, message }`. */
export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer({ minimum: 400, maximum: 599, description: 'HTTP status, repeated for clients that only see the body.' }),
    code: Type.String({ description: 'Stable machine-readable code, e.g. WA_NOT_FOUND.', examples: ['WA_NOT_FOUND'] }),
    error: Type.String({ description: 'HTTP reason phrase.', examples: ['Not Found'] }),
    message: Type.String({ description: 'What went wrong, for humans.' }),
  },
  { $id: 'ErrorBody', title: 'ErrorBody', additionalProperties: false },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** Reference to the shared schema (registered once with `app.addSchema(ErrorBody)`). */
export const ErrorRef = Type.Ref(ErrorBody);

/** `retryAfterS`: sent as Retry-After with a 503 when the error itself names no time. */
type Mapping = { status: number; publicMessage?: string; retryAfterS?: number };

/**
 * Code -> status. A `publicMessage` replaces the error's own message: every 5xx has one, so nothing
 * internal (tenant ids, epochs, stack details) reaches a client. `Record<ErrorCode, ...>` makes the
 * compiler demand a row for each new code.
 */
const STATUS_BY_CODE: Record<ErrorCode, Mapping> = {
  [ErrorCodes.VALIDATION]: { status: 400 },
  [ErrorCodes.UNAUTHENTICATED]: { status: 401 },
  [ErrorCodes.FORBIDDEN]: { status: 403 },
  [ErrorCodes.NOT_FOUND]: { status: 404 },
  [ErrorCodes.CONFLICT]: { status: 409 },
  [ErrorCodes.SESSION_NOT_RUNNING]: { status: 409 },
  [ErrorCodes.RATE_LIMITED]: { status: 429 },
  [ErrorCodes.STORE_UNAVAILABLE]: { status: 503, publicMessage: 'The database is unavailable; try again shortly' },
  [ErrorCodes.OWNER_UNAVAILABLE]: {
    status: 503,
    publicMessage: 'The node running this WhatsApp session is unavailable; try again shortly',
  },
  [ErrorCodes.ACTOR_TIMEOUT]: { status: 504, publicMessage: 'The WhatsApp session did not answer in time' },
  [ErrorCodes.CONFIG_INVALID]: internal(),
  [ErrorCodes.STALE_EPOCH]: internal(),
  // The session's actor ended (crashed, or stopped) while handling the command: the supervisor brings it
  // back, so the command may be retried shortly (a send with the same Idempotency-Key is sent once).
  [ErrorCodes.ACTOR_DIED]: {
    status: 503,
    publicMessage: 'The WhatsApp session restarted while handling this request; try again shortly',
    retryAfterS: 2,
  },
  [ErrorCodes.ACTOR_STOPPED]: {
    status: 503,
    publicMessage: 'The WhatsApp session stopped while handling this request; try again shortly',
    retryAfterS: 2,
  },
  // More commands are waiting for this session than its mailbox holds: back off.
  [ErrorCodes.MAILBOX_FULL]: { status: 503, publicMessage: 'The WhatsApp session is busy; try again shortly', retryAfterS: 1 },
  [ErrorCodes.ACTOR_FAILED]: internal(),
  [ErrorCodes.ENGINE]: internal(),
  [ErrorCodes.LEASE_LOST]: internal(),
  [ErrorCodes.INTERNAL]: internal(),
};

function internal(): Mapping {
  return { status: 500, publicMessage: 'Internal server error' };
}

/** The status an `AppError` code answers with. */
export function statusForCode(code: ErrorCode): number {
  return STATUS_BY_CODE[code].status;
}

export function errorBody(statusCode: number, code: ErrorCode, message: string): ErrorBody {
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

/** Fastify's own client errors (bad JSON, body too large, wrong content type) keep their status. */
function codeForClientStatus(status: number): ErrorCode {
  switch (status) {
    case 401:
      return ErrorCodes.UNAUTHENTICATED;
    case 403:
      return ErrorCodes.FORBIDDEN;
    case 404:
      return ErrorCodes.NOT_FOUND;
    case 429:
      return ErrorCodes.RATE_LIMITED;
    default:
      return ErrorCodes.VALIDATION;
  }
}

/** Turn anything thrown in a request into the response body. Pure, so the table is unit-testable. */
export function toErrorBody(err: unknown): ErrorBody {
  if (isAppError(err)) {
    // A code rebuilt from another process's data may be one this build does not know.
    const mapping: Mapping | undefined = STATUS_BY_CODE[err.code];
    if (mapping === undefined) return errorBody(500, ErrorCodes.INTERNAL, 'Internal server error');
    return errorBody(mapping.status, err.code, mapping.publicMessage ?? err.message);
  }
  const fastifyError = err as Partial<FastifyError> | null;
  if (fastifyError !== null && typeof fastifyError === 'object' && Array.isArray(fastifyError.validation)) {
    return errorBody(400, ErrorCodes.VALIDATION, String(fastifyError.message));
  }
  const status = fastifyError !== null && typeof fastifyError === 'object' ? fastifyError.statusCode : undefined;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return errorBody(status, codeForClientStatus(status), String(fastifyError?.message));
  }
  return errorBody(500, ErrorCodes.INTERNAL, 'Internal server error');
}

/** `setErrorHandler` body: log server faults with their cause, client faults at debug only. */
export function handleError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const body = toErrorBody(err);
  if (body.statusCode >= 500) request.log.error({ err, code: body.code }, 'request failed');
  else request.log.debug({ code: body.code, statusCode: body.statusCode }, 'request rejected');
  // A session whose owner node is gone is back on another node within the lease TTL: say when to retry.
  const retryAfterS = isAppError(err) ? (err.details?.retryAfterS ?? STATUS_BY_CODE[err.code].retryAfterS) : undefined;
  if (body.statusCode === 503 && typeof retryAfterS === 'number') reply.header('retry-after', String(retryAfterS));
  return reply.code(body.statusCode).type('application/json; charset=utf-8').send(body);
}

/** `setNotFoundHandler` body: unknown routes answer in the same shape as every other error. */
export function handleNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const body = errorBody(404, ErrorCodes.NOT_FOUND, `Route ${request.method} ${request.url.split('?')[0] ?? ''} not found`);
  return reply.code(404).send(body);
}

type ErrorResponses<C extends number> = { [K in C | 500]: typeof ErrorRef };

/**
 * Response schemas for a route's error statuses; 500 is always included. Declaring them is what puts
 * them in the OpenAPI document and makes Fastify serialize the body with the shared schema.
 */
export function errorResponses<C extends number>(...statuses: C[]): ErrorResponses<C> {
  const out: Record<number, typeof ErrorRef> = { 500: ErrorRef };
  for (const status of statuses) out[status] = ErrorRef;
  return out as ErrorResponses<C>;
}
