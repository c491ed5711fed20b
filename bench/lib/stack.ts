import { randomUUID } from 'node:crypto';
import { proc } from './build.js';
import type { BenchContext } from './context.js';
import { json } from './http.js';
import { startProc, type Proc } from './ipc.js';

export interface NodeInfo {
  url: string;
  nodeId: string;
}

/** A gateway node process on `schema`, talking to the simulator at `simUrl`. */
export function startNodeProc(
  ctx: BenchContext,
  opts: { schema: string; simUrl?: string; restore?: boolean; env?: Record<string, string> },
): Promise<Proc<NodeInfo>> {
  return startProc<NodeInfo>(proc('node-proc'), {
    // BENCH_NODE_ARGS: extra Node flags for the gateway, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
    execArgv: ['--expose-gc', ...(process.env.BENCH_NODE_ARGS?.split(' ').filter((a) => a !== '') ?? [])],
    env: {
      JWT_SECRET: ctx.jwtSecret,
      DATABASE_URL: ctx.dbUrl,
      DATABASE_POOL_SIZE: '10',
      PORT: '0',
      HOST: '127.0.0.1',
      WA_ENGINE: 'sandbox',
      SIM_URL: opts.simUrl ?? 'http://127.0.0.1:9',
      // The production default: Fastify logs every request at info. Output goes to /dev/null.
      LOG_LEVEL: 'info',
      LOGIN_RATE_LIMIT: '10000',
      PASSWORD_HASH_THREADS: '1',
      BENCH_SCHEMA: opts.schema,
      BENCH_RESTORE: opts.restore === true ? '1' : '0',
      ...opts.env,
    },
  });
}

export interface Account {
  accessToken: string;
  user: { id: string; tenantId: string; role: string };
}

/** An admin through the real API (argon2 hash and all). */
export function registerAdmin(url: string, name: string): Promise<Account> {
  return json<Account>(`${url}/api/auth/register`, {
    method: 'POST',
    body: { name, email: `${name.toLowerCase().replace(/\W+/g, '-')}-${randomUUID()}@bench.test`, password: 'bench password 123' },
  });
}

/** An employee of the admin's tenant, logged in. */
export async function createEmployee(url: string, admin: Account): Promise<Account> {
  const email = `employee-${randomUUID()}@bench.test`;
  await json(`${url}/api/auth/create-station`, { method: 'POST', token: admin.accessToken, body: { name: 'Bench Station', email, password: 'bench password 123' } });
  return json<Account>(`${url}/api/auth/login`, { method: 'POST', body: { email, password: 'bench password 123' } });
}

/** Creates simulator phones (accounts) through the phone API, `concurrency` at a time. */
export async function createPhones(simUrl: string, nums: readonly string[], concurrency = 32): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < nums.length) {
      const n = nums[next++] as string;
      await json(`${simUrl}/phones`, { method: 'POST', body: { number: n, name: `Phone ${n}` } });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, nums.length) }, worker));
}
