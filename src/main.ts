import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './domain/log.js';
import { startNode } from './node.js';
import { installShutdown } from './shutdown.js';

/**
 * `npm start`: one node from the environment. A bad configuration stops the process with one message
 * listing every problem (exit 78); SIGTERM/SIGINT close it gracefully within SHUTDOWN_TIMEOUT_MS.
 */
function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

const config = configOrExit();
const log = createLogger({ level: config.LOG_LEVEL });
startNode({ config, log }).then(
  (node) => installShutdown(() => node.close(), config.SHUTDOWN_TIMEOUT_MS, log),
  (err: unknown) => {
    log.fatal({ err }, 'failed to start');
    process.exit(1);
  },
);
