import type WAWebJS from 'whatsapp-web.js';
import type { LeveledLog } from '../../domain/log.js';
import { ChatIdResolver } from './wwebjs-backfill.js';
import { createWwebjsStore, type WwebjsAuth } from './wwebjs-auth.js';
import { puppeteerOptions } from './wwebjs-chromium.js';
import type { WwebjsClient, WwebjsLibrary } from './wwebjs-library.js';
import type { ResolvedWwebjsOptions, WwebjsProxy } from './wwebjs-options.js';

/** One launch of whatsapp-web.js: a client, its Chromium, and what we learned about it. */
export interface WwebjsRun {
  client: WwebjsClient;
  strategy: WAWebJS.AuthStrategy;
  ids: ChatIdResolver;
  browserPid: number | null;
  qrIndex: number;
  /** Reached `ready` in this run (only then is the profile worth uploading on stop). */
  ready: boolean;
  /** Last `change_state` state, recorded synchronously (RemoteAuth deletes before `disconnected`). */
  lastWaState: string | null;
  /** The phone unlinked this device: the stored session may be deleted. */
  unlinked: boolean;
  health: NodeJS.Timeout | null;
  teardown: Promise<void> | null;
}

export interface RunContext {
  tenantId: string;
  auth: WwebjsAuth;
  opts: ResolvedWwebjsOptions;
  profileDir: string;
  proxy: WwebjsProxy | undefined;
  setprivPath: string | null;
  log: LeveledLog;
  /** Whether RemoteAuth may delete the stored session now (see wwebjs-auth.ts, mayDelete). */
  mayDelete: (run: WwebjsRun) => boolean;
  onStoreError: (err: unknown) => void;
}

/** The stored session goes only when the account is really gone: unlinked, or WhatsApp says unpaired. */
export function mayDeleteStored(run: WwebjsRun): boolean {
  return run.unlinked || run.lastWaState === 'UNPAIRED' || run.lastWaState === 'UNPAIRED_IDLE';
}

/** RemoteAuth's upload of the profile folder; JS-only in whatsapp-web.js (not in index.d.ts). */
interface StoresRemoteSession {
  storeRemoteSession(options?: { emit?: boolean }): Promise<void>;
}
export function storesRemoteSession(strategy: unknown): strategy is StoresRemoteSession {
  return typeof strategy === 'object' && strategy !== null && typeof (strategy as Partial<StoresRemoteSession>).storeRemoteSession === 'function';
}

function authStrategy(library: WwebjsLibrary, ctx: RunContext, current: () => WwebjsRun | null): WAWebJS.AuthStrategy {
  const { auth, opts } = ctx;
  switch (auth.kind) {
    case 'remote':
      return library.createAuthStrategy({
        kind: 'remote',
        clientId: ctx.tenantId,
        dataPath: opts.dataPath,
        backupSyncIntervalMs: auth.backupSyncIntervalMs ?? 300_000,
        store: createWwebjsStore(auth.store, {
          dataPath: opts.dataPath,
          log: ctx.log,
          mayDelete: () => {
            const run = current();
            return run !== null && ctx.mayDelete(run);
          },
          onSaveError: ctx.onStoreError,
        }),
      });
    case 'local':
      return library.createAuthStrategy({ kind: 'local', clientId: ctx.tenantId, dataPath: opts.dataPath });
    case 'none':
      return library.createAuthStrategy({ kind: 'none' });
  }
}

function clientOptions(ctx: RunContext, strategy: WAWebJS.AuthStrategy): WAWebJS.ClientOptions {
  const o = ctx.opts;
  const puppeteer = puppeteerOptions(
    {
      chromiumPath: o.chromiumPath,
      profileDir: ctx.profileDir,
      isRoot: o.isRoot,
      rendererHeapMb: o.rendererHeapMb,
      proxyServer: ctx.proxy?.server,
      setprivPath: ctx.setprivPath,
    },
    o.launchTimeoutMs,
  );
  const proxyAuth = ctx.proxy?.username !== undefined ? { username: ctx.proxy.username, password: ctx.proxy.password ?? '' } : undefined;
  return {
    authStrategy: strategy,
    puppeteer,
    webVersion: o.webVersion,
    webVersionCache: o.webVersionCache,
    qrMaxRetries: o.qrMaxRetries,
    // Taking over from another WhatsApp Web of the account would ping-pong with it: report instead.
    takeoverOnConflict: false,
    ...(proxyAuth === undefined ? {} : { proxyAuthentication: proxyAuth }),
  };
}

/** A fresh client with its auth strategy and options, not yet initialized. */
export function createRun(library: WwebjsLibrary, ctx: RunContext): WwebjsRun {
  // The strategy's store asks about the run that exists by the time it deletes.
  let run: WwebjsRun | null = null;
  const strategy = authStrategy(library, ctx, () => run);
  const client = library.createClient(clientOptions(ctx, strategy));
  run = {
    client,
    strategy,
    ids: new ChatIdResolver(client),
    browserPid: null,
    qrIndex: 0,
    ready: false,
    lastWaState: null,
    unlinked: false,
    health: null,
    teardown: null,
  };
  return run;
}
