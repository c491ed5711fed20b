import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pipeline } from 'node:stream/promises';
import type WAWebJS from 'whatsapp-web.js';

/**
 * The part of whatsapp-web.js the engine uses, as a port: the engine takes a `WwebjsLibrary`, so the
 * contract tests can put a scripted client (same events, argument shapes and call signatures, typed by
 * the package's own index.d.ts) where whatsapp-web.js' `Client` would be.
 */

/**
 * The members of whatsapp-web.js' `Client` the engine calls, with the package's own signatures. `on` is
 * narrowed to the events below (the package's overloads return `this`, which a Pick would turn into the
 * whole Client).
 */
export type WwebjsClient = Pick<
  WAWebJS.Client,
  | 'initialize'
  | 'destroy'
  | 'logout'
  | 'sendMessage'
  | 'getChats'
  | 'getMessageById'
  | 'getProfilePicUrl'
  | 'getState'
  | 'getContactLidAndPhone'
  | 'requestPairingCode'
  | 'info'
  | 'pupBrowser'
> & {
  on<K extends WwebjsEventName>(event: K, listener: (...args: WwebjsEventArgs[K]) => void): unknown;
  removeAllListeners(): unknown;
};

/**
 * Arguments of each client event the engine listens to, as index.d.ts declares them (`Client.on`
 * overloads). The scripted test client emits with exactly these.
 */
export interface WwebjsEventArgs {
  qr: [qr: string];
  code: [code: string];
  authenticated: [];
  auth_failure: [message: string];
  ready: [];
  message: [message: WAWebJS.Message];
  message_create: [message: WAWebJS.Message];
  message_ack: [message: WAWebJS.Message, ack: WAWebJS.MessageAck];
  message_revoke_everyone: [message: WAWebJS.Message, revokedMsg?: WAWebJS.Message | null];
  change_state: [state: WAWebJS.WAState];
  disconnected: [reason: WAWebJS.WAState | 'LOGOUT'];
}
export type WwebjsEventName = keyof WwebjsEventArgs;

/** How the engine asks for an auth strategy; the library maps it onto LocalAuth / RemoteAuth / NoAuth. */
export type AuthStrategySpec =
  | { kind: 'local'; clientId: string; dataPath: string }
  | { kind: 'remote'; clientId: string; dataPath: string; store: WAWebJS.Store; backupSyncIntervalMs: number }
  | { kind: 'none' };

export interface WwebjsLibrary {
  createClient(options: WAWebJS.ClientOptions): WwebjsClient;
  /** `new MessageMedia(...)`: sendMessage recognises media by `instanceof`, so it must be the library's class. */
  createMedia(mimetype: string, base64: string, filename: string | null): WAWebJS.MessageMedia;
  createAuthStrategy(spec: AuthStrategySpec): WAWebJS.AuthStrategy;
}

/**
 * Loads whatsapp-web.js (and with it puppeteer) on first use, so importing the engine costs nothing.
 * A default import, destructured: the package is CommonJS, and named ESM imports type-check but are
 * undefined at run time.
 */
export async function loadWwebjsLibrary(): Promise<WwebjsLibrary> {
  const { default: wwebjs } = await import('whatsapp-web.js');
  const { Client, MessageMedia, LocalAuth, RemoteAuth, NoAuth } = wwebjs;
  return {
    createClient: (options) => new Client(options),
    createMedia: (mimetype, base64, filename) => new MessageMedia(mimetype, base64, filename),
    createAuthStrategy(spec) {
      switch (spec.kind) {
        case 'local':
          return new LocalAuth({ clientId: spec.clientId, dataPath: spec.dataPath });
        case 'remote':
          return waitForUnzip(
            new RemoteAuth({
              clientId: spec.clientId,
              dataPath: spec.dataPath,
              store: spec.store,
              backupSyncIntervalMs: spec.backupSyncIntervalMs,
            }),
          );
        case 'none':
          return new NoAuth();
      }
    },
  };
}

interface UnzipExtract extends NodeJS.WritableStream {
  /** Resolves on 'close': every file written. */
  promise(): Promise<void>;
}
interface Unzipper {
  Extract(opts: { path: string; concurrency?: number }): UnzipExtract;
}
function isUnzipper(value: unknown): value is Unzipper {
  return typeof value === 'object' && value !== null && typeof (value as Partial<Unzipper>).Extract === 'function';
}

/**
 * whatsapp-web.js 1.34.7 RemoteAuth unzips the restored session and resolves on unzipper's 'finish',
 * which fires when the zip has been read, before the files are written ('close'): Chromium can then
 * start on a half-written profile. We replace that one step to wait for 'close', using the very
 * unzipper RemoteAuth loads (its optional dependency, resolved from whatsapp-web.js' own folder).
 * Covered by tests/integration/wwebjs/remote-auth-store.test.ts (the restored files are complete).
 */
function waitForUnzip(auth: WAWebJS.RemoteAuth): WAWebJS.RemoteAuth {
  const fromWwebjs = createRequire(createRequire(import.meta.url).resolve('whatsapp-web.js'));
  const unzipper: unknown = fromWwebjs('unzipper');
  if (!isUnzipper(unzipper)) throw new Error('whatsapp-web.js RemoteAuth needs its optional dependency unzipper');
  const target = auth as WAWebJS.RemoteAuth & { userDataDir?: string };
  Object.assign(target, {
    async unCompressSession(zipPath: string): Promise<void> {
      if (target.userDataDir === undefined) throw new Error('RemoteAuth has no profile folder yet');
      const extract = unzipper.Extract({ path: target.userDataDir, concurrency: 10 });
      await Promise.all([pipeline(createReadStream(zipPath), extract), extract.promise()]);
      await unlink(zipPath);
    },
  });
  return auth;
}
