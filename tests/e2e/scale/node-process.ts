import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/domain/log.js';
import { startNode } from '../../../src/node.js';
import { installShutdown } from '../../../src/shutdown.js';

/**
 * One node as its own process, configured from the environment like `npm start`, in the database schema
 * TEST_SCHEMA. Logs go to stderr; once listening it prints one line `READY {"url","nodeId"}` to stdout.
 * SIGTERM drains and exits within SHUTDOWN_TIMEOUT_MS (src/shutdown.ts), as in production.
 */
const config = loadConfig(process.env);
const log = createLogger({ level: config.LOG_LEVEL }, process.stderr);
const schema = process.env.TEST_SCHEMA;

startNode({ config, log, ...(schema === undefined ? {} : { schema }) }).then(
  (node) => {
    installShutdown(() => node.close(), config.SHUTDOWN_TIMEOUT_MS, log);
    process.stdout.write(`READY ${JSON.stringify({ url: node.url, nodeId: node.nodeId })}\n`);
  },
  (err: unknown) => {
    log.fatal({ err }, 'failed to start');
    process.exit(1);
  },
);
