import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { BEARER_SCHEME } from '../auth/guard.js';

/** Where Swagger UI lives; the document itself is at `${DOCS_PREFIX}/json`. */
export const DOCS_PREFIX = '/api/docs';

/**
 * OpenAPI 3.1 (TypeBox emits `const` and `type: 'null'`, which 3.0 does not allow). Must be registered
 * before the routes so it sees them. Protected routes carry `security` from `protect()`, which is what
 * makes the "Authorize" button of Swagger UI send the token.
 */
export async function registerDocs(app: FastifyInstance, info: { version: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'wa-tenants API',
        version: info.version,
        description:
          'Multi-tenant WhatsApp gateway. Log in with POST /api/auth/login, then press Authorize and paste the accessToken.',
      },
      tags: [
        { name: 'auth', description: 'Accounts and sessions' },
        { name: 'employees', description: 'Employee accounts (admin)' },
        { name: 'permissions', description: 'Which employee sees which chat (admin)' },
        { name: 'chats', description: 'Chats and message history' },
        { name: 'events', description: 'Replay of stored events from a cursor' },
        { name: 'webhooks', description: 'Signed event deliveries to your endpoints (admin)' },
        { name: 'media', description: 'Media files of messages' },
        { name: 'health', description: 'Liveness and readiness' },
      ],
      components: {
        securitySchemes: { [BEARER_SCHEME]: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    // Shared schemas keep their $id as their name under components.schemas.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiConfig: { persistAuthorization: true, deepLinking: true },
  });
}
