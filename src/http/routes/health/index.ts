import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppError, StoreUnavailableError, isAppError, ErrorCodes } from '../../../domain/errors.js';
import type { Store } from '../../../store/types.js';
import { errorResponses } from '../../errors.js';
import { HealthStatus } from './schemas.js';

export interface HealthRoutesOptions {
  store: Pick<Store, 'ping'>;
  /** More readiness checks (Redis, a draining node); each throws when the node should get no traffic. */
  readiness?: () => Promise<void>;
}

/** Probes for Kubernetes: alive (process answers) and ready (its database answers). Public. */
export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app, { store, readiness }) => {
  app.get(
    '/healthz',
    { schema: { tags: ['health'], summary: 'Liveness: the process answers', response: { 200: HealthStatus, ...errorResponses() } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: the database (and, with several nodes, Redis) answers',
        response: { 200: HealthStatus, ...errorResponses(503) },
      },
    },
    async () => {
      try {
        await store.ping();
      } catch (err) {
        // Whatever ping threw, the answer to a probe is "not ready", never a 500.
        if (isAppError(err) && err.code === ErrorCodes.STORE_UNAVAILABLE) throw err;
        throw new StoreUnavailableError(err);
      }
      if (readiness !== undefined) {
        try {
          await readiness();
        } catch (err) {
          if (isAppError(err) && err.code === ErrorCodes.OWNER_UNAVAILABLE) throw err;
          throw new AppError(ErrorCodes.OWNER_UNAVAILABLE, 'not ready', { cause: err });
        }
      }
      return { status: 'ok' as const };
    },
  );
};
