/**
 * One registry of stable error codes. Domain and store code throw these; the HTTP layer maps a code to a
 * status in one table (src/http/errors.ts). Errors that cross a worker boundary are rebuilt from
 * `{ code, message }`, so identify them by `code`, never by `instanceof`.
 */
export const ErrorCodes = {
  VALIDATION: 'WA_VALIDATION',
  UNAUTHENTICATED: 'WA_UNAUTHENTICATED',
  FORBIDDEN: 'WA_FORBIDDEN',
  NOT_FOUND: 'WA_NOT_FOUND',
  CONFLICT: 'WA_CONFLICT',
  RATE_LIMITED: 'WA_RATE_LIMITED',
  CONFIG_INVALID: 'WA_CONFIG_INVALID',
  STORE_UNAVAILABLE: 'WA_STORE_UNAVAILABLE',
  STALE_EPOCH: 'WA_STALE_EPOCH',
  SESSION_NOT_RUNNING: 'WA_SESSION_NOT_RUNNING',
  ACTOR_TIMEOUT: 'WA_ACTOR_TIMEOUT',
  ACTOR_DIED: 'WA_ACTOR_DIED',
  ACTOR_STOPPED: 'WA_ACTOR_STOPPED',
  MAILBOX_FULL: 'WA_MAILBOX_FULL',
  ACTOR_FAILED: 'WA_ACTOR_FAILED',
  ENGINE: 'WA_ENGINE',
  LEASE_LOST: 'WA_LEASE_LOST',
  OWNER_UNAVAILABLE: 'WA_OWNER_UNAVAILABLE',
  INTERNAL: 'WA_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Plain data form of an error, safe to send over a worker channel, Redis or JSON. */
export interface ErrorData {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options?.details;
  }

  toData(): ErrorData {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  /** Rebuild an error that crossed a boundary as data. */
  static fromData(data: ErrorData): AppError {
    return new AppError(data.code, data.message, data.details === undefined ? undefined : { details: data.details });
  }
}

export class ValidationError extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(ErrorCodes.VALIDATION, message, details === undefined ? undefined : { details });
  }
}
export class UnauthenticatedError extends AppError {
  constructor(message = 'Authentication required') {
    super(ErrorCodes.UNAUTHENTICATED, message);
  }
}
export class ForbiddenError extends AppError {
  constructor(message = 'You are not allowed to do this') {
    super(ErrorCodes.FORBIDDEN, message);
  }
}
export class NotFoundError extends AppError {
  constructor(what: string) {
    super(ErrorCodes.NOT_FOUND, `${what} not found`);
  }
}
export class ConflictError extends AppError {
  constructor(message: string) {
    super(ErrorCodes.CONFLICT, message);
  }
}
export class StaleEpochError extends AppError {
  constructor(tenantId: string, epoch: number) {
    super(ErrorCodes.STALE_EPOCH, `write refused: lease epoch ${epoch} is no longer current for tenant ${tenantId}`);
  }
}
export class StoreUnavailableError extends AppError {
  constructor(cause?: unknown) {
    super(ErrorCodes.STORE_UNAVAILABLE, 'The database is unavailable; try again shortly', { cause });
  }
}

export function isAppError(err: unknown): err is AppError {
  if (!(err instanceof Error)) return false;
  const code: unknown = (err as Error & { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('WA_');
}

/** Exhaustiveness check for discriminated unions. */
export function assertNever(value: never, what = 'value'): never {
  throw new AppError(ErrorCodes.INTERNAL, `unexpected ${what}: ${JSON.stringify(value)}`);
}
