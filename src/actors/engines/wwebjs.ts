import { mkdir } from 'node:fs/promises';
import { AppError, ErrorCodes } from '../../domain/errors.js';
import type { LeveledLog } from '../../domain/log.js';
import {
  type DisconnectReason,
  type Engine,
  type EngineEvent,
  type EngineEventOf,
  type EngineEventType,
  type EngineListener,
  type EngineState,
  type MediaFile,
  type OutgoingContent,
  type ProfilePhoto,
  type SentMessage,
} from './engine.js';
import { EngineEvents } from './engine-events.js';
import { assertChromium, findSetpriv } from './wwebjs-chromium.js';
import * as commands from './wwebjs-commands.js';
import { profileDir, removeProfile, sessionName, type WwebjsAuth } from './wwebjs-auth.js';
import { loadWwebjsLibrary, type WwebjsLibrary } from './wwebjs-library.js';
import { InitTimeoutError, startFailureOf } from './wwebjs-mapping.js';
import { defaultReaper, killProcessGroup, killSession, prepareProfile, type BrowserReaper } from './wwebjs-processes.js';
import { resolveOptions, type ResolvedWwebjsOptions, type WwebjsEngineOptions } from './wwebjs-options.js';
import { attachClientEvents, type RunEvents } from './wwebjs-events.js';
import { createRun, mayDeleteStored, storesRemoteSession, type WwebjsRun } from './wwebjs-run.js';
import { backoffDelay, withTimeout } from './wwebjs-util.js';

export type { WwebjsEngineOptions } from './wwebjs-options.js';
export type { WwebjsRun } from './wwebjs-run.js';

/**
 * `Engine` over whatsapp-web.js on the system Chromium (docs/wwebjs.md). Client events are handled one
 * at a time in arrival order (wwebjs-events.ts); a failed start, a crashed browser or a page that stops
 * answering tears the run down (browser process group killed) and starts again with backoff.
 */
export class WwebjsEngine implements Engine {
  readonly kind = 'wwebjs' as const;
  readonly tenantId: string;
  readonly #log: LeveledLog;
  readonly #opts: ResolvedWwebjsOptions;
  readonly #auth: WwebjsAuth;
  readonly #proxy: WwebjsEngineOptions['proxy'];
  readonly #reaper: BrowserReaper;
  readonly #events: EngineEvents;
  readonly #profileDir: string;
  #library: WwebjsLibrary | undefined;
  #setpriv: string | null | undefined;
  #credentials: string | null;
  #run: WwebjsRun | null = null;
  #running = false;
  #loggingOut = false;
  #attempt = 0;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #stopping: Promise<void> | null = null;

  constructor(opts: WwebjsEngineOptions) {
    this.tenantId = opts.tenantId;
    this.#log = opts.log;
    this.#events = new EngineEvents(opts.log);
    this.#credentials = opts.credentials;
    this.#opts = resolveOptions(opts);
    this.#auth = opts.auth;
    this.#proxy = opts.proxy;
    this.#library = opts.library;
    this.#setpriv = opts.setprivPath;
    this.#reaper = opts.reaper ?? defaultReaper();
    this.#profileDir = profileDir(this.#opts.dataPath, opts.auth.kind, opts.tenantId);
  }

  get state(): EngineState {
    return this.#events.state;
  }

  get credentials(): string | null {
    return this.#credentials;
  }

  /** The browser profile folder of this tenant (`--user-data-dir`): it identifies the session's processes. */
  get profileDir(): string {
    return this.#profileDir;
  }

  /** Pid of the running browser, when known. */
  get browserPid(): number | null {
    return this.#run?.browserPid ?? null;
  }

  subscribe(listener: EngineListener): () => void {
    return this.#events.subscribe(listener);
  }

  on<T extends EngineEventType>(type: T, listener: EngineListener<EngineEventOf<T>>): () => void {
    return this.#events.on(type, listener);
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      await assertChromium(this.#opts.chromiumPath);
      this.#library ??= await loadWwebjsLibrary();
      if (this.#setpriv === undefined) {
        this.#setpriv = await findSetpriv();
        if (this.#setpriv === null) this.#log.warn('setpriv not found: a SIGKILLed actor may leave its Chromium running until the next start');
      }
    } catch (err) {
      this.#running = false;
      throw err;
    }
    if (!this.#running) return; // stopped while we checked
    this.#attempt = 0;
    this.#launch();
  }

  stop(): Promise<void> {
    // Concurrent calls share one shutdown, so each resolves only once the browser is gone.
    this.#stopping ??= this.#shutdown().finally(() => {
      this.#stopping = null;
    });
    return this.#stopping;
  }

  async #shutdown(): Promise<void> {
    const run = this.#halt();
    if (run) await this.#teardown(run, { saveSession: true });
    await this.#events.stopped();
  }

  /** Ends the current run's claim on the engine: no more reconnects, its queued events dropped. */
  #halt(): WwebjsRun | null {
    this.#running = false;
    this.#events.endRun();
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    const run = this.#run;
    this.#run = null;
    return run;
  }

  /**
   * Unlinks the device when connected, then removes every trace of the login (stored session, profile
   * folder) and the browser. Without a connection it still forgets the login. Ends with
   * `disconnected { reason: 'logged_out' }`.
   */
  async logout(): Promise<void> {
    this.#loggingOut = true;
    try {
      const connected = this.#events.state === 'connected';
      const run = this.#halt();
      if (run && connected) {
        run.unlinked = true;
        await withTimeout(run.client.logout(), this.#opts.callTimeoutMs, () => new Error('logout timed out')).catch((err: unknown) =>
          this.#log.warn({ err }, 'WhatsApp Web logout failed; removing the local login anyway'),
        );
      }
      if (run) await this.#teardown(run, { saveSession: false });
      await this.#forgetLogin();
      this.#credentials = null;
    } finally {
      this.#loggingOut = false;
    }
    this.#events.enqueue(async () => {
      await this.#events.emit({ type: 'disconnected', reason: 'logged_out', willReconnect: false, detail: 'logged out on request' });
      await this.#events.transition('disconnected');
    });
    await this.#events.drained();
  }

  async #forgetLogin(): Promise<void> {
    if (this.#auth.kind === 'remote') await this.#auth.store.delete(sessionName('remote', this.tenantId));
    await removeProfile(this.#profileDir);
  }

  async sendMessage(chatId: string, content: OutgoingContent): Promise<SentMessage> {
    return commands.sendMessage(this.#commandContext(), chatId, content);
  }

  async downloadMedia(messageId: string): Promise<MediaFile | null> {
    return commands.downloadMedia(this.#commandContext(), messageId);
  }

  async getProfilePhoto(chatId: string): Promise<ProfilePhoto | null> {
    return commands.getProfilePhoto(this.#commandContext(), chatId);
  }

  async requestPairingCode(phoneNumber: string): Promise<string> {
    const run = this.#run;
    if (!run || this.#events.state !== 'qr') {
      throw new AppError(ErrorCodes.SESSION_NOT_RUNNING, 'A pairing code needs a session waiting to be linked (showing a QR code)');
    }
    return commands.requestPairingCode(this.#contextOf(run), phoneNumber);
  }

  #commandContext(): commands.CommandContext {
    const run = this.#run;
    if (!run || this.#events.state !== 'connected') throw new AppError(ErrorCodes.SESSION_NOT_RUNNING, 'The WhatsApp session is not connected');
    return this.#contextOf(run);
  }

  #contextOf(run: WwebjsRun): commands.CommandContext {
    if (!this.#library) throw new AppError(ErrorCodes.SESSION_NOT_RUNNING, 'The WhatsApp session was never started');
    return { client: run.client, library: this.#library, timeoutMs: this.#opts.callTimeoutMs, fetch: this.#opts.fetch };
  }

  // ---- runs -----------------------------------------------------------------------------------

  #launch(): void {
    this.#events.setState('connecting');
    void this.#runClient().catch((err: unknown) => this.#launchFailed(err));
  }

  /** Preparing a launch failed (profile folder not writable, auth strategy refused): no point retrying. */
  #launchFailed(err: unknown): void {
    this.#log.error({ err }, 'wwebjs launch failed');
    const run = this.#run;
    if (run !== null) {
      void this.#failRun(run, { reason: 'start_failed', detail: startFailureOf(err).detail }, false);
      return;
    }
    if (!this.#running) return;
    this.#running = false;
    this.#events.enqueue(async () => {
      await this.#events.emit({ type: 'disconnected', reason: 'start_failed', willReconnect: false, detail: startFailureOf(err).detail });
      await this.#events.transition('disconnected');
    });
  }

  async #runClient(): Promise<void> {
    const library = this.#library;
    if (!library || !this.#running) return;
    await mkdir(this.#opts.dataPath, { recursive: true });
    const prepared = await prepareProfile(this.#profileDir);
    if (prepared.killed > 0) this.#log.warn({ killed: prepared.killed }, 'killed a leftover Chromium of this session before launch');
    if (!this.#running) return;
    const run = createRun(library, {
      tenantId: this.tenantId,
      auth: this.#auth,
      opts: this.#opts,
      profileDir: this.#profileDir,
      proxy: this.#proxy,
      setprivPath: this.#setpriv ?? null,
      log: this.#log,
      mayDelete: (r) => this.#loggingOut || mayDeleteStored(r),
      onStoreError: (err) => this.#onStoreError(err),
    });
    this.#run = run;
    this.#reaper.track(this.#profileDir, null);
    attachClientEvents(run, this.#runEvents(run));
    const started = Date.now();
    const initialized = run.client.initialize();
    this.#reapLateBrowser(run, initialized);
    try {
      await withTimeout(initialized, this.#opts.initTimeoutMs, () => new InitTimeoutError(this.#opts.initTimeoutMs));
    } catch (err) {
      if (this.#run === run) await this.#failRun(run, startFailureOf(err));
      return;
    }
    if (this.#run !== run) return;
    this.#watchBrowser(run);
    this.#log.info({ ms: Date.now() - started, browserPid: run.browserPid }, 'WhatsApp Web loaded');
  }

  /**
   * `initialize()` cannot be cancelled: a launch whose run was torn down meanwhile (stop, logout, our
   * init deadline) may still start its browser after the teardown swept the profile. Once it settles,
   * that browser is killed too, and the whole profile swept when no newer run uses it.
   */
  #reapLateBrowser(run: WwebjsRun, initialized: Promise<void>): void {
    const settled = initialized.then(
      () => undefined,
      () => undefined, // the launch's own failure is handled by #runClient
    );
    settled.then(async () => {
      if (run.teardown === null) return;
      await run.teardown;
      const pid = run.client.pupBrowser?.process()?.pid ?? null;
      if (pid !== null) killProcessGroup(pid);
      if (this.#run !== null) return;
      const { remaining } = await killSession(this.#profileDir, pid);
      if (remaining.length > 0) this.#log.error({ remaining }, 'Chromium processes of a late launch survived SIGKILL');
    }).catch((err: unknown) => this.#log.error({ err }, 'could not sweep a late Chromium launch'));
  }

  #watchBrowser(run: WwebjsRun): void {
    const browser = run.client.pupBrowser;
    const pid = browser?.process()?.pid ?? null;
    run.browserPid = pid;
    this.#reaper.track(this.#profileDir, pid);
    browser?.on('disconnected', () => {
      if (this.#run === run && run.teardown === null) {
        void this.#failRun(run, { reason: 'browser_crashed', detail: 'Chromium exited or closed its DevTools connection' });
      }
    });
  }

  /** Tear the run down and report; retry with backoff while attempts remain. */
  async #failRun(run: WwebjsRun, why: { reason: DisconnectReason; detail: string }, retryable = true): Promise<void> {
    if (this.#run !== run || run.teardown !== null) return;
    const retry = retryable && this.#running && this.#attempt + 1 < this.#opts.reconnect.maxAttempts;
    this.#log.warn({ reason: why.reason, detail: why.detail, attempt: this.#attempt, willReconnect: retry }, 'WhatsApp session ended');
    await this.#teardown(run, { saveSession: run.ready });
    if (this.#run !== run) return; // stopped meanwhile: stop() reports
    this.#run = null;
    if (retry) this.#scheduleReconnect();
    else this.#running = false;
    this.#events.enqueue(async () => {
      await this.#events.emit({ type: 'disconnected', reason: why.reason, willReconnect: retry, detail: why.detail });
      await this.#events.transition(retry ? 'reconnecting' : 'disconnected');
    });
  }

  #scheduleReconnect(): void {
    const { initialMs, maxMs } = this.#opts.reconnect;
    const delay = backoffDelay(this.#attempt, initialMs, maxMs, this.#opts.random);
    this.#attempt += 1;
    this.#log.info({ attempt: this.#attempt, delayMs: delay }, 'restarting WhatsApp Web after a delay');
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      if (this.#running && this.#run === null) this.#launch();
    }, delay);
  }

  /** Closes the client and makes sure no process of the profile is left. Idempotent per run. */
  #teardown(run: WwebjsRun, opts: { saveSession: boolean }): Promise<void> {
    run.teardown ??= (async () => {
      if (run.health) clearInterval(run.health);
      run.client.removeAllListeners();
      await withTimeout(run.client.destroy(), 10_000, () => new Error('destroy timed out')).catch((err: unknown) =>
        this.#log.warn({ err }, 'client.destroy failed; killing the browser'),
      );
      // After the browser closed its files: the zip is a consistent copy of the profile.
      if (opts.saveSession && this.#auth.kind === 'remote' && storesRemoteSession(run.strategy)) {
        await withTimeout(run.strategy.storeRemoteSession(), 60_000, () => new Error('session upload timed out')).catch((err: unknown) =>
          this.#log.warn({ err }, 'final remote auth upload failed'),
        );
      }
      const { remaining } = await killSession(this.#profileDir, run.browserPid);
      if (remaining.length > 0) this.#log.error({ remaining }, 'Chromium processes survived SIGKILL');
      this.#reaper.untrack(this.#profileDir);
    })();
    return run.teardown;
  }

  #onStoreError(err: unknown): void {
    const run = this.#run;
    if (run === null || (err as { code?: unknown }).code !== ErrorCodes.STALE_EPOCH) return;
    // Another node holds this tenant now: two browsers on one account would fight (CONFLICT).
    void this.#failRun(run, { reason: 'lease_lost', detail: 'another node took over this session' }, false);
  }

  #runEvents(run: WwebjsRun): RunEvents {
    return {
      isCurrent: () => this.#run === run && run.teardown === null,
      enqueue: (task) => this.#events.enqueue(task),
      emit: (event: EngineEvent) => this.#events.emit(event),
      transition: (state) => this.#events.transition(state),
      log: this.#log,
      backfill: this.#opts.backfill,
      onAuthenticated: () => {
        this.#credentials = JSON.stringify({ engine: 'wwebjs', auth: this.#auth.kind, session: sessionName(this.#auth.kind, this.tenantId) });
        return this.#credentials;
      },
      onReady: () => {
        this.#attempt = 0;
        this.#startHealthCheck(run);
      },
      onTerminal: (why) => {
        if (why.reason === 'logged_out') this.#credentials = null;
        return this.#failRun(run, why, false);
      },
    };
  }

  #startHealthCheck(run: WwebjsRun): void {
    if (run.health) clearInterval(run.health);
    const { intervalMs, timeoutMs } = this.#opts.health;
    run.health = setInterval(() => {
      if (this.#run !== run || this.#events.state !== 'connected') return;
      withTimeout(run.client.getState(), timeoutMs, () => new Error(`no answer within ${timeoutMs} ms`)).then(
        (state) => {
          if (state === null || state === undefined) void this.#failRun(run, { reason: 'unresponsive', detail: 'WhatsApp Web reports no connection state' });
        },
        (err: unknown) => void this.#failRun(run, { reason: 'unresponsive', detail: `health check failed: ${err instanceof Error ? err.message : String(err)}` }),
      );
    }, intervalMs);
  }

  // ---- event queue ------------------------------------------------------------------------------



}
