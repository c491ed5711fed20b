import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { NotFoundError } from '../../../domain/errors.js';
import type { Store } from '../../../store/types.js';
import type { NotifyAccessChange } from '../../access-events.js';
import { principalOf, protect, type Guard } from '../../auth/guard.js';
import type { PasswordHasher } from '../../auth/passwords.js';
import { normalizeEmail } from '../../auth/sessions.js';
import type { UserStatusCache } from '../../auth/user-status.js';
import { errorResponses } from '../../errors.js';
import { NewAccountBody } from '../auth/schemas.js';
import { Employee, EmployeeList, EmployeeParams } from './schemas.js';

export interface EmployeeRoutesOptions {
  store: Store;
  hasher: PasswordHasher;
  userStatus: UserStatusCache;
  guard: Guard;
  notify: NotifyAccessChange;
}

/** Employee accounts of the caller's tenant, under /api/auth. Admin only. */
export const employeeRoutes: FastifyPluginAsyncTypebox<EmployeeRoutesOptions> = async (app, opts) => {
  const { store, hasher, userStatus } = opts;
  protect(app, opts.guard, 'admin');

  app.post(
    '/create-station',
    {
      schema: {
        tags: ['employees'],
        summary: 'Create an employee account (a station) in the caller\'s tenant',
        body: NewAccountBody,
        response: { 201: Employee, ...errorResponses(400, 409, 503) },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const passwordHash = await hasher.hash(request.body.password);
      const employee = await store.users.createEmployee({
        tenantId,
        name: request.body.name,
        email: normalizeEmail(request.body.email),
        passwordHash,
      });
      return reply.code(201).send(employee);
    },
  );

  app.get(
    '/employees',
    {
      schema: {
        tags: ['employees'],
        summary: 'List the employees of the caller\'s tenant',
        response: { 200: EmployeeList, ...errorResponses(503) },
      },
    },
    async (request) => store.users.listEmployees(principalOf(request).tenantId),
  );

  app.delete(
    '/employees/:id',
    {
      schema: {
        tags: ['employees'],
        summary: 'Disable an employee: its tokens and chat permissions are revoked at once',
        params: EmployeeParams,
        response: { 204: Type.Null({ description: 'Disabled.' }), ...errorResponses(400, 404, 503) },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const userId = request.params.id;
      if (!(await store.users.disableEmployee(tenantId, userId))) throw new NotFoundError('Employee');
      // Before the reply: the next request with this user's access token fails on this node.
      userStatus.markDisabled(userId);
      await opts.notify({ type: 'employee.disabled', tenantId, userId });
      return reply.code(204).send(null);
    },
  );
};
