import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine, EngineEvent } from '../../../src/actors/engines/engine.js';
import { findProfileProcesses } from '../../../src/actors/engines/wwebjs-processes.js';

/** Records every event of an engine and lets a test await the one it expects (no sleeps). */
export class EventLog {
  readonly events: EngineEvent[] = [];
  readonly #waiters = new Set<{ match: (e: EngineEvent) => boolean; resolve: (e: EngineEvent) => void }>();
  readonly #unsubscribe: () => void;

  constructor(engine: Engine) {
    this.#unsubscribe = engine.subscribe((event) => {
      this.events.push(event);
      for (const w of this.#waiters) {
        if (w.match(event)) {
          this.#waiters.delete(w);
          w.resolve(event);
        }
      }
    });
  }

  /** The first event after `fromIndex` (default: any recorded) that matches, waiting up to `timeoutMs`. */
  waitFor<T extends EngineEvent['type']>(
    type: T,
    match: (e: Extract<EngineEvent, { type: T }>) => boolean = () => true,
    opts: { fromIndex?: number; timeoutMs?: number } = {},
  ): Promise<Extract<EngineEvent, { type: T }>> {
    const test = (e: EngineEvent): e is Extract<EngineEvent, { type: T }> => e.type === type && match(e as Extract<EngineEvent, { type: T }>);
    const seen = this.events.slice(opts.fromIndex ?? 0).find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        match: test,
        resolve: (e: EngineEvent) => {
          clearTimeout(timer);
          resolve(e as Extract<EngineEvent, { type: T }>);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no ${type} event within ${opts.timeoutMs ?? 5_000} ms; got ${JSON.stringify(this.events.map((e) => e.type))}`));
      }, opts.timeoutMs ?? 5_000);
      this.#waiters.add(waiter);
    });
  }

  ofType<T extends EngineEvent['type']>(type: T): Extract<EngineEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<EngineEvent, { type: T }> => e.type === type);
  }

  close(): void {
    this.#unsubscribe();
  }
}

export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Polls until `check` returns a value other than undefined, or fails after `deadlineMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, deadlineMs = 10_000, pollMs = 50): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= until) throw new Error(`${what}: not reached within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Resolves once no process of the profile is alive (polling with a deadline); fails listing the survivors. */
export async function noProcessesOf(profileDir: string, deadlineMs = 10_000): Promise<void> {
  let last: number[] = [];
  try {
    await eventually(
      'all Chromium processes of the session gone',
      async () => {
        last = await findProfileProcesses(profileDir);
        return last.length === 0 ? true : undefined;
      },
      deadlineMs,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; still alive: ${last.join(', ')}`, { cause: err });
  }
}

/** Resolves with the profile's processes once at least one runs. */
export function processesOf(profileDir: string, deadlineMs = 20_000): Promise<number[]> {
  return eventually(
    'a Chromium process of the session running',
    async () => {
      const pids = await findProfileProcesses(profileDir);
      return pids.length > 0 ? pids : undefined;
    },
    deadlineMs,
  );
}
