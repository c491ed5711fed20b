import { ErrorCodes, isAppError, type ErrorCode, type ErrorData } from '../../domain/errors.js';

const knownCodes: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

function isErrorCode(code: string): code is ErrorCode {
  return knownCodes.has(code);
}

/** The wire form of an AppError thrown by a behaviour (an unknown code becomes WA_INTERNAL). */
export function appErrorToData(err: Error & { code: string; details?: unknown }): ErrorData {
  const code = isErrorCode(err.code) ? err.code : ErrorCodes.INTERNAL;
  const details = err.details;
  return typeof details === 'object' && details !== null
    ? { code, message: err.message, details: details as Record<string, unknown> }
    : { code, message: err.message };
}

/** Text of anything thrown, for crash reasons. */
export function describeThrown(err: unknown): string {
  if (err instanceof Error) return isAppError(err) ? `${err.code}: ${err.message}` : err.message;
  return String(err);
}

/** Flatten Error values so a log record survives structured cloning with its message and stack. */
export function toLogObject(obj: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    out[key] =
      value instanceof Error
        ? { type: value.name, message: value.message, stack: value.stack, code: (value as Error & { code?: unknown }).code }
        : value;
  }
  return out;
}
