import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { ErrorCodes, ForbiddenError, UnauthenticatedError, isAppError } from '../../domain/errors.js';
import type { ChatAccess, Store } from '../../store/types.js';
import { ErrorRef } from '../errors.js';
import { chatAccessError, decideChatAccess } from './access.js';
import type { AccessTokens, Principal } from './tokens.js';
import type { UserStatusCache } from './user-status.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the guard on protected routes; null on public ones. */
    principal: Principal | null;
  }
}

export type AccessLevel = 'user' | 'admin';

/** Name of the OpenAPI security scheme (components.securitySchemes) protected routes require. */
export const BEARER_SCHEME = 'bearerAuth';

export interface Guard {
  /** onRequest hook: sets `request.principal` or throws 401. */
  authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** The same check for a bare token (Socket.IO handshakes): signature, expiry, type, not disabled. */
  verifyToken(token: string): Promise<Principal>;
}

const BEARER = /^Bearer\s+(\S+)$/i;

export function createGuard(deps: { tokens: AccessTokens; userStatus: UserStatusCache }): Guard {
  const verifyToken = async (token: string): Promise<Principal> => {
    const principal = await deps.tokens.verify(token);
    // A token outlives a disable by up to its TTL; this check closes that window.
    if (!(await deps.userStatus.isActive(principal.tenantId, principal.userId))) {
      throw new UnauthenticatedError('This account is disabled');
    }
    return principal;
  };
  const identify = async (header: string | undefined): Promise<Principal> => {
    if (header === undefined) throw new UnauthenticatedError('Authentication required: send Authorization: Bearer <access token>');
    const token = BEARER.exec(header)?.[1];
    if (token === undefined) throw new UnauthenticatedError('Invalid access token');
    return verifyToken(token);
  };

  return {
    verifyToken,
    async authenticate(request, reply) {
      try {
        request.principal = await identify(request.headers.authorization);
      } catch (err) {
        // RFC 6750: a 401 names the scheme to use.
        if (isAppError(err) && err.code === ErrorCodes.UNAUTHENTICATED) reply.header('www-authenticate', 'Bearer');
        throw err;
      }
    },
  };
}

/**
 * Protects every route registered after it in this plugin: checks the token (and the role for
 * `admin`), and documents what it enforces (bearer security, 401/403 responses) on each route, so the
 * OpenAPI document cannot drift from the hooks.
 */
export function protect(app: FastifyInstance, guard: Guard, level: AccessLevel): void {
  const hooks: onRequestHookHandler[] = [guard.authenticate];
  if (level === 'admin') hooks.push(requireAdmin);
  for (const hook of hooks) app.addHook('onRequest', hook);
  app.addHook('onRoute', (route) => {
    const schema = route.schema ?? {};
    const response = (schema.response ?? {}) as Record<string, unknown>;
    route.schema = {
      ...schema,
      security: [{ [BEARER_SCHEME]: [] }],
      response: { 401: ErrorRef, ...(level === 'admin' ? { 403: ErrorRef } : {}), ...response },
    };
  });
}

async function requireAdmin(request: FastifyRequest): Promise<void> {
  if (principalOf(request).role !== 'admin') throw new ForbiddenError('Only the tenant admin may do this');
}

/** The caller of a protected route. Throws when the route forgot `protect` (a bug, not a client error). */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new UnauthenticatedError();
  return request.principal;
}

/** Applies the chat access rule for the caller (one read of the store): throws 404 or 403 unless allowed. */
export async function requireChatAccess(store: Store, principal: Principal, chatId: string): Promise<void> {
  enforceChatAccess(principal, await store.chats.access(principal.tenantId, chatId, accessUser(principal)));
}

/** Whose assignments the access read looks at: the employee's, none for an admin. */
export function accessUser(principal: Principal): string | null {
  return principal.role === 'employee' ? principal.userId : null;
}

/** The chat access rule on facts already read (ChatRepo.access, MessageRepo.pageWithAccess): throws 404 or 403 unless allowed. */
export function enforceChatAccess(principal: Principal, access: ChatAccess): void {
  const error = chatAccessError(decideChatAccess({ role: principal.role, chatExists: access.exists, assigned: access.assigned }));
  if (error !== null) throw error;
}
