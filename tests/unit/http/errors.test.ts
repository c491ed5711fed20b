import { describe, expect, it } from 'vitest';
import { AppError, ErrorCodes, StoreUnavailableError, type ErrorCode } from '../../../src/domain/errors.js';
import Fastify from 'fastify';
import { errorResponses, handleError, statusForCode, toErrorBody } from '../../../src/http/errors.js';

describe('HTTP error table', () => {
  const expected: [ErrorCode, number][] = [
    [ErrorCodes.VALIDATION, 400],
    [ErrorCodes.UNAUTHENTICATED, 401],
    [ErrorCodes.FORBIDDEN, 403],
    [ErrorCodes.NOT_FOUND, 404],
    [ErrorCodes.CONFLICT, 409],
    [ErrorCodes.RATE_LIMITED, 429],
    [ErrorCodes.STORE_UNAVAILABLE, 503],
    [ErrorCodes.SESSION_NOT_RUNNING, 409],
    [ErrorCodes.ACTOR_TIMEOUT, 504],
    [ErrorCodes.OWNER_UNAVAILABLE, 503],
    [ErrorCodes.STALE_EPOCH, 500],
    [ErrorCodes.ACTOR_DIED, 503],
    [ErrorCodes.ACTOR_STOPPED, 503],
    [ErrorCodes.MAILBOX_FULL, 503],
    [ErrorCodes.ENGINE, 500],
    [ErrorCodes.INTERNAL, 500],
  ];
  for (const [code, status] of expected) {
    it(`answers ${code} with ${status}`, () => {
      expect(statusForCode(code)).toBe(status);
      expect(toErrorBody(new AppError(code, 'x')).statusCode).toBe(status);
    });
  }

  it('gives every code a status, and every 5xx a message of its own', () => {
    for (const code of Object.values(ErrorCodes)) {
      const body = toErrorBody(new AppError(code, 'secret internal detail tenant=42'));
      expect(body.statusCode).toBeGreaterThanOrEqual(400);
      if (body.statusCode >= 500) expect(body.message).not.toContain('secret internal detail');
      else expect(body.message).toBe('secret internal detail tenant=42');
    }
  });

  it('shapes every body as statusCode, code, error, message', () => {
    expect(toErrorBody(new AppError(ErrorCodes.NOT_FOUND, 'Chat not found'))).toEqual({
      statusCode: 404,
      code: 'WA_NOT_FOUND',
      error: 'Not Found',
      message: 'Chat not found',
    });
    expect(toErrorBody(new StoreUnavailableError(new Error('ECONNREFUSED 10.0.0.5:5432')))).toEqual({
      statusCode: 503,
      code: 'WA_STORE_UNAVAILABLE',
      error: 'Service Unavailable',
      message: 'The database is unavailable; try again shortly',
    });
  });

  it('hides anything unknown behind a plain 500', () => {
    const body = toErrorBody(new TypeError("Cannot read properties of undefined (reading 'password_hash')"));
    expect(body).toEqual({ statusCode: 500, code: 'WA_INTERNAL', error: 'Internal Server Error', message: 'Internal server error' });
    expect(toErrorBody('a string').statusCode).toBe(500);
    expect(toErrorBody(null).statusCode).toBe(500);
    // A code from another process this build does not know is not trusted with a status either.
    expect(toErrorBody(Object.assign(new Error('x'), { code: 'WA_FROM_THE_FUTURE' })).statusCode).toBe(500);
  });

  it('maps Fastify validation and client errors to 4xx with WA_VALIDATION', () => {
    const validation = Object.assign(new Error('body/email must match format "email"'), { validation: [{}], statusCode: 400 });
    expect(toErrorBody(validation)).toMatchObject({ statusCode: 400, code: 'WA_VALIDATION', message: 'body/email must match format "email"' });
    const tooLarge = Object.assign(new Error('Request body is too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 });
    expect(toErrorBody(tooLarge)).toMatchObject({ statusCode: 413, code: 'WA_VALIDATION', error: 'Payload Too Large' });
    const server = Object.assign(new Error('socket hang up at 10.0.0.5'), { statusCode: 502 });
    expect(toErrorBody(server)).toMatchObject({ statusCode: 500, message: 'Internal server error' });
  });

  it('declares the requested error responses plus 500', () => {
    expect(Object.keys(errorResponses(400, 404)).sort()).toEqual(['400', '404', '500']);
  });
});

describe('Retry-After on a 503', () => {
  it('says when to retry a command whose session restarted under it, or whose session is busy', async () => {
    const app = Fastify();
    app.setErrorHandler(handleError);
    app.get('/died', async () => {
      throw new AppError(ErrorCodes.ACTOR_DIED, 'the session ended before answering (out of memory)');
    });
    app.get('/busy', async () => {
      throw new AppError(ErrorCodes.MAILBOX_FULL, 'mailbox full');
    });
    app.get('/owner', async () => {
      throw new AppError(ErrorCodes.OWNER_UNAVAILABLE, 'owner gone', { details: { retryAfterS: 7 } });
    });
    try {
      const died = await app.inject({ method: 'GET', url: '/died' });
      expect(died.statusCode).toBe(503);
      expect(died.headers['retry-after']).toBe('2');
      expect(died.json()).toMatchObject({ code: 'WA_ACTOR_DIED', message: 'The WhatsApp session restarted while handling this request; try again shortly' });
      expect(died.body).not.toContain('out of memory');
      const busy = await app.inject({ method: 'GET', url: '/busy' });
      expect([busy.statusCode, busy.headers['retry-after']]).toEqual([503, '1']);
      const owner = await app.inject({ method: 'GET', url: '/owner' });
      expect([owner.statusCode, owner.headers['retry-after']]).toEqual([503, '7']);
    } finally {
      await app.close();
    }
  });
});
