import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { AuthStore } from '../../domain/auth-store.js';
import { AppError, ErrorCodes, ValidationError } from '../../domain/errors.js';
import type { CreateEngineInput } from './create-engine.js';
import type { Engine } from './engine.js';
import { createSnapshotAuthStore, type WwebjsAuth } from './wwebjs-auth.js';
import type { WwebjsLibrary } from './wwebjs-library.js';
import { WwebjsEngine, type WwebjsEngineOptions } from './wwebjs.js';

/**
 * The wwebjs engine's slice of the actor's start options (`engineOptions`), validated here because it
 * arrives as `unknown` over the actor protocol. Every field but `chromiumPath` is optional; see
 * docs/wwebjs.md, "Options", for what the session actor passes.
 */
export const WwebjsEngineSettings = Type.Object({
  chromiumPath: Type.String({ minLength: 1, description: 'CHROMIUM_PATH' }),
  /** Folder for profiles and RemoteAuth's temporary zips (default `.wwebjs_auth`, whatsapp-web.js' own). */
  dataPath: Type.Optional(Type.String({ minLength: 1 })),
  /** `remote` (needs an AuthStore), `local` (LocalAuth on this node's disk) or `none`. Default: remote when a store is given, else local. */
  auth: Type.Optional(Type.Union([Type.Literal('remote'), Type.Literal('local'), Type.Literal('none')])),
  /** For `remote` inside a worker/child: the zip the parent read from the store (null: none stored). */
  authSnapshot: Type.Optional(Type.Union([Type.Null(), Type.Object({ session: Type.String({ minLength: 1 }), zip: Type.Uint8Array() })])),
  backupSyncIntervalMs: Type.Optional(Type.Integer({ minimum: 60_000 })),
  webVersion: Type.Optional(Type.String({ minLength: 1 })),
  /** `{version}` template of a remote archive, or `local` / `none`. Default: DEFAULT_WEB_VERSION_URL. */
  webVersionSource: Type.Optional(Type.String({ minLength: 1 })),
  /** Use only the pinned build; fail instead of falling back to the live one. */
  webVersionStrict: Type.Optional(Type.Boolean()),
  proxy: Type.Optional(
    Type.Object({ server: Type.String({ minLength: 1 }), username: Type.Optional(Type.String()), password: Type.Optional(Type.String()) }),
  ),
  initTimeoutMs: Type.Optional(Type.Integer({ minimum: 1_000 })),
  /** While connected, `getState()` every `intervalMs` must answer within `timeoutMs` (defaults 60 000 / 15 000). */
  healthCheck: Type.Optional(
    Type.Object({ intervalMs: Type.Optional(Type.Integer({ minimum: 10 })), timeoutMs: Type.Optional(Type.Integer({ minimum: 10 })) }),
  ),
  qrMaxRetries: Type.Optional(Type.Integer({ minimum: 0 })),
  rendererHeapMb: Type.Optional(Type.Integer({ minimum: 64 })),
  reconnect: Type.Optional(
    Type.Object({
      initialMs: Type.Optional(Type.Integer({ minimum: 1 })),
      maxMs: Type.Optional(Type.Integer({ minimum: 1 })),
      maxAttempts: Type.Optional(Type.Integer({ minimum: 1 })),
    }),
  ),
  backfill: Type.Optional(
    Type.Object({
      chats: Type.Optional(Type.Integer({ minimum: 0 })),
      messagesPerChat: Type.Optional(Type.Integer({ minimum: 0 })),
      batchSize: Type.Optional(Type.Integer({ minimum: 1 })),
    }),
  ),
});
export type WwebjsEngineSettings = Static<typeof WwebjsEngineSettings>;

export interface WwebjsFactoryDeps {
  /** Where RemoteAuth keeps the session, when the engine can reach it directly (in-process). */
  authStore?: AuthStore;
  /**
   * In a worker/child: how the actor sends RemoteAuth's writes up to the parent, which applies them to
   * the PostgreSQL store with the actor's lease epoch. Reads come from `authSnapshot` in the options.
   */
  forwardAuth?: {
    save(session: string, zip: Uint8Array): void | Promise<void>;
    delete(session: string): void | Promise<void>;
  };
  /** whatsapp-web.js itself (default), or a scripted stand-in: end-to-end tests without WhatsApp. */
  library?: WwebjsLibrary;
}

function webVersionCache(s: WwebjsEngineSettings): WwebjsEngineOptions['webVersionCache'] {
  const strict = s.webVersionStrict ?? false;
  switch (s.webVersionSource) {
    case undefined:
      return undefined; // the engine's default archive
    case 'none':
      return { type: 'none' };
    case 'local':
      return { type: 'local', strict };
    default:
      return { type: 'remote', remotePath: s.webVersionSource, strict };
  }
}

function authStoreOf(s: WwebjsEngineSettings, deps: WwebjsFactoryDeps): AuthStore | undefined {
  if (deps.authStore !== undefined) return deps.authStore;
  const forward = deps.forwardAuth;
  if (forward === undefined || s.authSnapshot === undefined) return undefined;
  return createSnapshotAuthStore({
    snapshot: s.authSnapshot,
    onSave: (session, zip) => forward.save(session, zip),
    onDelete: (session) => forward.delete(session),
  });
}

function authOf(s: WwebjsEngineSettings, deps: WwebjsFactoryDeps): WwebjsAuth {
  const store = authStoreOf(s, deps);
  const kind = s.auth ?? (store === undefined ? 'local' : 'remote');
  if (kind !== 'remote') return { kind };
  if (store === undefined) {
    throw new AppError(
      ErrorCodes.ENGINE,
      'wwebjs auth "remote" needs an AuthStore, or authSnapshot in the options plus forwardAuth from the session actor (see docs/wwebjs.md)',
    );
  }
  return s.backupSyncIntervalMs === undefined ? { kind: 'remote', store } : { kind: 'remote', store, backupSyncIntervalMs: s.backupSyncIntervalMs };
}

/** Builds a WwebjsEngine from the actor's options. */
export async function createWwebjsEngine(input: CreateEngineInput, deps: WwebjsFactoryDeps = {}): Promise<Engine> {
  const settings: unknown = input.engineOptions;
  if (!Value.Check(WwebjsEngineSettings, settings)) {
    const first = Value.Errors(WwebjsEngineSettings, settings).First();
    throw new ValidationError(`invalid wwebjs engine options: ${first ? `${first.path} ${first.message}` : 'invalid'}`);
  }
  const s = settings;
  const cache = webVersionCache(s);
  return new WwebjsEngine({
    tenantId: input.tenantId,
    credentials: input.credentials,
    log: input.log,
    chromiumPath: s.chromiumPath,
    dataPath: s.dataPath ?? '.wwebjs_auth',
    auth: authOf(s, deps),
    ...(s.webVersion === undefined ? {} : { webVersion: s.webVersion }),
    ...(cache === undefined ? {} : { webVersionCache: cache }),
    ...(s.proxy === undefined ? {} : { proxy: s.proxy }),
    ...(s.initTimeoutMs === undefined ? {} : { initTimeoutMs: s.initTimeoutMs }),
    ...(s.healthCheck === undefined ? {} : { healthCheck: s.healthCheck }),
    ...(deps.library === undefined ? {} : { library: deps.library }),
    ...(s.qrMaxRetries === undefined ? {} : { qrMaxRetries: s.qrMaxRetries }),
    ...(s.rendererHeapMb === undefined ? {} : { rendererHeapMb: s.rendererHeapMb }),
    ...(s.reconnect === undefined ? {} : { reconnect: s.reconnect }),
    ...(s.backfill === undefined ? {} : { backfill: s.backfill }),
  });
}
