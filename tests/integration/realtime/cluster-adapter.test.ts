import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Server } from 'socket.io';
import { createLogger } from '../../../src/domain/log.js';
import { createClusterAdapter } from '../../../src/http/realtime/cluster-adapter.js';
import { closeRedis, createRedisClient, whenReady } from '../../../src/supervisor/cluster/redis.js';
import { startTcpProxy, uniquePrefix, type TcpProxy } from '../../helpers/redis.js';

/** Lets Node run its unhandled-rejection check (it runs after the microtask queue drains). */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

/**
 * A node that shuts down while Redis is unreachable: the adapter's queued PUBLISH and its UNSUBSCRIBEs on
 * close are failed by ioredis when the clients close. The adapter never handles those promises; the
 * process must not see an unhandled rejection (Node 20 would exit on it), and the failures are logged.
 */
describe('the Socket.IO cluster adapter with Redis unreachable at shutdown', () => {
  let proxy: TcpProxy;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await proxy?.close();
  });

  it('closes without an unhandled rejection and logs the dropped commands', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) });
    const log = createLogger({ level: 'debug' }, sink);
    const pub = createRedisClient({ url: proxy.url('redis'), name: 'adapter-pub', log });
    const sub = createRedisClient({ url: proxy.url('redis'), name: 'adapter-sub', log });
    await Promise.all([whenReady(pub, 5_000), whenReady(sub, 5_000)]);
    const io = new Server({ adapter: createClusterAdapter({ pub, sub, prefix: uniquePrefix('adapter'), log }) });

    proxy.cut();
    // Both clients notice the cut and queue what they are given from now on.
    await until(() => pub.status !== 'ready' && sub.status !== 'ready');
    io.to('tenant:x').emit('message', { n: 1 });
    // Their next reconnect reaches a host that never answers: they are mid-connect when the node closes
    // them, which is when ioredis fails what it queued.
    proxy.stall();
    await until(() => [pub, sub].every((c) => c.status === 'connect' || c.status === 'connecting'));
    await io.close().catch(() => undefined); // no HTTP server attached: close() only closes the adapter
    await Promise.all([closeRedis(pub), closeRedis(sub)]);
    await settle();

    expect([pub.status, sub.status]).toEqual(['end', 'end']);
    expect(unhandled).toEqual([]);
    const dropped = lines.map((l) => JSON.parse(l) as { msg?: string; command?: string }).filter((l) => l.msg?.startsWith('socket.io adapter command failed'));
    expect(dropped.map((l) => l.command)).toContain('publish');
    expect(dropped.length).toBeGreaterThanOrEqual(2);
  });
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!check()) throw new Error('condition not reached within 5 s');
}
