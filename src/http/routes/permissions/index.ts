import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { NotFoundError } from '../../../domain/errors.js';
import type { Store } from '../../../store/types.js';
import type { NotifyAccessChange } from '../../access-events.js';
import { principalOf, protect, type Guard } from '../../auth/guard.js';
import { errorResponses } from '../../errors.js';
import { PermissionBody, PermissionList, PermissionQuery } from './schemas.js';

export interface PermissionRoutesOptions {
  store: Store;
  guard: Guard;
  notify: NotifyAccessChange;
}

/** Which employee may see which chat, under /api/permissions. Admin only. */
export const permissionRoutes: FastifyPluginAsyncTypebox<PermissionRoutesOptions> = async (app, { store, guard, notify }) => {
  protect(app, guard, 'admin');

  /** Both ids must name something in the caller's tenant; anything else reads as absent. */
  const requireEmployee = async (tenantId: string, employeeId: string): Promise<void> => {
    const user = await store.users.findById(tenantId, employeeId);
    if (user === null || user.role !== 'employee' || user.disabled) throw new NotFoundError('Employee');
  };
  const requireChat = async (tenantId: string, chatId: string): Promise<void> => {
    if ((await store.chats.find(tenantId, chatId)) === null) throw new NotFoundError('Chat');
  };

  const change = {
    tags: ['permissions'],
    body: PermissionBody,
    response: { 204: Type.Null({ description: 'Done (also when nothing changed).' }), ...errorResponses(400, 404, 503) },
  };

  app.post('/assign', { schema: { ...change, summary: 'Let an employee see and answer a chat' } }, async (request, reply) => {
    const { tenantId } = principalOf(request);
    const { employeeId, chatId } = request.body;
    await Promise.all([requireEmployee(tenantId, employeeId), requireChat(tenantId, chatId)]);
    await store.permissions.assign(tenantId, employeeId, chatId);
    await notify({ type: 'permission.assigned', tenantId, userId: employeeId, chatId });
    return reply.code(204).send(null);
  });

  app.post('/revoke', { schema: { ...change, summary: 'Take a chat away from an employee, effective at once' } }, async (request, reply) => {
    const { tenantId } = principalOf(request);
    const { employeeId, chatId } = request.body;
    await Promise.all([requireEmployee(tenantId, employeeId), requireChat(tenantId, chatId)]);
    if (await store.permissions.revoke(tenantId, employeeId, chatId)) {
      await notify({ type: 'permission.revoked', tenantId, userId: employeeId, chatId });
    }
    return reply.code(204).send(null);
  });

  app.get(
    '/',
    {
      // The list lives at the prefix itself (/api/...), not at a trailing-slash twin.
      prefixTrailingSlash: 'no-slash',
      schema: {
        tags: ['permissions'],
        summary: 'List chat permissions of the tenant, or of one employee',
        querystring: PermissionQuery,
        response: { 200: PermissionList, ...errorResponses(400, 404, 503) },
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      const { employeeId } = request.query;
      if (employeeId === undefined) return store.permissions.listAll(tenantId);
      await requireEmployee(tenantId, employeeId);
      return store.permissions.listForUser(tenantId, employeeId);
    },
  );
};
