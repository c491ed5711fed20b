import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type WAWebJS from 'whatsapp-web.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/domain/log.js';
import { openDatabase } from '../../../src/store/db.js';
import { createRemoteAuthStore } from '../../../src/store/remote-auth.js';
import { api, connectSocket, register, type Account, type RecordedSocket } from '../../helpers/client.js';
import { TEST_DATABASE_URL } from '../../helpers/db.js';
import { eventually } from '../../integration/wwebjs/helpers.js';
import { scriptedInfo, scriptedLibrary, type ScriptedClient, type ScriptedLibrary } from '../../integration/wwebjs/scripted-client.js';
import { behaviorModule, scripted } from './fixtures/scripted-session-actor.js';
import { startWwebjsNode, type WwebjsNode } from './harness.js';

/**
 * The wwebjs engine through the whole node, with whatsapp-web.js' Client scripted (no WhatsApp here)
 * but its RemoteAuth real: the browser profile is zipped by RemoteAuth, sent up by the actor, stored in
 * PostgreSQL fenced by the lease epoch, and handed back to the next start. Actors run in-process so the
 * test scripts the client the actor drives.
 */

const ME = '491700000001';
type Status = { status: string; reason: string | null };

let n: WwebjsNode;
let db: Awaited<ReturnType<typeof openDatabase>>;
let lib: ScriptedLibrary;
const sockets: RecordedSocket[] = [];

beforeAll(async () => {
  lib = await scriptedLibrary();
  scripted.library = lib.library;
  // Any executable passes the engine's start check: the scripted client never launches it.
  n = await startWwebjsNode({ env: { CHROMIUM_PATH: process.execPath }, actors: { isolation: 'in-process', behaviorModule } });
  db = await openDatabase({ url: TEST_DATABASE_URL, dataDir: '', poolSize: 1, schema: n.schema, log: createLogger({ level: 'silent' }) });
});
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
  scripted.engineOptions = {};
});
afterAll(async () => {
  await n?.close();
  await db?.close();
});

/** What RemoteAuth keeps of this tenant in PostgreSQL (null: nothing). */
function storedZip(tenantId: string): Promise<Uint8Array | null> {
  return createRemoteAuthStore(db.sql, tenantId, 0).extract(`RemoteAuth-${tenantId}`);
}

async function adminWithSocket(): Promise<{ admin: Account; socket: RecordedSocket; token: string; tenantId: string }> {
  const admin = await register(n.url, 'Admin');
  const socket = await connectSocket(n.url, admin.accessToken);
  sockets.push(socket);
  return { admin, socket, token: admin.accessToken, tenantId: admin.user.tenantId };
}

/** The next client the engine creates (a new scripted library per test keeps indexes per test). */
async function freshLibrary(): Promise<void> {
  lib = await scriptedLibrary();
  scripted.library = lib.library;
}

/** A fresh library, a health check every 100 ms and quick reconnects; an admin whose session is connected. */
async function connectedWithFastHealthCheck(): Promise<{ socket: RecordedSocket; token: string; tenantId: string; c0: ScriptedClient }> {
  await freshLibrary();
  scripted.engineOptions = { healthCheck: { intervalMs: 100, timeoutMs: 100 }, reconnect: { initialMs: 50, maxMs: 100 } };
  const { socket, token, tenantId } = await adminWithSocket();
  await api(n.url, 'POST', '/api/whatsapp/init', { token });
  const c0 = await lib.client(0);
  linkClient(c0);
  await socket.next<Status>('session_status', (s) => s.status === 'connected');
  return { socket, token, tenantId, c0 };
}

/** A linked WhatsApp Web: account info, then authenticated and ready. */
function linkClient(c: ScriptedClient): void {
  c.info = scriptedInfo(ME, 'Shop');
  c.chats = [];
  c.fire('authenticated');
  c.fire('ready');
}

/** What Chromium would have written into the profile of a logged-in WhatsApp Web. */
async function writeProfile(profile: string, marker: string): Promise<string> {
  const file = join(profile, 'Default', 'IndexedDB', 'https_web.whatsapp.com_0.indexeddb.leveldb', '000003.log');
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, marker);
  await mkdir(join(profile, 'Default', 'Local Storage', 'leveldb'), { recursive: true });
  await writeFile(join(profile, 'Default', 'Local Storage', 'leveldb', 'CURRENT'), 'MANIFEST-000001\n');
  return file;
}

describe('wwebjs sessions through the node with a scripted whatsapp-web.js', () => {
  it('links by pairing code, keeps the profile in PostgreSQL across a restart onto an empty disk, and forgets it on logout', async () => {
    await freshLibrary();
    const { socket, token, tenantId } = await adminWithSocket();
    const profile = n.profileDir(tenantId);
    expect((await api(n.url, 'POST', '/api/whatsapp/init', { token })).status).toBe(200);
    const c0 = await lib.client(0);
    // A RemoteAuth strategy on this node's data folder, nothing stored yet.
    expect(c0.options.authStrategy?.constructor.name).toBe('RemoteAuth');
    expect(c0.options.puppeteer?.userDataDir).toBe(profile);

    // Before a QR shows, there is nothing to pair with.
    const early = await api(n.url, 'POST', '/api/whatsapp/pairing-code', { token, body: { phone: '491701234567' } });
    expect(early.status).toBe(409);
    c0.fire('qr', '2@ref-1,key,identity,secret,android');
    await socket.next<Status>('session_status', (s) => s.status === 'qr');
    expect((await api(n.url, 'POST', '/api/whatsapp/pairing-code', { token, body: { phone: '+49 170' } })).status).toBe(400);
    const paired = await api<{ code: string }>(n.url, 'POST', '/api/whatsapp/pairing-code', { token, body: { phone: '491701234567' } });
    expect(paired.status).toBe(200);
    expect(paired.body).toEqual({ code: 'ABCD1234' });
    expect(await socket.next<{ code: string }>('pairing_code')).toEqual({ code: 'ABCD1234' });
    expect(c0.called('requestPairingCode')[0]?.args).toEqual(['491701234567', true, 2 ** 31 - 1]);

    linkClient(c0);
    await socket.next<Status>('session_status', (s) => s.status === 'connected');
    expect((await api(n.url, 'POST', '/api/whatsapp/pairing-code', { token, body: { phone: '491701234567' } })).status).toBe(409);
    const marker = `keys-${tenantId}`;
    const file = await writeProfile(profile, marker);
    expect(await storedZip(tenantId)).toBeNull();

    // The node stops: the actor's engine closes the client and RemoteAuth uploads the profile, which the
    // node stores before it lets go. The next node starts on an empty disk.
    await n.restart(async () => {
      const zip = await storedZip(tenantId);
      expect(Buffer.from(zip ?? []).subarray(0, 2).toString()).toBe('PK');
      await rm(n.wwebjsDir, { recursive: true, force: true });
    });
    const c1 = await lib.client(1);
    expect(await readFile(file, 'utf8')).toBe(marker);
    const again = await connectSocket(n.url, token);
    sockets.push(again);
    linkClient(c1);
    await again.next<Status>('session_status', (s) => s.status === 'connected');
    expect(again.events.some((e) => e.name === 'qr')).toBe(false);

    const out = await api<Status>(n.url, 'POST', '/api/whatsapp/logout', { token });
    expect(out.body.status).toBe('logged_out');
    expect(c1.called('logout')).toHaveLength(1);
    expect(await storedZip(tenantId)).toBeNull();
  });

  it('restarts a connected session that stops answering its health check, from the profile it uploaded', async () => {
    const { socket, token, tenantId, c0 } = await connectedWithFastHealthCheck();
    const file = await writeProfile(n.profileDir(tenantId), 'after the link');

    c0.stateImpl = () => new Promise<WAWebJS.WAState>(() => {});
    const down = await socket.next<Status>('session_status', (s) => s.status === 'disconnected');
    expect(down.reason).toBe('unresponsive: health check failed: no answer within 100 ms');
    const after = socket.events.findIndex((e) => e.payload === down);
    expect(await socket.next<Status>('session_status', (s) => s.status === 'starting', { from: after })).toEqual({
      status: 'starting',
      reason: 'retrying after unresponsive: health check failed: no answer within 100 ms',
    });
    const c1 = await lib.client(1);
    expect(c0.called('destroy')).toHaveLength(1);
    // RemoteAuth emptied the profile folder and unzipped what the failed run uploaded.
    expect(await readFile(file, 'utf8')).toBe('after the link');
    expect(await storedZip(tenantId)).not.toBeNull();
    linkClient(c1);
    const back = socket.events.length;
    await socket.next<Status>('session_status', (s) => s.status === 'connected', { from: back });
    await api(n.url, 'POST', '/api/whatsapp/logout', { token });
  });

  it('stops a session whose profile upload is refused because another node holds the lease, and a later logout wipes its local profile', async () => {
    const { token, tenantId, c0 } = await connectedWithFastHealthCheck();
    const file = await writeProfile(n.profileDir(tenantId), 'mine');

    // Another node claims the tenant (a newer lease epoch); this node's session runs on, until its next
    // upload: the health check fails, the run's profile goes up and is refused.
    const record = await n.node.store.sessions.get(tenantId);
    await n.node.store.sessions.claim(tenantId, (record?.leaseEpoch ?? 0) + 1, 'another-node');
    c0.stateImpl = () => new Promise<WAWebJS.WAState>(() => {});

    await eventually('the fenced actor stopped', async () =>
      n.logs.some((l) => l.includes('write fenced off') && l.includes(tenantId)) && lib.clients.every((c) => c.called('destroy').length > 0) ? true : undefined,
    );
    expect(await storedZip(tenantId)).toBeNull();
    // No actor runs it here any more: commands answer 409, and the intruder's claim stands.
    const pairing = await api(n.url, 'POST', '/api/whatsapp/pairing-code', { token, body: { phone: '491701234567' } });
    expect(pairing.status).toBe(409);
    expect((await n.node.store.sessions.get(tenantId))?.ownerNode).toBe('another-node');

    // A logout with no actor to do it: the node forgets the login itself, the keys on its disk included.
    const out = await api<Status>(n.url, 'POST', '/api/whatsapp/logout', { token });
    expect(out.body.status).toBe('logged_out');
    await expect(readFile(file, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
