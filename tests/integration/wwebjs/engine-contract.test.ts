import type WAWebJS from 'whatsapp-web.js';
import { afterAll, beforeAll } from 'vitest';
import { SandboxEngine } from '../../../src/actors/engines/sandbox.js';
import { WwebjsEngine } from '../../../src/actors/engines/wwebjs.js';
import { createLogger } from '../../../src/domain/log.js';
import type { Simulator } from '../../../src/simulator/server.js';
import { createPhone, phoneApi, startSimulator, type PhoneApi } from '../simulator/harness.js';
import { engineContract, type ContractNetwork } from './engine-contract.js';
import { tempDir } from './helpers.js';
import { scriptedChat, scriptedInfo, scriptedLibrary, scriptedMessage, type ScriptedClient } from './scripted-client.js';

/** The one Engine contract (engine-contract.ts) against both engines. */

const log = createLogger({ level: 'silent' });

// ---- sandbox: a real simulator, the contact is another phone on it -------------------------------

let sim: Simulator;
let api: PhoneApi;
beforeAll(async () => {
  sim = await startSimulator({ qrTimings: { firstMs: 10_000, nextMs: 10_000, maxQrs: 2 } });
  api = phoneApi(sim.url);
});
afterAll(async () => {
  await sim.close();
});

async function body<T>(res: Promise<{ status: number; body: unknown }>): Promise<T> {
  const r = await res;
  if (r.status >= 300) throw new Error(`simulator answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body as T;
}

engineContract('sandbox (simulator)', async () => {
  const account = await createPhone(api, 'Shop');
  const contact = await createPhone(api, 'Alice');
  const engine = new SandboxEngine({ tenantId: 'contract', credentials: null, log, url: sim.url, reconnect: { initialMs: 20, maxMs: 200 } });
  const network: ContractNetwork = {
    contact: `${contact}@c.us`,
    writeBeforeLink: async (text) => void (await body(api.post(`/phones/${contact}/messages`, { to: account, body: text }))),
    link: async (qr) => void (await body(api.post(`/phones/${account}/link`, { qr }))),
    async receive(text, media) {
      const m = media === undefined ? {} : { media: { mimetype: media.mimetype, filename: media.filename, dataBase64: media.data.toString('base64') } };
      return (await body<{ id: string }>(api.post(`/phones/${contact}/messages`, { to: account, body: text, ...m }))).id;
    },
    read: async () => void (await body(api.post(`/phones/${contact}/read`, { chatId: `${account}@c.us` }))),
    typeOnPhone: async (text) => (await body<{ id: string }>(api.post(`/phones/${account}/messages`, { to: contact, body: text }))).id,
    unlink: async () => void (await body(api.post(`/phones/${account}/unlink`))),
  };
  return { engine, network, close: async () => undefined };
});

// ---- wwebjs: whatsapp-web.js' Client scripted to do what WhatsApp Web does ---------------------

const ME = '491700000001';
const ALICE = '491700000002@c.us';

engineContract('wwebjs (scripted whatsapp-web.js client)', async () => {
  // Like WhatsApp Web without a stored login: the page shows a QR while initialize() runs.
  const scripted = await scriptedLibrary((c) => {
    c.initializeImpl = async () => c.fire('qr', `2@ref-${scripted.clients.length},key,identity,secret,android`);
  });
  const dir = await tempDir('wwebjs-engine-contract');
  const engine = new WwebjsEngine({
    tenantId: 'contract',
    credentials: null,
    log,
    chromiumPath: process.execPath, // passes the start check; the scripted client launches nothing
    dataPath: dir.path,
    auth: { kind: 'none' },
    setprivPath: null,
    webVersionCache: { type: 'none' },
    library: scripted.library,
  });
  let seq = 0;
  const history: WAWebJS.Message[] = [];
  const current = (): Promise<ScriptedClient> => scripted.client(scripted.clients.length - 1);
  const message = (fromMe: boolean, text: string, media?: { mimetype: string; filename: string; data: Buffer }): WAWebJS.Message =>
    scriptedMessage(
      {
        id: `M${++seq}`,
        from: fromMe ? `${ME}@c.us` : ALICE,
        to: fromMe ? ALICE : `${ME}@c.us`,
        fromMe,
        body: text,
        timestamp: 1_700_000_000 + seq,
        ...(media === undefined
          ? {}
          : { type: 'document' as WAWebJS.MessageTypes, media: { mimetype: media.mimetype, filename: media.filename, size: media.data.byteLength, base64: media.data.toString('base64') } }),
      },
      scripted.library,
    );
  const network: ContractNetwork = {
    contact: ALICE,
    async writeBeforeLink(text) {
      history.push(message(false, text));
    },
    async link() {
      const c = await current();
      c.info = scriptedInfo(ME, 'Shop');
      c.chats = [scriptedChat({ id: ALICE, name: 'Alice', timestamp: 1_700_000_000 + seq, messages: [...history] })];
      c.fire('authenticated');
      c.fire('ready');
    },
    async receive(text, media) {
      const c = await current();
      const m = message(false, text, media);
      c.messages.set(m.id._serialized, m);
      c.fire('message_create', m);
      c.fire('message', m);
      return m.id._serialized;
    },
    async read(sent) {
      const c = await current();
      const m = c.sentMessages.find((s) => s.id._serialized === sent.id);
      if (m === undefined) throw new Error(`the client did not send ${sent.id}`);
      c.fire('message_ack', m, 3 as WAWebJS.MessageAck);
    },
    async typeOnPhone(text) {
      const m = message(true, text);
      (await current()).fire('message_create', m);
      return m.id._serialized;
    },
    unlink: async () => (await current()).fire('disconnected', 'LOGOUT'),
  };
  return { engine, network, close: () => dir.remove() };
});
