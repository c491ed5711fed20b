import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, connectSocket, register, type Account, type RecordedSocket } from '../../helpers/client.js';
import { eventually, noProcessesOf, processesOf } from '../../integration/wwebjs/helpers.js';
import { startWwebjsNode, type SeenStatus, type WwebjsNode } from './harness.js';

/**
 * The whole product on the wwebjs engine and the real Chromium, on a machine that cannot reach WhatsApp:
 * REST and Socket.IO in front, a child-process actor (ISOLATION auto) owning the browser. Four Chromium
 * launches in all, so the file stays near half a minute.
 */

/** Parent pid of a process, from /proc/<pid>/stat (the field after the command name). */
async function parentOf(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : null;
  } catch {
    return null; // gone meanwhile
  }
}

async function cmdline(pid: number): Promise<string[]> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter((a) => a !== '');
}

/** The browser of a set of profile processes: the one whose parent is not one of them (the actor). */
async function browserOf(pids: number[]): Promise<{ browser: number; actor: number }> {
  for (const pid of pids) {
    const parent = await parentOf(pid);
    if (parent !== null && !pids.includes(parent)) return { browser: pid, actor: parent };
  }
  throw new Error(`no browser root among ${pids.join(', ')}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('a wwebjs session through the node, on the real Chromium, without network', () => {
  let n: WwebjsNode;
  let admin: Account;
  let socket: RecordedSocket;
  const seen: SeenStatus[] = [];

  beforeAll(async () => {
    n = await startWwebjsNode();
    admin = await register(n.url, 'Admin');
    socket = await connectSocket(n.url, admin.accessToken);
    socket.socket.on('session_status', (s: { status: string; reason: string | null }) => seen.push({ ...s, at: Date.now() }));
  });
  afterAll(async () => {
    socket?.close();
    await n?.close();
  });

  /** Resolves with the `count`-th status (1-based) matching, as the admin's socket saw it. */
  function nth(count: number, match: (s: SeenStatus) => boolean, timeoutMs = 60_000): Promise<SeenStatus> {
    return eventually(`status #${count}`, async () => seen.filter(match)[count - 1], timeoutMs);
  }
  const failure = (s: SeenStatus): boolean => s.status === 'disconnected';
  const retry = (s: SeenStatus): boolean => s.status === 'starting' && (s.reason ?? '').startsWith('retrying after network');

  it('says why it cannot connect, retries with growing pauses, survives a killed actor, and leaves no Chromium after logout', async () => {
    const token = admin.accessToken;
    const profile = n.profileDir(admin.user.tenantId);
    expect((await api(n.url, 'POST', '/api/whatsapp/init', { token })).status).toBe(200);

    // The actor's Chromium runs on this tenant's profile, with our flags.
    const first = await browserOf(await processesOf(profile, 60_000));
    const args = await cmdline(first.browser);
    expect(args).toContain('--headless=new');
    expect(args).toContain(`--user-data-dir=${profile}`);
    expect((await cmdline(first.actor)).join(' ')).toContain('child-entry');

    // The reason names the network error; REST reads the same from the store.
    const f1 = await nth(1, failure);
    expect(f1.reason).toMatch(/^network: net::ERR_[A-Z_]+ at https:\/\/web\.whatsapp\.com/);
    const rest = await api<{ status: string; reason: string | null }>(n.url, 'GET', '/api/whatsapp/status', { token });
    expect(rest.body.reason).toContain('net::ERR_');

    // Backoff, not a tight loop: the pause before each retry is at least half the base delay (2 s) and
    // the second pause is no shorter than the first (2-4 s after 1-2 s).
    const r1 = await nth(1, retry);
    const f2 = await nth(2, failure);
    const r2 = await nth(2, retry);
    const pauses = [r1.at - f1.at, r2.at - f2.at];
    expect(pauses[0]).toBeGreaterThanOrEqual(900);
    expect(pauses[1]).toBeGreaterThanOrEqual(pauses[0] ?? 0);
    expect(seen.filter(failure).length).toBeLessThanOrEqual(3);

    // SIGKILL of the actor's process while its Chromium runs: the browser dies with it (parent-death
    // signal), not by the next start's sweep; the supervisor starts a new actor, which launches again.
    const third = await browserOf(await processesOf(profile, 60_000));
    const doomed = await processesOf(profile);
    process.kill(third.actor, 'SIGKILL');
    await eventually('the killed actor\'s Chromium gone', async () => (doomed.some(alive) ? undefined : true), 10_000);
    const next = await browserOf(await processesOf(profile, 60_000));
    expect(next.actor).not.toBe(third.actor);
    expect(n.logs.some((l) => l.includes('killed a leftover Chromium of this session'))).toBe(false);

    // Logout while that Chromium runs: nothing of the tenant's browser is left.
    const out = await api<{ status: string }>(n.url, 'POST', '/api/whatsapp/logout', { token });
    expect(out.status).toBe(200);
    expect(out.body.status).toBe('logged_out');
    await noProcessesOf(profile, 15_000);
    // The actor's process exits once its stop has run (the browser can be gone a moment before it).
    await eventually('the logged-out actor\'s process gone', async () => (alive(next.actor) ? undefined : true), 15_000);
    expect(alive(next.actor)).toBe(false);
  }, 180_000);
});
