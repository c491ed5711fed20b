import { resolve } from 'node:path';
import type WAWebJS from 'whatsapp-web.js';
import type { EngineOptions } from './engine.js';
import type { BackfillLimits } from './wwebjs-backfill.js';
import { DEFAULT_BACKFILL } from './wwebjs-backfill.js';
import type { WwebjsAuth } from './wwebjs-auth.js';
import type { WwebjsLibrary } from './wwebjs-library.js';
import type { BrowserReaper } from './wwebjs-processes.js';

/**
 * The WhatsApp Web build we pin: the one whatsapp-web.js 1.34.7 ships as its default, i.e. the build its
 * injected code was released against. WhatsApp retires old builds after some months
 * (`DEPRECATED_VERSION`); then raise this together with whatsapp-web.js.
 */
export const DEFAULT_WEB_VERSION = '2.3000.1017054665';

/**
 * Archive of WhatsApp Web builds the community keeps (used by whatsapp-web.js' docs). `{version}` is
 * replaced. Not reachable from our test machines: not verified here.
 */
export const DEFAULT_WEB_VERSION_URL = 'https://raw.githubusercontent.com/wppconnect-team/wa-version/main/html/{version}.html';

export interface WwebjsProxy {
  /** `--proxy-server` value, e.g. `http://proxy.internal:3128` or `socks5://10.0.0.2:1080`. */
  server: string;
  username?: string;
  password?: string;
}

export interface WwebjsEngineOptions extends EngineOptions {
  /** Chromium executable (CHROMIUM_PATH). A missing one fails `start()` with a clear error. */
  chromiumPath: string;
  /** Folder for browser profiles and RemoteAuth's temporary zips (resolved to an absolute path). */
  dataPath: string;
  auth: WwebjsAuth;
  /** WhatsApp Web build (default DEFAULT_WEB_VERSION). */
  webVersion?: string;
  /** How whatsapp-web.js finds that build (default: remote archive DEFAULT_WEB_VERSION_URL, not strict). */
  webVersionCache?: WAWebJS.WebCacheOptions;
  /** Per-session proxy. */
  proxy?: WwebjsProxy;
  /** Our deadline for `initialize()` (default 60 000 ms): on a network that drops packets it never ends. */
  initTimeoutMs?: number;
  /** Puppeteer's deadline for Chromium to start (default 30 000 ms). */
  launchTimeoutMs?: number;
  /**
   * Restarts after a failed start, a browser crash or a failed health check: `initialMs` doubling up to
   * `maxMs` with jitter (defaults 2 000 / 120 000); after `maxAttempts` failures in a row (default
   * unlimited) the engine gives up with `disconnected { willReconnect: false }`.
   */
  reconnect?: { initialMs?: number; maxMs?: number; maxAttempts?: number };
  /** Unscanned QR codes before giving up with `qr_timeout` (default 6; 0 = never). */
  qrMaxRetries?: number;
  /** While connected, `getState()` every `intervalMs` must answer within `timeoutMs` (defaults 60 000 / 15 000). */
  healthCheck?: { intervalMs?: number; timeoutMs?: number };
  backfill?: Partial<BackfillLimits>;
  /** V8 heap limit of the WhatsApp Web renderer in MB (default 512). */
  rendererHeapMb?: number;
  /** Deadline of a command (send, download, profile photo, pairing code), default 30 000 ms. */
  callTimeoutMs?: number;
  /** whatsapp-web.js itself, or a scripted stand-in (tests). Default: loaded on first start. */
  library?: WwebjsLibrary;
  /** Process-exit registry of running browsers (default: one per process). */
  reaper?: BrowserReaper;
  /** Fetch for profile photos (default globalThis.fetch). */
  fetch?: typeof fetch;
  /** Jitter source (default Math.random). */
  random?: () => number;
  /** Whether this process runs as root (Chromium then needs --no-sandbox). Default: from getuid(). */
  isRoot?: boolean;
  /** setpriv for the parent-death signal; null: launch without it. Default: /usr/bin/setpriv if present. */
  setprivPath?: string | null;
}

export interface ResolvedWwebjsOptions {
  chromiumPath: string;
  dataPath: string;
  webVersion: string;
  webVersionCache: WAWebJS.WebCacheOptions;
  initTimeoutMs: number;
  launchTimeoutMs: number;
  reconnect: { initialMs: number; maxMs: number; maxAttempts: number };
  qrMaxRetries: number;
  health: { intervalMs: number; timeoutMs: number };
  backfill: BackfillLimits;
  rendererHeapMb: number;
  callTimeoutMs: number;
  fetch: typeof fetch;
  random: () => number;
  isRoot: boolean;
}

export function resolveOptions(opts: WwebjsEngineOptions): ResolvedWwebjsOptions {
  const webVersion = opts.webVersion ?? DEFAULT_WEB_VERSION;
  return {
    chromiumPath: opts.chromiumPath,
    dataPath: resolve(opts.dataPath),
    webVersion,
    webVersionCache: opts.webVersionCache ?? { type: 'remote', remotePath: DEFAULT_WEB_VERSION_URL, strict: false },
    initTimeoutMs: opts.initTimeoutMs ?? 60_000,
    launchTimeoutMs: opts.launchTimeoutMs ?? 30_000,
    reconnect: {
      initialMs: opts.reconnect?.initialMs ?? 2_000,
      maxMs: opts.reconnect?.maxMs ?? 120_000,
      maxAttempts: opts.reconnect?.maxAttempts ?? Number.POSITIVE_INFINITY,
    },
    qrMaxRetries: opts.qrMaxRetries ?? 6,
    health: { intervalMs: opts.healthCheck?.intervalMs ?? 60_000, timeoutMs: opts.healthCheck?.timeoutMs ?? 15_000 },
    backfill: { ...DEFAULT_BACKFILL, ...opts.backfill },
    rendererHeapMb: opts.rendererHeapMb ?? 512,
    callTimeoutMs: opts.callTimeoutMs ?? 30_000,
    fetch: opts.fetch ?? globalThis.fetch,
    random: opts.random ?? Math.random,
    isRoot: opts.isRoot ?? process.getuid?.() === 0,
  };
}
