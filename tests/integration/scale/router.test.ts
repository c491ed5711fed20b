import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, ErrorCodes } from '../../../src/domain/errors.js';
import { createLogger } from '../../../src/domain/log.js';
import { createRedisBus, type Bus } from '../../../src/supervisor/cluster/bus.js';
import { closeRedis, createRedisClient, whenReady } from '../../../src/supervisor/cluster/redis.js';
import type { RouteRequest } from '../../../src/supervisor/route-protocol.js';
import { createRouter, type Router } from '../../../src/supervisor/router.js';
import { TEST_REDIS_URL, uniquePrefix } from '../../helpers/redis.js';

const log = createLogger({ level: 'silent' });

describe('router over Redis pub/sub', () => {
  const prefix = uniquePrefix('router');
  const clients: Redis[] = [];
  const buses: Bus[] = [];
  const routers: Router[] = [];
  let a: Router;
  const seenByB: RouteRequest[] = [];
  let stallB = false;

  async function node(nodeId: string, handle: (r: RouteRequest) => Promise<unknown>): Promise<Router> {
    const publisher = createRedisClient({ url: TEST_REDIS_URL, name: `${nodeId}-pub`, log, offlineQueue: false });
    const subscriber = createRedisClient({ url: TEST_REDIS_URL, name: `${nodeId}-sub`, log });
    clients.push(publisher, subscriber);
    await Promise.all([whenReady(publisher, 5_000), whenReady(subscriber, 5_000)]);
    const bus = createRedisBus({ publisher, subscriber, prefix, log });
    buses.push(bus);
    const router = await createRouter({ bus, nodeId, handle, log });
    routers.push(router);
    return router;
  }

  beforeAll(async () => {
    a = await node('a', async () => null);
    await node('b', async (request) => {
      seenByB.push(request);
      if (stallB) return new Promise(() => undefined);
      if (request.op === 'media') throw new AppError(ErrorCodes.NOT_FOUND, 'Message not found');
      if (request.op === 'photo') throw new Error('secret internal detail');
      return { handledBy: 'b', op: request.op, tenantId: request.tenantId };
    });
  });
  afterAll(async () => {
    for (const r of routers) await r.close();
    for (const bus of buses) await bus.close();
    for (const c of clients) await closeRedis(c);
  });

  it('runs a command on the node named and brings its answer back', async () => {
    const value = await a.request('b', { op: 'send', tenantId: 't1', chatId: 'c1', body: 'hello', media: { mimetype: 'image/png', filename: 'x.png', data: 'AAEC' } }, 5_000);
    expect(value).toEqual({ handledBy: 'b', op: 'send', tenantId: 't1' });
    expect(seenByB.at(-1)).toMatchObject({ op: 'send', body: 'hello', media: { data: 'AAEC' } });
  });

  it('brings the owner\'s error back with its code, and hides errors that are not AppErrors', async () => {
    await expect(a.request('b', { op: 'media', tenantId: 't1', messageId: 'm1' }, 5_000)).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND, message: 'Message not found' });
    const err: unknown = await a.request('b', { op: 'photo', tenantId: 't1', chatId: 'c1' }, 5_000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.INTERNAL });
    expect(String((err as Error).message)).not.toContain('secret');
  });

  it('says at once that a node nobody hears is unreachable, so the caller may send elsewhere', async () => {
    await expect(a.request('gone', { op: 'init', tenantId: 't1' }, 5_000)).rejects.toMatchObject({
      code: ErrorCodes.OWNER_UNAVAILABLE,
      details: { reason: 'unreachable' },
    });
  });

  it('times out when the owner does not answer within the deadline', async () => {
    stallB = true;
    try {
      await expect(a.request('b', { op: 'logout', tenantId: 't2' }, 300)).rejects.toMatchObject({
        code: ErrorCodes.ACTOR_TIMEOUT,
        details: { routed: true, nodeId: 'b' },
      });
    } finally {
      stallB = false;
    }
  });

  it('fails the requests still waiting when it closes', async () => {
    stallB = true;
    const c = await node('c', async () => null);
    try {
      const waiting = c.request('b', { op: 'qr', tenantId: 't3' }, 10_000).catch((err: unknown) => err);
      // Closing while the request waits for its answer (it is pending from the call on).
      await c.close();
      expect(await waiting).toMatchObject({ code: ErrorCodes.OWNER_UNAVAILABLE, details: { reason: 'closing' } });
    } finally {
      stallB = false;
    }
  });
});
