import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NotFoundError, ValidationError } from '../../../domain/errors.js';
import type { Store } from '../../../store/types.js';
import { webhookUrlProblem } from '../../../webhooks/sender.js';
import { principalOf, protect, type Guard } from '../../auth/guard.js';
import { errorResponses } from '../../errors.js';
import { CreatedWebhook, DeliveryPage, DeliveryQuery, NewWebhookBody, Webhook, WebhookList, WebhookParams, WebhookPatchBody } from './schemas.js';

export interface WebhookRoutesOptions {
  store: Store;
  guard: Guard;
  /** WEBHOOK_ALLOW_PRIVATE_URLS: accept URLs on loopback and private addresses. */
  allowPrivateUrls: boolean;
}

function checkUrl(url: string | undefined, allowPrivate: boolean): void {
  if (url === undefined) return;
  const problem = webhookUrlProblem(url, allowPrivate);
  if (problem !== null) throw new ValidationError(problem, { url });
}

/** A tenant's webhook endpoints, under /api/webhooks. Admin only (docs/webhooks.md). */
export const webhookRoutes: FastifyPluginAsyncTypebox<WebhookRoutesOptions> = async (app, { store, guard, allowPrivateUrls }) => {
  protect(app, guard, 'admin');

  app.post(
    '/',
    {
      prefixTrailingSlash: 'no-slash',
      schema: {
        tags: ['webhooks'],
        summary: 'Add a webhook endpoint',
        description: 'Receives the chosen events committed from now on, signed, retried until delivered or the retry window ends.',
        body: NewWebhookBody,
        response: { 201: CreatedWebhook, ...errorResponses(400, 503) },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const body = request.body;
      checkUrl(body.url, allowPrivateUrls);
      const secret = body.secret ?? `whsec_${randomBytes(24).toString('base64url')}`;
      const created = await store.webhooks.create(tenantId, {
        url: body.url,
        events: body.events,
        secret,
        enabled: body.enabled ?? true,
        maxConcurrency: body.maxConcurrency ?? 1,
      });
      return reply.code(201).send({ ...created, secret });
    },
  );

  app.get(
    '/',
    {
      prefixTrailingSlash: 'no-slash',
      schema: { tags: ['webhooks'], summary: "List the tenant's webhooks", response: { 200: WebhookList, ...errorResponses(503) } },
    },
    async (request) => store.webhooks.list(principalOf(request).tenantId),
  );

  app.get(
    '/:id',
    {
      schema: { tags: ['webhooks'], summary: 'Read a webhook', params: WebhookParams, response: { 200: Webhook, ...errorResponses(404, 503) } },
    },
    async (request) => {
      const found = await store.webhooks.get(principalOf(request).tenantId, request.params.id);
      if (found === null) throw new NotFoundError('Webhook');
      return found;
    },
  );

  app.patch(
    '/:id',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Change a webhook (url, events, secret, enabled, maxConcurrency)',
        params: WebhookParams,
        body: WebhookPatchBody,
        response: { 200: Webhook, ...errorResponses(400, 404, 503) },
      },
    },
    async (request) => {
      checkUrl(request.body.url, allowPrivateUrls);
      const updated = await store.webhooks.update(principalOf(request).tenantId, request.params.id, request.body);
      if (updated === null) throw new NotFoundError('Webhook');
      return updated;
    },
  );

  app.delete(
    '/:id',
    {
      schema: { tags: ['webhooks'], summary: 'Delete a webhook and its delivery log', params: WebhookParams, response: { 204: { type: 'null' }, ...errorResponses(404, 503) } },
    },
    async (request, reply) => {
      if (!(await store.webhooks.remove(principalOf(request).tenantId, request.params.id))) throw new NotFoundError('Webhook');
      return reply.code(204).send();
    },
  );

  app.get(
    '/:id/deliveries',
    {
      schema: {
        tags: ['webhooks'],
        summary: "A webhook's deliveries with every attempt, newest event first",
        params: WebhookParams,
        querystring: DeliveryQuery,
        response: { 200: DeliveryPage, ...errorResponses(400, 404, 503) },
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      if ((await store.webhooks.get(tenantId, request.params.id)) === null) throw new NotFoundError('Webhook');
      const { before, limit } = request.query;
      const deliveries = await store.webhooks.deliveries(tenantId, request.params.id, before === undefined ? { limit } : { before, limit });
      const last = deliveries[deliveries.length - 1];
      return { deliveries, nextBefore: deliveries.length === limit && last !== undefined ? last.seq : null };
    },
  );
};
