import type WAWebJS from 'whatsapp-web.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/domain/errors.js';
import { createLogger } from '../../../src/domain/log.js';
import type { WwebjsLibrary } from '../../../src/actors/engines/wwebjs-library.js';
import { WwebjsEngine, type WwebjsEngineOptions } from '../../../src/actors/engines/wwebjs.js';
import { EventLog, tempDir } from './helpers.js';
import { scriptedChat, scriptedInfo, scriptedLibrary, scriptedMessage, type ScriptedClient, type ScriptedLibrary } from './scripted-client.js';

/**
 * Contract of the whatsapp-web.js adapter: the engine driven by a scripted Client that emits what
 * whatsapp-web.js emits (names and argument shapes from its index.d.ts) and answers its calls.
 */

const TENANT = '7d0f8a52-3c1e-4d7b-9a66-2f6a1c0e5b11';
const ME = '491700000001';
const ALICE = '491700000002@c.us';
const BOB = '491700000003@c.us';
const log = createLogger({ level: 'silent' });

let library: WwebjsLibrary;
let clients: ScriptedClient[];
let scripted: ScriptedLibrary;
let cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  // Loads the real whatsapp-web.js once: its MessageMedia and auth strategies stay real.
  await scriptedLibrary();
});

async function makeEngine(
  extra: Partial<WwebjsEngineOptions> = {},
  onCreate?: (client: ScriptedClient) => void,
): Promise<{ engine: WwebjsEngine; events: EventLog }> {
  scripted = await scriptedLibrary(onCreate);
  library = scripted.library;
  clients = scripted.clients;
  const dir = await tempDir('wwebjs-contract');
  const engine = new WwebjsEngine({
    tenantId: TENANT,
    credentials: null,
    log,
    // Any executable passes the start-up check; the scripted client never launches it.
    chromiumPath: process.execPath,
    dataPath: dir.path,
    auth: { kind: 'none' },
    setprivPath: null,
    webVersionCache: { type: 'none' },
    library,
    ...extra,
  });
  const events = new EventLog(engine);
  cleanup.push(async () => {
    events.close();
    await engine.stop();
    await dir.remove();
  });
  return { engine, events };
}

/** Client number `index` (0 = first launch), once the engine initialized it. */
function client(index = 0): Promise<ScriptedClient> {
  return scripted.client(index);
}

afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

function inbound(id: string, from: string, body: string, timestamp: number, extra: Partial<Parameters<typeof scriptedMessage>[0]> = {}): WAWebJS.Message {
  return scriptedMessage({ id, from, to: `${ME}@c.us`, fromMe: false, body, timestamp, ...extra }, library);
}

function outbound(id: string, to: string, body: string, timestamp: number): WAWebJS.Message {
  return scriptedMessage({ id, from: `${ME}@c.us`, to, fromMe: true, body, timestamp, ack: 3 as WAWebJS.MessageAck }, library);
}

/** QR, scan, history, ready: the engine ends up connected. */
async function link(events: EventLog): Promise<ScriptedClient> {
  const c = await client();
  c.fire('qr', '2@first-ref,key,identity,secret,android');
  await events.waitFor('qr');
  c.info = scriptedInfo(ME, 'Shop');
  c.chats = [
    scriptedChat({ id: ALICE, name: 'Alice', timestamp: 1_700_000_050, unreadCount: 1, messages: [outbound('H1', ALICE, 'hello Alice', 1_700_000_010), inbound('H2', ALICE, 'hi!', 1_700_000_050)] }),
    scriptedChat({ id: BOB, name: 'Bob', timestamp: 1_700_000_020, messages: [inbound('H3', BOB, 'order 42?', 1_700_000_020)] }),
    // Not a person or group chat: left out of the history.
    scriptedChat({ id: 'status@broadcast', name: 'Status', timestamp: 1_700_000_060, messages: [] }),
  ];
  c.fire('authenticated');
  c.fire('ready');
  await events.waitFor('ready');
  return c;
}

describe('wwebjs adapter against a scripted whatsapp-web.js client', () => {
  it('goes QR -> connected -> history -> inbound -> ack -> own phone message -> media -> disconnect -> logout', async () => {
    const { engine, events } = await makeEngine();
    await engine.start();
    await events.waitFor('state', (e) => e.state === 'connecting');
    const c = await client();
    expect(c.called('initialize')).toHaveLength(1);

    c.fire('qr', '2@ref-1,k,i,s,android');
    c.fire('qr', '2@ref-2,k,i,s,android');
    const second = await events.waitFor('qr', (e) => e.index === 1);
    expect(second.qr).toBe('2@ref-2,k,i,s,android');
    expect(engine.state).toBe('qr');

    c.info = scriptedInfo(ME, 'Shop');
    c.chats = [
      scriptedChat({ id: ALICE, name: 'Alice', timestamp: 1_700_000_050, unreadCount: 1, messages: [outbound('H1', ALICE, 'hello Alice', 1_700_000_010), inbound('H2', ALICE, 'hi!', 1_700_000_050)] }),
      scriptedChat({ id: 'status@broadcast', name: 'Status', timestamp: 1_700_000_060, messages: [] }),
    ];
    c.fire('authenticated');
    c.fire('ready');
    const ready = await events.waitFor('ready');
    expect(ready.me).toEqual({ number: ME, name: 'Shop' });
    expect(engine.state).toBe('connected');
    const auth = events.ofType('authenticated')[0];
    expect(JSON.parse(auth?.credentials ?? 'null')).toEqual({ engine: 'wwebjs', auth: 'none', session: `profile-${TENANT}` });
    expect(engine.credentials).toBe(auth?.credentials);
    // History comes before ready, oldest message first, only person/group chats.
    const history = events.ofType('chats');
    expect(history).toHaveLength(1);
    expect(history[0]?.chats).toEqual([
      { id: ALICE, name: 'Alice', isGroup: false, unreadCount: 1, lastMessageAt: new Date(1_700_000_050_000).toISOString(), lastMessagePreview: 'hi!' },
    ]);
    expect(history[0]?.messages.map((m) => [m.id, m.fromMe, m.from, m.chatId])).toEqual([
      [`true_${ALICE}_H1`, true, `${ME}@c.us`, ALICE],
      [`false_${ALICE}_H2`, false, ALICE, ALICE],
    ]);
    expect(events.events.findIndex((e) => e.type === 'chats')).toBeLessThan(events.events.findIndex((e) => e.type === 'ready'));

    // Inbound: whatsapp-web.js emits message_create and message for it; the engine reports it once.
    const hello = inbound('IN1', ALICE, 'do you have it in blue?', 1_700_000_070);
    c.fire('message_create', hello);
    c.fire('message', hello);
    const got = await events.waitFor('message', (e) => e.message.id === `false_${ALICE}_IN1`);
    expect(got.message).toMatchObject({ chatId: ALICE, from: ALICE, fromMe: false, body: 'do you have it in blue?', type: 'chat', hasMedia: false });
    expect(got.media).toBeNull();

    // Our send: resolves at ack 1; its message_create comes as a fromMe message before its acks.
    const sent = await engine.sendMessage(ALICE, { body: 'yes, in blue' });
    expect(c.called('sendMessage')[0]?.args).toEqual([ALICE, 'yes, in blue', { waitUntilMsgSent: true }]);
    expect(sent.message).toMatchObject({ chatId: ALICE, fromMe: true, body: 'yes, in blue', ack: 1, from: `${ME}@c.us` });
    const sentEvent = await events.waitFor('message', (e) => e.message.id === sent.id);
    expect(sentEvent.message.fromMe).toBe(true);
    const sentMsg = c.sentMessages[0];
    if (sentMsg === undefined) throw new Error('nothing sent');
    c.fire('message_ack', sentMsg, 3 as WAWebJS.MessageAck);
    const ack = await events.waitFor('message_ack', (e) => e.id === sent.id);
    expect(ack).toEqual({ type: 'message_ack', id: sent.id, chatId: ALICE, ack: 3 });
    expect(events.events.indexOf(sentEvent)).toBeLessThan(events.events.indexOf(ack));

    // Typed on the linked phone: only message_create, fromMe.
    c.fire('message_create', outbound('PHONE1', BOB, 'typed on the phone', 1_700_000_080));
    const fromPhone = await events.waitFor('message', (e) => e.message.id === `true_${BOB}_PHONE1`);
    expect(fromPhone.message).toMatchObject({ chatId: BOB, fromMe: true, from: `${ME}@c.us`, body: 'typed on the phone' });

    // Media in: metadata with the event, bytes on download.
    const photo = Buffer.from('fake-jpeg-bytes');
    const picture = inbound('IMG1', ALICE, 'the blue one', 1_700_000_090, {
      type: 'image' as WAWebJS.MessageTypes,
      media: { mimetype: 'image/jpeg', filename: 'blue.jpg', size: photo.byteLength, base64: photo.toString('base64') },
    });
    c.messages.set(picture.id._serialized, picture);
    c.fire('message', picture);
    const mediaEvent = await events.waitFor('message', (e) => e.message.id === picture.id._serialized);
    expect(mediaEvent.message).toMatchObject({ type: 'image', hasMedia: true, body: 'the blue one' });
    expect(mediaEvent.media).toEqual({ mimetype: 'image/jpeg', filename: 'blue.jpg', size: photo.byteLength });
    const file = await engine.downloadMedia(picture.id._serialized);
    expect(file?.mimetype).toBe('image/jpeg');
    expect(file?.filename).toBe('blue.jpg');
    expect(Buffer.from(file?.data ?? []).equals(photo)).toBe(true);
    expect(await engine.downloadMedia(`false_${ALICE}_UNKNOWN`)).toBeNull();

    // Media out: a real MessageMedia with the bytes in base64 and the body as caption.
    const pdf = new Uint8Array([0x25, 0x50, 0x44, 0x46]);
    const sentPdf = await engine.sendMessage(ALICE, { body: 'the invoice', media: { mimetype: 'application/pdf', filename: 'invoice.pdf', data: pdf } });
    const [, content, options] = c.called('sendMessage')[1]?.args ?? [];
    const { default: wwebjs } = await import('whatsapp-web.js');
    expect(content).toBeInstanceOf(wwebjs.MessageMedia);
    expect(content).toMatchObject({ mimetype: 'application/pdf', filename: 'invoice.pdf', data: Buffer.from(pdf).toString('base64') });
    expect(options).toEqual({ caption: 'the invoice', waitUntilMsgSent: true });
    expect(sentPdf.message).toMatchObject({ hasMedia: true, body: 'the invoice', fromMe: true });

    // A dropped WhatsApp socket: WhatsApp Web reconnects by itself (TIMEOUT, then CONNECTED).
    c.fire('change_state', 'TIMEOUT' as WAWebJS.WAState);
    await events.waitFor('state', (e) => e.state === 'reconnecting');
    c.fire('change_state', 'CONNECTED' as WAWebJS.WAState);
    const back = events.events.length;
    await events.waitFor('state', (e) => e.state === 'connected', { fromIndex: back - 1 });

    // Logout: unlinks through the client, closes it, forgets the login.
    await engine.logout();
    expect(c.called('logout')).toHaveLength(1);
    expect(c.called('destroy')).toHaveLength(1);
    const out = await events.waitFor('disconnected');
    expect(out).toMatchObject({ reason: 'logged_out', willReconnect: false });
    expect(engine.credentials).toBeNull();
    expect(engine.state).toBe('disconnected');
  });

  it('reports a conflict as a terminal disconnect and closes the client', async () => {
    const { engine, events } = await makeEngine();
    await engine.start();
    const c = await link(events);
    c.fire('change_state', 'CONFLICT' as WAWebJS.WAState);
    c.fire('disconnected', 'CONFLICT' as WAWebJS.WAState);
    const gone = await events.waitFor('disconnected');
    expect(gone).toMatchObject({ reason: 'conflict', willReconnect: false });
    await events.waitFor('state', (e) => e.state === 'disconnected');
    expect(c.called('destroy')).toHaveLength(1);
    await expect(engine.sendMessage(ALICE, { body: 'x' })).rejects.toMatchObject({ code: ErrorCodes.SESSION_NOT_RUNNING });
  });

  it('reports an unlinked device as logged_out and forgets the credentials', async () => {
    const { engine, events } = await makeEngine();
    await engine.start();
    const c = await link(events);
    c.fire('disconnected', 'LOGOUT');
    expect(await events.waitFor('disconnected')).toMatchObject({ reason: 'logged_out', willReconnect: false });
    expect(engine.credentials).toBeNull();
  });

  it('gives up with qr_timeout when whatsapp-web.js runs out of QR retries', async () => {
    const { engine, events } = await makeEngine({ qrMaxRetries: 2 });
    await engine.start();
    const c = await client();
    expect(c.options.qrMaxRetries).toBe(2);
    c.fire('qr', 'a');
    c.fire('disconnected', 'Max qrcode retries reached' as WAWebJS.WAState);
    expect(await events.waitFor('disconnected')).toMatchObject({ reason: 'qr_timeout', willReconnect: false });
  });

  it('hands out a pairing code while waiting for a link, and refuses before', async () => {
    const { engine, events } = await makeEngine();
    await engine.start();
    const c = await client();
    await expect(engine.requestPairingCode('491701234567')).rejects.toMatchObject({ code: ErrorCodes.SESSION_NOT_RUNNING });
    c.fire('qr', 'ref');
    await events.waitFor('qr');
    await expect(engine.requestPairingCode('+49 170')).rejects.toMatchObject({ code: ErrorCodes.VALIDATION });
    expect(await engine.requestPairingCode('491701234567')).toBe('ABCD1234');
    // No silent rotation: whatsapp-web.js would replace the code every intervalMs behind our back.
    expect(c.called('requestPairingCode')[0]?.args).toEqual(['491701234567', true, 2 ** 31 - 1]);
  });

  it('names LID contacts by their phone number and skips chats it cannot name', async () => {
    const { engine, events } = await makeEngine();
    await engine.start();
    const c = await link(events);
    c.lids.set('123456789012345@lid', ALICE);
    c.fire('message', inbound('LID1', '123456789012345@lid', 'via lid', 1_700_000_100));
    c.fire('message', inbound('NEWS', '120363000000000000@newsletter', 'channel post', 1_700_000_101));
    c.fire('message', inbound('AFTER', BOB, 'after', 1_700_000_102));
    await events.waitFor('message', (e) => e.message.body === 'after');
    const bodies = events.ofType('message').map((e) => [e.message.body, e.message.chatId]);
    expect(bodies).toContainEqual(['via lid', ALICE]);
    expect(bodies.map(([b]) => b)).not.toContain('channel post');
  });

  it('maps send failures: unknown chat, bad chat id, not connected', async () => {
    const { engine, events } = await makeEngine();
    await expect(engine.sendMessage(ALICE, { body: 'x' })).rejects.toMatchObject({ code: ErrorCodes.SESSION_NOT_RUNNING });
    await engine.start();
    await link(events);
    await expect(engine.sendMessage('491799999999@c.us', { body: 'x' })).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
    await expect(engine.sendMessage('not-a-chat', { body: 'x' })).rejects.toMatchObject({ code: ErrorCodes.VALIDATION });
    await expect(engine.sendMessage(ALICE, { body: '  ' })).rejects.toMatchObject({ code: ErrorCodes.VALIDATION });
  });

  it('fetches a profile photo from the URL whatsapp-web.js returns', async () => {
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0]);
    const fetched: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      fetched.push(String(input));
      return new Response(jpeg, { status: 200, headers: { 'content-type': 'image/jpeg' } });
    };
    const { engine, events } = await makeEngine({ fetch: fakeFetch });
    await engine.start();
    const c = await link(events);
    c.profilePics.set(ALICE, 'https://pps.whatsapp.net/v/alice.jpg');
    const photo = await engine.getProfilePhoto(ALICE);
    expect(photo?.mimetype).toBe('image/jpeg');
    expect([...(photo?.data ?? [])]).toEqual([...jpeg]);
    expect(fetched).toEqual(['https://pps.whatsapp.net/v/alice.jpg']);
    expect(await engine.getProfilePhoto(BOB)).toBeNull();
  });

  it('retries a start that cannot reach WhatsApp with backoff, then gives up with the reason', async () => {
    const offline = (c: ScriptedClient): void => {
      c.initializeImpl = () => Promise.reject(new Error('net::ERR_NAME_NOT_RESOLVED at https://web.whatsapp.com/'));
    };
    const { engine, events } = await makeEngine({ reconnect: { initialMs: 20, maxMs: 40, maxAttempts: 2 } }, offline);
    await engine.start();
    const first = await events.waitFor('disconnected');
    expect(first).toEqual({ type: 'disconnected', reason: 'network', willReconnect: true, detail: 'net::ERR_NAME_NOT_RESOLVED at https://web.whatsapp.com/' });
    await events.waitFor('state', (e) => e.state === 'reconnecting');
    const last = await events.waitFor('disconnected', (e) => !e.willReconnect);
    expect(last.reason).toBe('network');
    expect(clients).toHaveLength(2);
    for (const c of clients) expect(c.called('destroy')).toHaveLength(1);
    await events.waitFor('state', (e) => e.state === 'disconnected');
  });

  it('does not wait forever for a page that never loads', async () => {
    const hang = (c: ScriptedClient): void => {
      c.initializeImpl = () => new Promise<void>(() => {});
    };
    const { engine, events } = await makeEngine({ initTimeoutMs: 50, reconnect: { maxAttempts: 1 } }, hang);
    await engine.start();
    const gone = await events.waitFor('disconnected');
    expect(gone).toEqual({ type: 'disconnected', reason: 'network', willReconnect: false, detail: 'WhatsApp Web did not load within 50 ms' });
    expect((await client()).called('destroy')).toHaveLength(1);
  });

  it('restarts a session that says connected but stops answering', async () => {
    const { engine, events } = await makeEngine({ healthCheck: { intervalMs: 20, timeoutMs: 20 }, reconnect: { initialMs: 10, maxMs: 10 } });
    await engine.start();
    const c = await link(events);
    c.stateImpl = () => new Promise<WAWebJS.WAState>(() => {});
    const gone = await events.waitFor('disconnected');
    expect(gone).toMatchObject({ reason: 'unresponsive', willReconnect: true });
    await events.waitFor('state', (e) => e.state === 'connecting', { fromIndex: events.events.indexOf(gone) });
    expect(c.called('destroy')).toHaveLength(1);
    await client(1);
    expect(clients).toHaveLength(2);
  });

  it('reports a launch it cannot prepare as a terminal start failure', async () => {
    const real = (await scriptedLibrary()).library;
    const broken: WwebjsLibrary = {
      ...real,
      createClient: () => {
        throw new Error('RemoteAuth needs fs-extra');
      },
    };
    const { engine, events } = await makeEngine({ library: broken });
    await engine.start();
    expect(await events.waitFor('disconnected')).toEqual({ type: 'disconnected', reason: 'start_failed', willReconnect: false, detail: 'RemoteAuth needs fs-extra' });
    await events.waitFor('state', (e) => e.state === 'disconnected');
  });

  it('configures whatsapp-web.js: pinned web version, our Chromium flags, proxy, auth strategy', async () => {
    const { engine } = await makeEngine({
      webVersion: '2.3000.1',
      webVersionCache: { type: 'local', path: '/tmp/web-cache', strict: true },
      proxy: { server: 'http://proxy.internal:3128', username: 'u', password: 'p' },
      isRoot: false,
    });
    await engine.start();
    const opts = (await client()).options;
    expect(opts.webVersion).toBe('2.3000.1');
    expect(opts.webVersionCache).toEqual({ type: 'local', path: '/tmp/web-cache', strict: true });
    expect(opts.proxyAuthentication).toEqual({ username: 'u', password: 'p' });
    expect(opts.takeoverOnConflict).toBe(false);
    const { default: wwebjs } = await import('whatsapp-web.js');
    expect(opts.authStrategy).toBeInstanceOf(wwebjs.NoAuth);
    const args = opts.puppeteer?.args ?? [];
    expect(args).toContain('--proxy-server=http://proxy.internal:3128');
    expect(args).toContain(`--user-data-dir=${engine.profileDir}`);
    expect(args).toContain('--headless=new');
    expect(args).not.toContain('--no-sandbox');
    expect(opts.puppeteer).toMatchObject({ executablePath: process.execPath, ignoreDefaultArgs: true, pipe: true, userDataDir: engine.profileDir });
  });
});
