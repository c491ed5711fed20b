import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Finding and killing the Chromium processes of one session, so none outlives its actor.
 *
 * A session's processes are recognised by their command line: every Chromium process (browser,
 * renderers, utilities, zygotes) carries `--user-data-dir=<profile>` (see cmdlineMatchesProfile for
 * the two forms it takes), and the profile folder is unique
 * per tenant. That finds them even when we never learned the browser's pid (a launch that hung), when
 * an earlier actor of the same tenant died without cleaning up, or when a process left the group.
 * The group kill (`kill(-pid)`) is the fast path; the scan is the proof and the fallback.
 */

/** Linux-only: this engine runs on Linux (Debian's Chromium). Elsewhere the scan finds nothing. */
const PROC = '/proc';

/**
 * Whether a /proc/<pid>/cmdline names this profile. The browser's arguments are NUL-separated, but
 * Chromium's child processes (zygotes, renderers, utilities) rewrite their title into one
 * space-separated string: accept the flag followed by a NUL, a space or the end.
 */
export function cmdlineMatchesProfile(raw: string, profileDir: string): boolean {
  const flag = `--user-data-dir=${profileDir}`;
  let at = raw.indexOf(flag);
  while (at !== -1) {
    const before = at === 0 ? '\0' : raw[at - 1];
    const after = raw[at + flag.length];
    if ((before === '\0' || before === ' ') && (after === undefined || after === '\0' || after === ' ')) return true;
    at = raw.indexOf(flag, at + 1);
  }
  return false;
}

function isPidName(name: string): boolean {
  return /^\d+$/.test(name);
}

/** Pids of live processes of this profile (zombies have an empty command line and do not count). */
export async function findProfileProcesses(profileDir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(PROC);
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const name of names) {
    if (!isPidName(name)) continue;
    let raw: string;
    try {
      raw = await readFile(join(PROC, name, 'cmdline'), 'utf8');
    } catch {
      continue; // exited while we looked
    }
    if (cmdlineMatchesProfile(raw, profileDir)) found.push(Number(name));
  }
  return found;
}

/** The same scan, synchronous, for process 'exit' hooks (no await possible there). */
export function findProfileProcessesSync(profileDir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(PROC);
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const name of names) {
    if (!isPidName(name)) continue;
    try {
      if (cmdlineMatchesProfile(readFileSync(join(PROC, name, 'cmdline'), 'utf8'), profileDir)) found.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** SIGKILL, ignoring "no such process" (it is what we want). */
function kill(target: number): void {
  try {
    process.kill(target, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Kill the browser's process group (when its pid is known) and every process of the profile, at once
 * and synchronously. Safe to call any number of times.
 */
export function killSessionSync(profileDir: string, browserPid: number | null): void {
  if (browserPid !== null && browserPid > 1) kill(-browserPid);
  for (const pid of findProfileProcessesSync(profileDir)) kill(pid);
}

/** SIGKILL to a browser's process group (Puppeteer starts it detached: it leads its own group). */
export function killProcessGroup(browserPid: number): void {
  if (browserPid > 1) kill(-browserPid);
}

export interface KillResult {
  /** Processes of the profile still alive at the deadline (0 means none is left). */
  remaining: number[];
}

/**
 * Kill and wait: repeats the kill until the scan finds no process of the profile or `deadlineMs`
 * passes. Polls because a process does not announce its death to a non-parent.
 */
export async function killSession(profileDir: string, browserPid: number | null, deadlineMs = 5_000, pollMs = 50): Promise<KillResult> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    killSessionSync(profileDir, browserPid);
    const remaining = await findProfileProcesses(profileDir);
    if (remaining.length === 0 || Date.now() >= until) return { remaining };
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Chromium's single-instance files. A leftover `SingletonLock` makes the next launch exit at once. */
const SINGLETON_FILES = ['SingletonLock', 'SingletonSocket', 'SingletonCookie'];

/**
 * Before a launch: kill whatever still runs on this profile (a previous actor of this tenant that
 * died without cleanup), then remove the singleton files it left. Only this node's actor for this
 * tenant uses the folder, so any process on it is a leftover.
 */
export async function prepareProfile(profileDir: string): Promise<{ killed: number; remaining: number[] }> {
  const before = await findProfileProcesses(profileDir);
  const { remaining } = before.length === 0 ? { remaining: [] } : await killSession(profileDir, null);
  for (const file of SINGLETON_FILES) await rm(join(profileDir, file), { force: true });
  return { killed: before.length - remaining.length, remaining };
}

/**
 * Per-process registry of running browsers, killed from a process 'exit' hook: the hook runs when
 * the actor's process (or worker thread) exits normally, by `process.exit`, or after an uncaught
 * exception. A SIGKILL runs no hook: that case is the parent-death signal's (wwebjs-chromium.ts).
 */
export class BrowserReaper {
  readonly #browsers = new Map<string, number | null>();
  #hooked = false;

  /** Remember (or update the pid of) the browser on `profileDir`. */
  track(profileDir: string, pid: number | null): void {
    this.#browsers.set(profileDir, pid ?? this.#browsers.get(profileDir) ?? null);
    if (!this.#hooked) {
      this.#hooked = true;
      process.on('exit', () => this.killAllSync());
    }
  }

  untrack(profileDir: string): void {
    this.#browsers.delete(profileDir);
  }

  get tracked(): ReadonlyMap<string, number | null> {
    return this.#browsers;
  }

  killAllSync(): void {
    for (const [profileDir, pid] of this.#browsers) {
      try {
        killSessionSync(profileDir, pid);
      } catch {
        // An exit hook must not throw; the parent-death signal still covers the browser.
      }
    }
  }
}

let processReaper: BrowserReaper | undefined;

/** The reaper of this process (or worker thread), made on first use: one exit hook per process. */
export function defaultReaper(): BrowserReaper {
  processReaper ??= new BrowserReaper();
  return processReaper;
}
