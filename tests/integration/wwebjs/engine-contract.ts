import { afterEach, describe, expect, it } from 'vitest';
import type { Engine, SentMessage } from '../../../src/actors/engines/engine.js';
import { ErrorCodes } from '../../../src/domain/errors.js';
import { EventLog } from './helpers.js';

/**
 * The Engine port's contract, one suite for every implementation (DESIGN.md: "one suite per port run
 * against every implementation"). Each implementation brings a `ContractNetwork`: what the other side
 * of the connection does (the simulator's phone API for sandbox, a scripted whatsapp-web.js Client for
 * wwebjs). What only one engine does (sandbox redelivery, wwebjs' Chromium and health check) stays in
 * its own tests.
 */

export interface ContractMedia {
  mimetype: string;
  filename: string;
  data: Buffer;
}

export interface ContractNetwork {
  /** Chat id of a contact of the account. */
  readonly contact: string;
  /** Before linking, the contact wrote `body`: the history sync must bring it. */
  writeBeforeLink(body: string): Promise<void>;
  /** The account's phone links this device through the QR the engine showed. */
  link(qr: string): Promise<void>;
  /** The contact sends a message (with a file); resolves with the message id the engine reports. */
  receive(body: string, media?: ContractMedia): Promise<string>;
  /** The contact read a message the engine sent (ack 3). */
  read(sent: SentMessage): Promise<void>;
  /** The account's owner types a message to the contact on the linked phone; resolves with its id. */
  typeOnPhone(body: string): Promise<string>;
  /** The phone unlinks this device. */
  unlink(): Promise<void>;
}

export interface ContractSubject {
  /** Not started, without credentials. */
  engine: Engine;
  network: ContractNetwork;
  close(): Promise<void>;
}

const UNKNOWN_CHAT = '491799999999@c.us';

export function engineContract(name: string, create: () => Promise<ContractSubject>): void {
  describe(`Engine contract: ${name}`, () => {
    const open: { subject: ContractSubject; events: EventLog }[] = [];
    afterEach(async () => {
      for (const { subject, events } of open.splice(0)) {
        events.close();
        await subject.engine.stop();
        await subject.close();
      }
    });

    async function subject(): Promise<{ engine: Engine; network: ContractNetwork; events: EventLog }> {
      const s = await create();
      const events = new EventLog(s.engine);
      open.push({ subject: s, events });
      return { engine: s.engine, network: s.network, events };
    }

    /** Started, QR shown, linked, ready. */
    async function linked(): Promise<{ engine: Engine; network: ContractNetwork; events: EventLog }> {
      const s = await subject();
      await s.engine.start();
      const { qr } = await s.events.waitFor('qr');
      await s.network.link(qr);
      await s.events.waitFor('ready');
      return s;
    }

    it('links through a QR: connecting, qr, credentials, the history before ready, connected', async () => {
      const { engine, network, events } = await subject();
      expect(engine.state).toBe('stopped');
      expect(engine.credentials).toBeNull();
      await network.writeBeforeLink('written before the link');
      await engine.start();
      await events.waitFor('state', (e) => e.state === 'connecting');
      const qr = await events.waitFor('qr');
      expect(qr.index).toBe(0);
      expect(qr.qr.length).toBeGreaterThan(0);
      expect(engine.state).toBe('qr');

      await network.link(qr.qr);
      const ready = await events.waitFor('ready');
      expect(ready.me.number).toMatch(/^[0-9]+$/);
      expect(engine.state).toBe('connected');
      const auth = events.ofType('authenticated')[0];
      expect(auth?.credentials.length).toBeGreaterThan(0);
      expect(engine.credentials).toBe(auth?.credentials);
      const history = events.ofType('chats');
      expect(history.flatMap((h) => h.chats.map((c) => c.id))).toContain(network.contact);
      expect(history.flatMap((h) => h.messages)).toContainEqual(
        expect.objectContaining({ chatId: network.contact, fromMe: false, body: 'written before the link' }),
      );
      const order = events.events.map((e) => e.type);
      expect(order.indexOf('authenticated')).toBeLessThan(order.indexOf('ready'));
      expect(order.lastIndexOf('chats')).toBeLessThan(order.indexOf('ready'));
    });

    it('reports inbound messages, its own sends before their acks, messages typed on the phone, and read acks', async () => {
      const { engine, network, events } = await linked();
      const inId = await network.receive('do you have it in blue?');
      const inbound = await events.waitFor('message', (e) => e.message.id === inId);
      expect(inbound.message).toMatchObject({ chatId: network.contact, from: network.contact, fromMe: false, body: 'do you have it in blue?', hasMedia: false });
      expect(inbound.media).toBeNull();

      const sent = await engine.sendMessage(network.contact, { body: 'yes, in blue' });
      expect(sent.message).toMatchObject({ id: sent.id, chatId: network.contact, fromMe: true, body: 'yes, in blue', ack: 1 });
      expect(new Date(sent.timestamp).toISOString()).toBe(sent.timestamp);
      const own = await events.waitFor('message', (e) => e.message.id === sent.id);
      expect(own.message.fromMe).toBe(true);
      await network.read(sent);
      const read = await events.waitFor('message_ack', (e) => e.id === sent.id && e.ack === 3);
      expect(read.chatId).toBe(network.contact);
      const firstAck = events.events.findIndex((e) => e.type === 'message_ack' && e.id === sent.id);
      expect(events.events.indexOf(own)).toBeLessThan(firstAck);

      const typedId = await network.typeOnPhone('typed on the phone');
      const typed = await events.waitFor('message', (e) => e.message.id === typedId);
      expect(typed.message).toMatchObject({ chatId: network.contact, fromMe: true, body: 'typed on the phone' });
    });

    it('describes inbound media with the message and hands out its bytes', async () => {
      const { engine, network, events } = await linked();
      const data = Buffer.from('%PDF-1.4 the invoice');
      const id = await network.receive('the invoice', { mimetype: 'application/pdf', filename: 'invoice.pdf', data });
      const got = await events.waitFor('message', (e) => e.message.id === id);
      expect(got.message).toMatchObject({ hasMedia: true, body: 'the invoice' });
      expect(got.media).toEqual({ mimetype: 'application/pdf', filename: 'invoice.pdf', size: data.byteLength });
      const file = await engine.downloadMedia(id);
      expect(file?.mimetype).toBe('application/pdf');
      expect(file?.filename).toBe('invoice.pdf');
      expect(Buffer.from(file?.data ?? []).equals(data)).toBe(true);
    });

    it('refuses what it cannot serve with coded errors instead of hanging', async () => {
      const { engine, network, events } = await subject();
      await expect(engine.sendMessage(network.contact, { body: 'too early' })).rejects.toMatchObject({ code: ErrorCodes.SESSION_NOT_RUNNING });
      await engine.start();
      const { qr } = await events.waitFor('qr');
      // A pairing code, where the engine offers one, is only for a session waiting for a link.
      if (engine.requestPairingCode !== undefined) expect(await engine.requestPairingCode('491701234567')).toMatch(/^[A-Z0-9-]{8,9}$/);
      await network.link(qr);
      await events.waitFor('ready');
      if (engine.requestPairingCode !== undefined) {
        await expect(engine.requestPairingCode('491701234567')).rejects.toMatchObject({ code: ErrorCodes.SESSION_NOT_RUNNING });
      }
      await expect(engine.sendMessage('not-a-chat', { body: 'x' })).rejects.toMatchObject({ code: ErrorCodes.VALIDATION });
      await expect(engine.sendMessage(UNKNOWN_CHAT, { body: 'x' })).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
    });

    it('ends for good with logged_out when the phone unlinks the device, and forgets the credentials', async () => {
      const { engine, network, events } = await linked();
      await network.unlink();
      expect(await events.waitFor('disconnected')).toMatchObject({ reason: 'logged_out', willReconnect: false });
      expect(engine.credentials).toBeNull();
      await expect(engine.sendMessage(network.contact, { body: 'x' })).rejects.toMatchObject({ code: ErrorCodes.SESSION_NOT_RUNNING });
    });

    it('logs out on request: logged_out, no credentials', async () => {
      const { engine, events } = await linked();
      await engine.logout();
      expect(await events.waitFor('disconnected')).toMatchObject({ reason: 'logged_out', willReconnect: false });
      expect(engine.credentials).toBeNull();
    });

    it('stops idempotently, reports stopped once, and keeps its credentials', async () => {
      const { engine, events } = await linked();
      const credentials = engine.credentials;
      await Promise.all([engine.stop(), engine.stop()]);
      await engine.stop();
      expect(engine.state).toBe('stopped');
      expect(events.ofType('state').filter((e) => e.state === 'stopped')).toHaveLength(1);
      expect(engine.credentials).toBe(credentials);
    });
  });
}
