import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigSchema, readEnv } from '../config.js';
import { createLogger } from '../domain/log.js';
import { createSimulator } from './server.js';

/**
 * `npm run simulator`: the WhatsApp network simulator alone, on SIM_PORT (default 3100). It reads only
 * its own variables of the service's config schema, so it runs without the server's secrets.
 */
const SimulatorConfig = Type.Pick(ConfigSchema, ['SIM_PORT', 'HOST', 'LOG_LEVEL']);
type SimulatorConfig = Static<typeof SimulatorConfig>;

function loadSimulatorConfig(env: Record<string, string | undefined>): SimulatorConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(SimulatorConfig.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = Value.Convert(schema, value);
  }
  const config: unknown = Value.Default(SimulatorConfig, raw);
  if (!Value.Check(SimulatorConfig, config)) {
    const problems = [...Value.Errors(SimulatorConfig, config)].map((e) => `${e.path.slice(1)}: ${e.message}`);
    throw new Error(`Invalid simulator configuration: ${problems.join('; ')}`);
  }
  return config;
}

async function main(): Promise<void> {
  const config = loadSimulatorConfig(readEnv());
  const log = createLogger({ level: config.LOG_LEVEL, name: 'wa-simulator' });
  const sim = createSimulator({ port: config.SIM_PORT, host: config.HOST, log });
  await sim.listen();
  const shutdown = (signal: string): void => {
    log.info({ signal }, 'simulator stopping');
    sim.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'simulator close failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
