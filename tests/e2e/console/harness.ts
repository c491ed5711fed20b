import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { loadConfig, type Config } from '../../../src/config.js';
import { createLogger } from '../../../src/domain/log.js';
import type { AccessChange } from '../../../src/http/access-events.js';
import { createPasswordHasher } from '../../../src/http/auth/passwords.js';
import { createRealtime, type Realtime } from '../../../src/http/realtime/index.js';
import { buildApp, type HttpApp } from '../../../src/http/server.js';
import { registerConsole } from '../../../src/http/static.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

/** Where the browser tests save their screenshots (git-ignored). */
export const SCREENSHOT_DIR = join(process.cwd(), 'test-results', 'console');

/** Debian's Chromium (.ci/run installs it); CHROMIUM_PATH overrides. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for a headless Chromium in a container: no sandbox, no GPU, nothing phoning home. */
const CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/** A phone: what issue 9 asks the console to work on. */
export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
export const DESKTOP = { viewport: { width: 1280, height: 800 } };

/**
 * Builds the console from web/ into a fresh temporary folder, so the tests always run today's source
 * (not a stale dist/) and never disturb a dist/ someone is serving.
 */
export async function buildConsole(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'wa-console-build-'));
  await build({
    configFile: join(process.cwd(), 'web', 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: dir, emptyOutDir: true, sourcemap: false },
  });
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: false });
}

/**
 * Every page error and console error of a context, so a test can assert the console ran clean (a CSP
 * violation or an uncaught exception shows up here).
 */
export function collectErrors(context: BrowserContext): string[] {
  const errors: string[] = [];
  context.on('page', (page) => watch(page, errors));
  for (const page of context.pages()) watch(page, errors);
  return errors;
}

function watch(page: Page, errors: string[]): void {
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    // Answers the console handles and the tests provoke: 401 wrong password, 403 a chat not assigned,
    // 404 no profile photo, 409 a taken email.
    if (/Failed to load resource: the server responded with a status of (401|403|404|409)/.test(text)) return;
    errors.push(`console: ${text}`);
  });
}

/**
 * Inputs, selects and textareas that no label names: each one is an accessibility bug. (A string, run in
 * the page: the test program is type-checked without the DOM library.)
 */
export async function unlabelledControls(page: Page): Promise<string[]> {
  const found: unknown = await page.evaluate(`
    Array.from(document.querySelectorAll('input, select, textarea'))
      .filter((el) => el.type !== 'hidden')
      .filter((el) => (el.labels?.length ?? 0) === 0 && !el.hasAttribute('aria-label') && !el.hasAttribute('aria-labelledby'))
      .map((el) => el.outerHTML.slice(0, 120))
  `);
  if (!Array.isArray(found)) throw new Error('unlabelledControls: unexpected result');
  return found.map(String);
}

export interface ConsoleServer {
  url: string;
  app: HttpApp;
  db: TestDatabase;
  config: Config;
  realtime: Realtime;
  close(): Promise<void>;
}

/**
 * The API as buildApp makes it (real PostgreSQL, own schema), with the Socket.IO channel and the console
 * from `distDir`, listening on a free port. No WhatsApp sessions: this serves the screens that do not
 * need one (accounts, employees, permissions, chats and messages inserted through the store).
 */
export async function startConsoleServer(distDir: string): Promise<ConsoleServer> {
  const db = await createTestDatabase();
  const config = loadConfig({
    JWT_SECRET: 'console-browser-tests-secret-0123456789abcdef',
    LOGIN_RATE_LIMIT: '1000',
    PASSWORD_HASH_THREADS: '1',
    HOST: '127.0.0.1',
    PORT: '0',
  });
  const log = createLogger({ level: 'silent' });
  const hasher = createPasswordHasher({ threads: 1, memoryCost: 1024, timeCost: 1 });
  let realtime: Realtime | undefined;
  const onAccessChange = async (change: AccessChange): Promise<void> => {
    if (realtime === undefined) return;
    if (change.type === 'permission.assigned') await realtime.grant(change.tenantId, change.userId, change.chatId);
    else if (change.type === 'permission.revoked') await realtime.revoke(change.tenantId, change.userId, change.chatId);
    else await realtime.disconnectUser(change.tenantId, change.userId);
  };
  let app: HttpApp;
  try {
    app = await buildApp({
      config,
      store: db.store,
      log,
      passwordHasher: hasher,
      onAccessChange,
      beforeReady: async (fastify) => {
        realtime = createRealtime({
          fastify,
          httpServer: 'node',
          corsOrigins: config.CORS_ORIGINS,
          authenticate: (token) => fastify.authenticateToken(token),
          chatsForEmployee: async (tenantId, userId) => (await db.store.permissions.listForUser(tenantId, userId)).map((p) => p.chatId),
          log,
        });
        await registerConsole(fastify, { distDir });
      },
    });
  } catch (err) {
    await hasher.close();
    await db.close();
    throw err;
  }
  if (realtime === undefined) throw new Error('realtime was not created');
  const rt = realtime;
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: address,
    app,
    db,
    config,
    realtime: rt,
    async close() {
      await app.close();
      await hasher.close();
      await db.close();
    },
  };
}
