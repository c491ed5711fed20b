import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { SessionService } from '../../auth/sessions.js';
import { errorResponses } from '../../errors.js';
import type { LoginRateLimitHook } from '../../plugins/login-rate-limit.js';
import { Session } from '../../schemas.js';
import { LoginBody, NewAccountBody, RefreshBody } from './schemas.js';

export interface AuthRoutesOptions {
  sessions: SessionService;
  loginRateLimit: LoginRateLimitHook;
}

/** Public session routes under /api/auth: the credential is in the body, not a bearer token. */
export const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (app, { sessions, loginRateLimit }) => {
  app.post(
    '/register',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create a tenant and its admin account',
        description: 'The tenant is named after the admin. Returns a session for the new admin.',
        body: NewAccountBody,
        response: { 201: Session, ...errorResponses(400, 409, 503) },
      },
    },
    async (request, reply) => reply.code(201).send(await sessions.register(request.body)),
  );

  app.post(
    '/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in with email and password',
        description: 'Rate limited per account and per address; 429 carries Retry-After.',
        body: LoginBody,
        response: { 200: Session, ...errorResponses(400, 401, 429, 503) },
      },
      preHandler: loginRateLimit,
    },
    async (request) => sessions.login(request.body),
  );

  app.post(
    '/refresh',
    {
      schema: {
        tags: ['auth'],
        summary: 'Trade a refresh token for a new session',
        description: 'The refresh token is single-use. Presenting a used one revokes every token of its login.',
        body: RefreshBody,
        response: { 200: Session, ...errorResponses(400, 401, 503) },
      },
    },
    async (request) => sessions.refresh(request.body.refreshToken),
  );

  app.post(
    '/logout',
    {
      schema: {
        tags: ['auth'],
        summary: 'Revoke a refresh token and every token of its login',
        body: RefreshBody,
        response: { 204: Type.Null({ description: 'Logged out (also for an unknown token).' }), ...errorResponses(400, 503) },
      },
    },
    async (request, reply) => {
      await sessions.logout(request.body.refreshToken);
      return reply.code(204).send(null);
    },
  );
};
