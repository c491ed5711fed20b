import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { AppError, ErrorCodes } from '../../domain/errors.js';

/**
 * How the wwebjs engine starts the system Chromium (see docs/wwebjs.md, "Chromium").
 *
 * whatsapp-web.js hands `puppeteer` options straight to `puppeteer.launch`. We pass
 * `ignoreDefaultArgs: true` so that every flag Chromium gets is listed (and explained) here, and
 * `pipe: true` so DevTools talks over fds 3/4 instead of a TCP port any local process could drive.
 * The executable puppeteer spawns is `setpriv --pdeathsig SIGKILL -- <chromium>` when setpriv exists:
 * the kernel then kills the browser when the thread that launched it dies, even by SIGKILL, which no
 * exit hook can catch (puppeteer spawns it `detached`, so it also leads its own process group).
 */

/** Where Debian (util-linux, essential) installs setpriv. */
export const SETPRIV_PATH = '/usr/bin/setpriv';

export interface ChromiumLaunchInput {
  /** The Chromium executable (config CHROMIUM_PATH). */
  chromiumPath: string;
  /** `--user-data-dir`; also what identifies this session's processes (see wwebjs-processes.ts). */
  profileDir: string;
  /** Root cannot run Chromium's sandbox; only then is it switched off. */
  isRoot: boolean;
  /** V8 heap limit of the page's renderer, MB. */
  rendererHeapMb: number;
  /** Per-session proxy, e.g. `http://proxy:3128` or `socks5://host:1080`. */
  proxyServer?: string | undefined;
  /** setpriv for the parent-death signal, or null to launch Chromium directly. */
  setprivPath: string | null;
}

/**
 * Chromium flags, chosen for one headless page per browser on a small server. Every flag is here on
 * purpose; puppeteer's defaults are not used.
 */
export function chromiumFlags(input: Omit<ChromiumLaunchInput, 'chromiumPath' | 'setprivPath'>): string[] {
  const flags = [
    // The full browser without a window (the old headless mode is gone from current Chromium).
    '--headless=new',
    // No GPU on servers; compositing falls back to software without probing for hardware.
    '--disable-gpu',
    // Containers give /dev/shm 64 MB; Chromium's shared memory there crashes renderers. Use /tmp.
    '--disable-dev-shm-usage',
    // Skip first-run setup, default-browser prompts and bundled default apps.
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-default-apps',
    // No background traffic of its own: variations, safe-browsing lists, component and extension
    // updates, sync. Less memory and CPU, and nothing leaves the machine but WhatsApp's own traffic.
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-extensions',
    // HTTP/3 over UDP is often blocked or half-working behind NAT and proxies; TCP is predictable.
    '--disable-quic',
    // One renderer serves WhatsApp Web; Chromium would otherwise keep several warm ones (memory).
    '--renderer-process-limit=2',
    // Cap the page's V8 heap so a runaway WhatsApp Web tab dies (and is restarted) instead of eating
    // the node's memory.
    `--js-flags=--max-old-space-size=${Math.round(input.rendererHeapMb)}`,
    // Headless pages count as background: Chromium would throttle their timers, delaying WhatsApp Web's
    // keep-alives until the server drops the connection.
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows',
    // Features that only cost memory or make requests here.
    '--disable-features=Translate,MediaRouter,OptimizationHints,BackForwardCache',
    // No audio device on a server; no permission prompts that nobody can answer.
    '--mute-audio',
    '--deny-permission-prompts',
    // Keep Chromium away from desktop keyrings (gnome-keyring, kwallet): none on a server.
    '--password-store=basic',
    '--use-mock-keychain',
    `--user-data-dir=${input.profileDir}`,
  ];
  // Chromium refuses to start its sandbox as root; for every other user the sandbox stays on.
  if (input.isRoot) flags.push('--no-sandbox');
  if (input.proxyServer !== undefined) flags.push(`--proxy-server=${input.proxyServer}`);
  return flags;
}

/** What whatsapp-web.js' `puppeteer` client option gets. */
export interface ChromiumPuppeteerOptions {
  executablePath: string;
  args: string[];
  ignoreDefaultArgs: true;
  pipe: true;
  headless: true;
  userDataDir: string;
  defaultViewport: null;
  /** Puppeteer's own deadline for the browser to start. */
  timeout: number;
  // The actor's runtime owns process signals; puppeteer's handlers would call process.exit.
  handleSIGINT: false;
  handleSIGTERM: false;
  handleSIGHUP: false;
}

export function puppeteerOptions(input: ChromiumLaunchInput, launchTimeoutMs: number): ChromiumPuppeteerOptions {
  const flags = chromiumFlags(input);
  const viaSetpriv = input.setprivPath !== null;
  return {
    executablePath: viaSetpriv ? (input.setprivPath ?? SETPRIV_PATH) : input.chromiumPath,
    args: viaSetpriv ? ['--pdeathsig', 'SIGKILL', '--', input.chromiumPath, ...flags] : flags,
    ignoreDefaultArgs: true,
    pipe: true,
    headless: true,
    // Must equal --user-data-dir: LocalAuth and RemoteAuth check it against their own folder.
    userDataDir: input.profileDir,
    defaultViewport: null,
    timeout: launchTimeoutMs,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  };
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Throws a start-up error that says what to do when CHROMIUM_PATH is not an executable. */
export async function assertChromium(chromiumPath: string): Promise<void> {
  if (await isExecutable(chromiumPath)) return;
  throw new AppError(
    ErrorCodes.ENGINE,
    `Chromium not found at CHROMIUM_PATH=${chromiumPath}: install it (Debian: apt-get install -y chromium) or set CHROMIUM_PATH to the browser executable`,
  );
}

/** setpriv's path when it can be used, else null (the engine then warns: SIGKILL may orphan the browser). */
export async function findSetpriv(path = SETPRIV_PATH): Promise<string | null> {
  return (await isExecutable(path)) ? path : null;
}
