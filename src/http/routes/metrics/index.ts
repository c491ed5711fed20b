import { createHash, timingSafeEqual } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { UnauthenticatedError } from '../../../domain/errors.js';
import { errorResponses } from '../../errors.js';

/** What the route needs from the node's metrics (src/metrics). */
export interface MetricsSource {
  readonly contentType: string;
  render(): Promise<string>;
}

export interface MetricsRoutesOptions {
  metrics: MetricsSource;
  /** `user:password` a scraper must send as HTTP basic auth (config METRICS_BASIC_AUTH); unset: open. */
  basicAuth?: string | undefined;
}

const BASIC = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Whether an Authorization header carries exactly `user:password`. Both sides are hashed first, so the
 * constant-time comparison also hides the expected length.
 */
export function basicAuthMatches(header: string | undefined, expected: string): boolean {
  const encoded = header === undefined ? undefined : BASIC.exec(header)?.[1];
  if (encoded === undefined) return false;
  const given = Buffer.from(encoded, 'base64').toString('utf8');
  return timingSafeEqual(digest(given), digest(expected));
}

/** GET /metrics: the Prometheus text exposition of this node, optionally behind basic auth. */
export const metricsRoutes: FastifyPluginAsyncTypebox<MetricsRoutesOptions> = async (app, { metrics, basicAuth }) => {
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics of this node',
        description: 'Text exposition format 0.0.4. Requires HTTP basic auth when METRICS_BASIC_AUTH is set.',
        produces: ['text/plain'],
        response: { 200: Type.String({ description: 'Prometheus text format' }), ...errorResponses(401) },
      },
    },
    async (request, reply) => {
      if (basicAuth !== undefined && !basicAuthMatches(request.headers.authorization, basicAuth)) {
        // RFC 7617: the 401 names the scheme so a scraper or browser knows to send credentials.
        reply.header('www-authenticate', 'Basic realm="metrics", charset="UTF-8"');
        throw new UnauthenticatedError('Metrics require basic authentication');
      }
      const text = await metrics.render();
      return reply.type(metrics.contentType).send(text);
    },
  );
};
