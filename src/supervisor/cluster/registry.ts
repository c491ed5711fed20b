import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Redis } from 'ioredis';
import { runScript, script } from './redis-script.js';

export const NodeInfo = Type.Object({
  nodeId: Type.String({ minLength: 1 }),
  /** Sessions this node holds a lease for. */
  load: Type.Integer({ minimum: 0 }),
  capacity: Type.Integer({ minimum: 1 }),
  /** Shutting down: takes no new tenants. */
  draining: Type.Boolean(),
});
export type NodeInfo = Static<typeof NodeInfo>;

/** Who is alive in the deployment, with load and capacity: what "least loaded first" is computed from. */
export interface NodeRegistry {
  /** Publishes this node's info, alive for `ttlMs` (call it at least every ttlMs / 3). */
  heartbeat(info: NodeInfo, ttlMs: number): Promise<void>;
  /** Every node whose heartbeat has not expired. */
  live(): Promise<NodeInfo[]>;
  remove(nodeId: string): Promise<void>;
}

/**
 * KEYS: the set of node ids, the node's key. ARGV: node id, info JSON, ttlMs. The set's score is the
 * expiry on Redis' clock (TIME), so nodes with skewed clocks agree; expired members are swept here.
 */
const HEARTBEAT = script(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return 1
`);

export function createRedisRegistry(opts: { redis: Redis; prefix: string }): NodeRegistry {
  const { redis, prefix } = opts;
  const setKey = `${prefix}nodes`;
  const nodeKey = (nodeId: string): string => `${prefix}node:${nodeId}`;
  return {
    async heartbeat(info, ttlMs) {
      await runScript(redis, HEARTBEAT, [setKey, nodeKey(info.nodeId)], [info.nodeId, JSON.stringify(info), ttlMs]);
    },
    async live() {
      const ids = await redis.zrange(setKey, '0', '-1');
      if (ids.length === 0) return [];
      const values = await redis.mget(...ids.map(nodeKey));
      return values.flatMap((value) => {
        if (value === null) return [];
        let parsed: unknown;
        try {
          parsed = JSON.parse(value);
        } catch {
          return [];
        }
        return Value.Check(NodeInfo, parsed) ? [parsed] : [];
      });
    },
    async remove(nodeId) {
      await redis.multi().zrem(setKey, nodeId).del(nodeKey(nodeId)).exec();
    },
  };
}

/** A registry that knows only this node (no Redis). */
export function createLocalRegistry(): NodeRegistry {
  let self: NodeInfo | undefined;
  return {
    async heartbeat(info) {
      self = info;
    },
    async live() {
      return self === undefined ? [] : [self];
    },
    async remove() {
      self = undefined;
    },
  };
}
