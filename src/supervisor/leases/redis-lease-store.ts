import type { Redis } from 'ioredis';
import { AppError, ErrorCodes } from '../../domain/errors.js';
import { runScript, script } from '../cluster/redis-script.js';
import { decodeHolder, encodeHolder, type LeaseHolder, type LeaseStore } from './lease-store.js';

/**
 * Leases in Redis, one key per tenant: `<prefix>lease:<tenantId>` = `<epoch>:<nodeId>` with a PX expiry,
 * and the epoch counter `<prefix>epoch:<tenantId>` (no expiry). Every change is one Lua script, so
 * take / compare-and-renew / compare-and-delete are atomic (SET NX PX and friends; with one Redis,
 * redlock adds nothing, and it has no fencing token, which the INCR counter is).
 */

/** KEYS: lease, counter. ARGV: nodeId, ttlMs, floor. Returns the new epoch, or nil when another node holds it. */
const ACQUIRE = script(`
local cur = redis.call('GET', KEYS[1])
if cur then
  local sep = string.find(cur, ':', 1, true)
  if (not sep) or string.sub(cur, sep + 1) ~= ARGV[1] then return false end
end
local e = redis.call('INCR', KEYS[2])
local floor = tonumber(ARGV[3])
if e < floor then
  e = floor
  redis.call('SET', KEYS[2], e)
end
redis.call('SET', KEYS[1], e .. ':' .. ARGV[1], 'PX', ARGV[2])
return e
`);

/** KEYS: leases. ARGV: ttlMs, then the expected value of each key. Returns 1/0 per key. */
const RENEW = script(`
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then
    redis.call('PEXPIRE', key, ARGV[1])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
`);

/** KEYS: lease. ARGV: expected value. */
const RELEASE = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`);

/** KEYS: leases. Returns value and PTTL of each (false, -2 when absent). */
const HOLDERS = script(`
local out = {}
for i, key in ipairs(KEYS) do
  out[2 * i - 1] = redis.call('GET', key)
  out[2 * i] = redis.call('PTTL', key)
end
return out
`);

/** Keys per script call: bounded, so one call never blocks Redis for long. */
const CHUNK = 200;

export function createRedisLeaseStore(opts: { redis: Redis; prefix: string }): LeaseStore {
  const { redis, prefix } = opts;
  const leaseKey = (tenantId: string): string => `${prefix}lease:${tenantId}`;
  const counterKey = (tenantId: string): string => `${prefix}epoch:${tenantId}`;

  return {
    async acquire(tenantId, nodeId, ttlMs, floor) {
      const reply = await runScript(redis, ACQUIRE, [leaseKey(tenantId), counterKey(tenantId)], [nodeId, ttlMs, floor]);
      if (reply === null) return null;
      return asInteger(reply);
    },

    async renew(nodeId, held, ttlMs) {
      const out: boolean[] = [];
      for (let i = 0; i < held.length; i += CHUNK) {
        const chunk = held.slice(i, i + CHUNK);
        const reply = await runScript(
          redis,
          RENEW,
          chunk.map((l) => leaseKey(l.tenantId)),
          [ttlMs, ...chunk.map((l) => encodeHolder(nodeId, l.epoch))],
        );
        out.push(...asArray(reply).map((v) => asInteger(v) === 1));
      }
      return out;
    },

    async release(tenantId, nodeId, epoch) {
      const reply = await runScript(redis, RELEASE, [leaseKey(tenantId)], [encodeHolder(nodeId, epoch)]);
      return asInteger(reply) === 1;
    },

    async holders(tenantIds) {
      const out: (LeaseHolder | null)[] = [];
      for (let i = 0; i < tenantIds.length; i += CHUNK) {
        const chunk = tenantIds.slice(i, i + CHUNK);
        const reply = asArray(await runScript(redis, HOLDERS, chunk.map(leaseKey), []));
        for (let j = 0; j < chunk.length; j++) {
          const value = reply[2 * j];
          const ttl = reply[2 * j + 1];
          out.push(typeof value === 'string' ? decodeHolder(value, Math.max(0, asInteger(ttl))) : null);
        }
      }
      return out;
    },
  };
}

function asInteger(value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  throw new AppError(ErrorCodes.INTERNAL, `unexpected Redis reply: ${JSON.stringify(value)}`);
}

function asArray(value: unknown): unknown[] {
  if (Array.isArray(value)) return value as unknown[];
  throw new AppError(ErrorCodes.INTERNAL, 'unexpected Redis reply: not an array');
}
