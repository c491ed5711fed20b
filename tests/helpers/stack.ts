import postgres from 'postgres';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/domain/log.js';
import { startNode, type RunningNode } from '../../src/node.js';
import { createSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/server.js';
import { TEST_DATABASE_URL, uniqueSchemaName } from './db.js';

export const STACK_SECRET = 'stack-test-secret-0123456789abcdef0123456789';

export interface TestStack {
  sim: Simulator;
  simUrl: string;
  node: RunningNode;
  /** Base URL of the node's REST API and Socket.IO. */
  url: string;
  config: Config;
  schema: string;
  /** Every log line the node wrote (JSON), to check what logs never contain. */
  logs: string[];
  /** Stops the node and starts a new one on the same database schema and simulator (a restart). */
  restartNode(): Promise<RunningNode>;
  close(): Promise<void>;
}

export interface TestStackOptions {
  env?: Record<string, string>;
  sim?: Partial<Omit<SimulatorOptions, 'log'>>;
}

/**
 * The environment every test node starts from: the real PostgreSQL with a small pool, a free port on
 * loopback, a login limit a test file does not trip over, one password-hashing thread. `env` adds to it
 * and overrides it (engine, simulator URL, secrets, Redis ...).
 */
export function testNodeEnv(env: Record<string, string> = {}): Record<string, string> {
  return {
    JWT_SECRET: STACK_SECRET,
    DATABASE_URL: TEST_DATABASE_URL,
    DATABASE_POOL_SIZE: '4',
    PORT: '0',
    HOST: '127.0.0.1',
    LOGIN_RATE_LIMIT: '1000',
    PASSWORD_HASH_THREADS: '1',
    ...env,
  };
}

/**
 * The whole product for an end-to-end test: the simulator, and one node on the real PostgreSQL in a
 * fresh schema, on the sandbox engine with worker-thread actors. `close()` stops both and drops the schema.
 */
export async function startTestStack(opts: TestStackOptions = {}): Promise<TestStack> {
  const logs: string[] = [];
  const log: Logger = createLogger({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const sim = createSimulator({ port: 0, log, ...opts.sim });
  const simUrl = await sim.listen();
  const schema = uniqueSchemaName('e2e');
  const config = loadConfig(testNodeEnv({ WA_ENGINE: 'sandbox', SIM_URL: simUrl, LOG_LEVEL: 'debug', ...opts.env }));
  let node = await startNode({ config, log, schema });
  const stack: TestStack = {
    sim,
    simUrl,
    get node() {
      return node;
    },
    get url() {
      return node.url;
    },
    config,
    schema,
    logs,
    async restartNode() {
      await node.close();
      // A new port: clients follow `stack.url`, as they would follow a Service to a new pod.
      node = await startNode({ config, log, schema });
      return node;
    },
    async close() {
      try {
        await node.close();
        await sim.close();
      } finally {
        const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });
        await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
        await sql.end();
      }
    },
  };
  return stack;
}
