import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, loadConfig, readEnv } from './config.js';
import { createLogger } from './domain/log.js';
import { startNode } from './node.js';
import { installShutdown } from './shutdown.js';
import { createSimulator } from './simulator/server.js';
import { seedDemoPhones, DEMO_BUSINESS_NUMBER } from './simulator/demo-seed.js';

/**
 * `npm run demo`: the whole product on one machine with no setup: the WhatsApp network simulator, the
 * server on the sandbox engine, and an embedded PostgreSQL in DATA_DIR. A development JWT secret is made
 * on first run and kept in DATA_DIR, so tokens survive a restart of the demo.
 */
async function demoSecret(dataDir: string): Promise<string> {
  const file = join(dataDir, 'demo-jwt-secret');
  try {
    const secret = (await readFile(file, 'utf8')).trim();
    if (secret.length >= 32) return secret;
  } catch {
    // first run: no secret yet
  }
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

async function main(): Promise<void> {
  const env = readEnv();
  const dataDir = env.DATA_DIR ?? './data';
  // The simulator first: its real address (SIM_PORT may be 0) is what the sandbox engine dials.
  const simPort = Number(env.SIM_PORT ?? '3100');
  const simLog = createLogger({ level: 'warn' });
  const simulator = createSimulator({ port: Number.isInteger(simPort) ? simPort : 3100, host: '127.0.0.1', log: simLog });
  const simUrl = await simulator.listen();
  const config = loadConfig({
    WA_ENGINE: 'sandbox',
    LOG_LEVEL: 'warn',
    JWT_SECRET: await demoSecret(dataDir),
    ...env,
    SIM_URL: simUrl,
  });
  const log = createLogger({ level: config.LOG_LEVEL });
  await seedDemoPhones(simUrl);
  const node = await startNode({ config, log });
  installShutdown(
    async () => {
      await node.close();
      await simulator.close();
    },
    config.SHUTDOWN_TIMEOUT_MS,
    log,
  );
  const base = node.url.replace('127.0.0.1', 'localhost');
  process.stdout.write(
    [
      '',
      `wa-tenants demo is running (engine: sandbox, database: embedded in ${config.DATA_DIR})`,
      '',
      `  Console       ${base}/   (sign up, link with the "Simulate a phone" panel)`,
      `  API docs      ${base}/api/docs`,
      `  Test client   ${base}/demo.html`,
      `  Simulator     ${simUrl}  (phones: GET ${simUrl}/phones/${DEMO_BUSINESS_NUMBER})`,
      '',
      'Link a WhatsApp account in four steps:',
      `  1. Register:  curl -s ${base}/api/auth/register -H 'content-type: application/json' \\`,
      `                  -d '{"name":"Ana","email":"ana@example.com","password":"correct horse"}'`,
      `  2. Open ${base}/demo.html, paste the accessToken, connect, press "Init" (or POST ${base}/api/whatsapp/init).`,
      '  3. The page shows the QR code and its text. Scan it with the simulated business phone:',
      `       curl -s ${simUrl}/phones/${DEMO_BUSINESS_NUMBER}/link -H 'content-type: application/json' -d '{"qr":"<the QR text>"}'`,
      `  4. GET ${base}/api/chats lists the chats the demo contacts started; send from a contact with`,
      `       curl -s ${simUrl}/phones/15550000002/messages -H 'content-type: application/json' \\`,
      `         -d '{"to":"${DEMO_BUSINESS_NUMBER}","body":"Hello!"}'`,
      '',
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
  else process.stderr.write(`demo failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
