import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { lstat, mkdir, readFile, readlink, symlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/domain/log.js';
import { WwebjsEngine, type WwebjsEngineOptions } from '../../../src/actors/engines/wwebjs.js';
import { killSession } from '../../../src/actors/engines/wwebjs-processes.js';
import { EventLog, eventually, noProcessesOf, processesOf, tempDir } from './helpers.js';

/**
 * The engine on the real system Chromium (Debian's `chromium`; .ci/run installs it). WhatsApp is not
 * reachable from here, so the browser is kept busy in one of two ways: a proxy that accepts connections
 * and never answers (a network that swallows packets: the page load hangs), or no proxy at all (DNS
 * fails, the page load fails at once).
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FIXTURE = fileURLToPath(new URL('./fixtures/host-engine.ts', import.meta.url));
const WORKER_BOOT = new URL('../../../src/actors/runtime/worker-tsx-boot.mjs', import.meta.url);
const log = createLogger({ level: 'silent' });

let tenantSeq = 0;
function tenantId(): string {
  tenantSeq += 1;
  return `00000000-0000-4000-8000-${String(process.pid).padStart(6, '0')}${String(tenantSeq).padStart(6, '0')}`;
}

/** A proxy that accepts every connection and never says a word. */
async function hangingProxy(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no proxy address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** argv of a process as a list. */
async function argvOf(pid: number): Promise<string[]> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter((a) => a !== '');
}

/** Process group id of a process (field 5 of /proc/<pid>/stat, after the parenthesised name). */
async function pgidOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[2]);
}

/** The browser is the one process without `--type=` (children rewrite their title into one string). */
async function browserProcess(pids: number[]): Promise<number> {
  for (const pid of pids) {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (raw !== '' && !/(^|[\0 ])--type=/.test(raw)) return pid;
  }
  throw new Error('no browser (non --type) process among the session processes');
}

describe('wwebjs engine on the system Chromium', () => {
  let proxy: Awaited<ReturnType<typeof hangingProxy>>;
  let data: Awaited<ReturnType<typeof tempDir>>;
  const profiles: string[] = [];
  let cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    proxy = await hangingProxy();
    data = await tempDir('wwebjs-chromium');
  });
  afterEach(async () => {
    for (const fn of cleanup.reverse()) await fn();
    cleanup = [];
  });
  afterAll(async () => {
    // Whatever a failed test left behind.
    for (const dir of profiles) await killSession(dir, null);
    await proxy.close();
    await data.remove();
  });

  function engineFor(opts: Partial<WwebjsEngineOptions>): { engine: WwebjsEngine; events: EventLog } {
    const engine = new WwebjsEngine({
      tenantId: tenantId(),
      credentials: null,
      log,
      chromiumPath: CHROMIUM,
      dataPath: data.path,
      auth: { kind: 'none' },
      webVersionCache: { type: 'none' },
      ...opts,
    });
    profiles.push(engine.profileDir);
    const events = new EventLog(engine);
    cleanup.push(async () => {
      events.close();
      await engine.stop();
    });
    return { engine, events };
  }

  it('launches Chromium with our flags, in its own process group, and leaves no process after stop', async () => {
    const { engine, events } = engineFor({ proxy: { server: proxy.url }, rendererHeapMb: 384 });
    await engine.start();
    const pids = await processesOf(engine.profileDir);
    const browser = await browserProcess(pids);
    const argv = await argvOf(browser);
    for (const flag of [
      '--headless=new',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--disable-extensions',
      '--renderer-process-limit=2',
      '--js-flags=--max-old-space-size=384',
      '--remote-debugging-pipe',
      `--user-data-dir=${engine.profileDir}`,
      `--proxy-server=${proxy.url}`,
    ]) {
      expect(argv).toContain(flag);
    }
    // Chromium refuses its sandbox as root; as any other user it keeps it.
    expect(argv.includes('--no-sandbox')).toBe(process.getuid?.() === 0);
    expect(argv.some((a) => a.startsWith('--remote-debugging-port'))).toBe(false);
    expect(await pgidOf(browser)).toBe(browser);

    await engine.stop();
    await noProcessesOf(engine.profileDir);
    expect(engine.state).toBe('stopped');
    expect(events.ofType('state').at(-1)?.state).toBe('stopped');
  });

  it('leaves no process after logout and removes the local login', async () => {
    const { engine, events } = engineFor({ auth: { kind: 'local' }, proxy: { server: proxy.url } });
    await engine.start();
    await processesOf(engine.profileDir);
    expect(engine.profileDir.endsWith(`session-${engine.tenantId}`)).toBe(true);
    await engine.logout();
    await noProcessesOf(engine.profileDir);
    await expect(lstat(engine.profileDir)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await events.waitFor('disconnected')).toMatchObject({ reason: 'logged_out', willReconnect: false });
  });

  it('ends with a network failure and a clear reason when WhatsApp cannot be reached', async () => {
    // No proxy: on these machines the name does not resolve (or the connection fails) within seconds.
    const { engine, events } = engineFor({ initTimeoutMs: 20_000, reconnect: { maxAttempts: 1 } });
    await engine.start();
    const gone = await events.waitFor('disconnected', () => true, { timeoutMs: 25_000 });
    expect(gone.reason).toBe('network');
    expect(gone.willReconnect).toBe(false);
    expect(gone.detail).toMatch(/net::ERR_|did not load within/);
    await noProcessesOf(engine.profileDir);
    expect(engine.state).toBe('disconnected');
  });

  it('gives up on a page that never loads at its own deadline and kills the browser', async () => {
    const { engine, events } = engineFor({ proxy: { server: proxy.url }, initTimeoutMs: 1_500, reconnect: { maxAttempts: 1 } });
    await engine.start();
    await processesOf(engine.profileDir);
    const gone = await events.waitFor('disconnected', () => true, { timeoutMs: 15_000 });
    expect(gone).toEqual({ type: 'disconnected', reason: 'network', willReconnect: false, detail: 'WhatsApp Web did not load within 1500 ms' });
    await noProcessesOf(engine.profileDir);
  });

  it('clears a stale SingletonLock and a leftover process of the same profile before launch', async () => {
    const { engine } = engineFor({ proxy: { server: proxy.url } });
    await mkdir(engine.profileDir, { recursive: true });
    // What a browser killed mid-run leaves: a lock naming a dead pid, and (here) a process on the profile.
    await symlink('ghost-host-999999', join(engine.profileDir, 'SingletonLock'));
    const leftover = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '--', `--user-data-dir=${engine.profileDir}`], { stdio: 'ignore' });
    cleanup.push(async () => void leftover.kill('SIGKILL'));
    await processesOf(engine.profileDir);
    await engine.start();
    await once(leftover, 'exit');
    const pids = await processesOf(engine.profileDir);
    const browser = await browserProcess(pids);
    expect((await argvOf(browser))[0]).not.toBe(process.execPath);
    // Chromium made its own lock, naming itself.
    const lock = await eventually('Chromium took the profile lock', async () => readlink(join(engine.profileDir, 'SingletonLock')).catch(() => undefined));
    expect(lock).toMatch(new RegExp(`-${browser}$`));
  });

  describe('when the process hosting the engine dies without stopping it', () => {
    function hostChild(config: Record<string, unknown>): { child: ChildProcess; exited: Promise<unknown[]> } {
      const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'ignore'] });
      const exited = once(child, 'exit');
      cleanup.push(async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      });
      return { child, exited };
    }

    /** Resolves when the host reports a running Chromium. Keeps reading stdout: a closed pipe would kill the host. */
    function running(child: ChildProcess): Promise<void> {
      return new Promise((resolve, reject) => {
        let out = '';
        child.stdout?.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('chromium-running')) resolve();
        });
        child.on('exit', () => reject(new Error(`host exited before Chromium ran: ${out}`)));
      });
    }

    function config(extra: Record<string, unknown> = {}): Record<string, unknown> & { dataPath: string; tenantId: string } {
      const id = tenantId();
      profiles.push(join(data.path, `profile-${id}`));
      return { tenantId: id, chromiumPath: CHROMIUM, dataPath: data.path, proxyServer: proxy.url, setpriv: true, ...extra };
    }

    it('leaves no Chromium behind after SIGKILL of the child process (parent-death signal)', async () => {
      const cfg = config();
      const { child, exited } = hostChild(cfg);
      await running(child);
      const profile = join(cfg.dataPath, `profile-${cfg.tenantId}`);
      // The whole tree is up (browser, zygotes, utilities, renderers), not only the browser.
      const tree = await eventually('Chromium spawned its helper processes', async () => {
        const pids = await processesOf(profile);
        return pids.length >= 3 ? pids : undefined;
      });
      expect(tree.length).toBeGreaterThanOrEqual(3);
      child.kill('SIGKILL');
      await exited;
      await noProcessesOf(profile);
    });

    it('kills Chromium by the parent-death signal when nothing else would (DevTools over a port)', async () => {
      const cfg = config({ devtools: 'port' });
      const { child, exited } = hostChild(cfg);
      await running(child);
      const profile = join(cfg.dataPath, `profile-${cfg.tenantId}`);
      const browser = await browserProcess(await processesOf(profile));
      expect((await argvOf(browser)).some((a) => a.startsWith('--remote-debugging-port'))).toBe(true);
      child.kill('SIGKILL');
      await exited;
      await noProcessesOf(profile);
    });

    it('leaves no Chromium behind after its worker thread is terminated', async () => {
      const cfg = config();
      const worker = new Worker(WORKER_BOOT, { workerData: { entry: new URL(`file://${FIXTURE}`).href, config: JSON.stringify(cfg) } });
      cleanup.push(async () => void (await worker.terminate()));
      await new Promise<void>((resolve, reject) => {
        worker.on('message', (m) => m === 'chromium-running' && resolve());
        worker.on('error', reject);
      });
      const profile = join(cfg.dataPath, `profile-${cfg.tenantId}`);
      await worker.terminate();
      await noProcessesOf(profile);
    });

    it('leaves no Chromium behind after the host crashes, by its exit hook alone (no setpriv)', async () => {
      const cfg = config({ setpriv: false, crash: true });
      const { child, exited } = hostChild(cfg);
      await running(child);
      const [code] = (await exited) as [number | null];
      expect(code).not.toBe(0);
      await noProcessesOf(join(cfg.dataPath, `profile-${cfg.tenantId}`));
    });
  });
});
