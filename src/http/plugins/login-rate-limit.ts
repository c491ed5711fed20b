import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AppError, ErrorCodes } from '../../domain/errors.js';
import { normalizeEmail } from '../auth/sessions.js';

/**
 * Login throttling: LOGIN_RATE_LIMIT attempts per LOGIN_RATE_WINDOW_S, counted per account (guessing
 * one password) and per address (trying many accounts) at once. Runs as a preHandler, after body
 * validation, so the account key is a checked email. Counters live in this process (@fastify/rate-limit
 * LocalStore); with several nodes each node counts on its own until a shared store is configured.
 */

const WithEmail = Type.Object({ email: Type.String() });

export type LoginRateLimitHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

export function createLoginRateLimit(app: FastifyInstance, opts: { max: number; windowS: number }): LoginRateLimitHook {
  const common = { max: opts.max, timeWindow: opts.windowS * 1000 };
  const byAddress = app.createRateLimit({ ...common, keyGenerator: (req) => `ip:${req.ip}` });
  const byAccount = app.createRateLimit({
    ...common,
    keyGenerator: (req) => (Value.Check(WithEmail, req.body) ? `account:${normalizeEmail(req.body.email)}` : `ip:${req.ip}`),
  });

  return async (request, reply) => {
    const results = await Promise.all([byAddress(request), byAccount(request)]);
    let retryAfterS = 0;
    for (const result of results) {
      if (!result.isAllowed && result.isExceeded) retryAfterS = Math.max(retryAfterS, result.ttlInSeconds, 1);
    }
    if (retryAfterS === 0) return;
    reply.header('retry-after', String(retryAfterS));
    throw new AppError(ErrorCodes.RATE_LIMITED, `Too many login attempts; try again in ${retryAfterS} s`);
  };
}
