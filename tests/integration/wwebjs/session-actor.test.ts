import { mkdir, writeFile } from 'node:fs/promises';
import type WAWebJS from 'whatsapp-web.js';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionActor } from '../../../src/actors/session-actor.js';
import type { SessionEvent } from '../../../src/actors/session-protocol.js';
import { ErrorCodes } from '../../../src/domain/errors.js';
import { eventually, tempDir } from './helpers.js';
import { scriptedInfo, scriptedLibrary, type ScriptedLibrary } from './scripted-client.js';

/**
 * The session actor over the wwebjs engine (scripted whatsapp-web.js), without the runtime: what it
 * tells the node (statuses with reasons, RemoteAuth writes, pairing codes) for what the engine reports.
 */

const TENANT = '5b3f0c1e-9d2a-4e7b-8c61-0a4f2d9e7b13';
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

interface Harness {
  actor: SessionActor;
  lib: ScriptedLibrary;
  events: SessionEvent[];
  stops: string[];
  statuses(): { status: string; reason: string | null }[];
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function start(engineOptions: Record<string, unknown>, onCreate?: Parameters<typeof scriptedLibrary>[0]): Promise<Harness> {
  const lib = await scriptedLibrary(onCreate);
  const dir = await tempDir('session-actor');
  const options = {
    engine: 'wwebjs',
    credentials: null,
    simUrl: 'http://127.0.0.1:1',
    mediaMaxBytes: 1_048_576,
    persistTimeoutMs: 5_000,
    engineOptions: { chromiumPath: process.execPath, dataPath: dir.path, auth: 'none', webVersionSource: 'none', ...engineOptions },
  };
  const actor = new SessionActor({ tenantId: TENANT, options }, { engine: { library: lib.library } });
  const events: SessionEvent[] = [];
  const stops: string[] = [];
  await actor.start({ tenantId: TENANT, emit: (e) => events.push(e), log: quiet, requestStop: (reason) => stops.push(reason) });
  cleanup.push(async () => {
    await actor.stop('test over');
    await dir.remove();
  });
  const statuses = (): { status: string; reason: string | null }[] =>
    events.flatMap((e) => (e.type === 'evt.status' ? [{ status: e.status, reason: e.reason }] : []));
  return { actor, lib, events, stops, statuses };
}

async function linked(h: Harness, index = 0): Promise<void> {
  const c = await h.lib.client(index);
  c.info = scriptedInfo('491700000001', 'Shop');
  c.fire('authenticated');
  c.fire('ready');
  await eventually('connected', async () => (h.statuses().at(-1)?.status === 'connected' ? true : undefined), 5_000);
}

describe('session actor over the wwebjs engine', () => {
  it('reports a start it gave up on as failed with the engine\'s words, and asks to stop', async () => {
    const h = await start({ reconnect: { initialMs: 10, maxMs: 20, maxAttempts: 2 } }, (c) => {
      c.initializeImpl = () => Promise.reject(new Error('net::ERR_NAME_NOT_RESOLVED at https://web.whatsapp.com/'));
    });
    await eventually('stop requested', async () => (h.stops.length > 0 ? true : undefined), 5_000);
    const why = 'network: net::ERR_NAME_NOT_RESOLVED at https://web.whatsapp.com/';
    expect(h.statuses()).toEqual([
      { status: 'starting', reason: null },
      { status: 'disconnected', reason: why },
      { status: 'starting', reason: `retrying after ${why}` },
      { status: 'failed', reason: why },
    ]);
    expect(h.stops).toEqual(['failed']);
  });

  it('follows WhatsApp Web reconnecting by itself back to connected', async () => {
    const h = await start({});
    await linked(h);
    const c = await h.lib.client(0);
    c.fire('change_state', 'TIMEOUT' as WAWebJS.WAState);
    c.fire('change_state', 'CONNECTED' as WAWebJS.WAState);
    await eventually('connected again', async () => (h.statuses().length >= 4 ? true : undefined), 5_000);
    expect(h.statuses().slice(-3)).toEqual([
      { status: 'connected', reason: null },
      { status: 'starting', reason: 'reconnecting' },
      { status: 'connected', reason: null },
    ]);
  });

  it('answers a logout with one logged_out status, not the engine\'s own disconnect as a phone unlink', async () => {
    const h = await start({});
    await linked(h);
    expect(await h.actor.handle({ type: 'session.logout' })).toEqual({ ok: true });
    const out = h.statuses().filter((s) => s.status === 'logged_out');
    expect(out).toEqual([{ status: 'logged_out', reason: 'logout' }]);
    expect(h.events).toContainEqual({ type: 'evt.credentials', credentials: null });
    expect(h.stops).toEqual(['logged_out']);
  });

  it('hands out a pairing code while a QR shows, and refuses one when linked', async () => {
    const h = await start({});
    const c = await h.lib.client(0);
    c.fire('qr', 'ref-1');
    await eventually('qr', async () => (h.statuses().at(-1)?.status === 'qr' ? true : undefined), 5_000);
    expect(await h.actor.handle({ type: 'session.pairing_code', phone: '491701234567' })).toEqual({ code: 'ABCD1234' });
    await linked(h);
    await expect(h.actor.handle({ type: 'session.pairing_code', phone: '491701234567' })).rejects.toMatchObject({ code: ErrorCodes.SESSION_NOT_RUNNING });
  });

  it('sends RemoteAuth\'s upload of the profile to the node as evt.auth_save, and its delete on logout', async () => {
    const h = await start({ auth: 'remote', authSnapshot: null });
    await linked(h);
    const c = await h.lib.client(0);
    // What Chromium would have written: RemoteAuth zips Default/IndexedDB and Default/Local Storage.
    const profile = c.options.puppeteer?.userDataDir ?? '';
    await mkdir(`${profile}/Default/IndexedDB`, { recursive: true });
    await writeFile(`${profile}/Default/IndexedDB/keys`, 'secret keys');
    await h.actor.stop('restart');
    const save = h.events.find((e): e is Extract<SessionEvent, { type: 'evt.auth_save' }> => e.type === 'evt.auth_save');
    expect(save?.session).toBe(`RemoteAuth-${TENANT}`);
    expect(Buffer.from(save?.zip ?? []).subarray(0, 2).toString()).toBe('PK');
    // A plain stop keeps the stored login.
    expect(h.events.filter((e) => e.type === 'evt.auth_delete')).toHaveLength(0);

    await h.actor.handle({ type: 'session.connect' });
    await linked(h, 1);
    await h.actor.handle({ type: 'session.logout' });
    expect(h.events.filter((e) => e.type === 'evt.auth_delete')).toEqual([{ type: 'evt.auth_delete', session: `RemoteAuth-${TENANT}` }]);
  });
});
