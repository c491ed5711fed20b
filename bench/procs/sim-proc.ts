import { createLogger } from '../../src/domain/log.js';
import { createSimulator } from '../../src/simulator/server.js';
import { serveIpc } from '../lib/ipc.js';

/** The WhatsApp network simulator in its own process (its CPU is not the gateway's). */

const sim = createSimulator({ port: 0, log: createLogger({ level: 'warn' }), historyPerChat: 5 });
const url = await sim.listen();

serveIpc(
  { stats: () => sim.stats() },
  { url },
);
process.on('SIGTERM', () => void sim.close().finally(() => process.exit(0)));
