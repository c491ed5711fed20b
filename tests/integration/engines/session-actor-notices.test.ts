import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionActor } from '../../../src/actors/session-actor.js';
import type { SessionEvent } from '../../../src/actors/session-protocol.js';
import type { Simulator } from '../../../src/simulator/server.js';
import { createPhone, phoneApi, startSimulator, type PhoneApi } from '../simulator/harness.js';

/**
 * The session actor over the sandbox engine and a real simulator, without the runtime: the node's
 * `session.persisted` notice (`tell`) is what lets the engine ack a stored message to the network, and it
 * works while a send of the same session waits for an answer the network does not give.
 */

const TENANT = '0d9c2f4e-6a1b-4c3d-9e8f-7a6b5c4d3e2f';

let sim: Simulator;
let api: PhoneApi;
beforeAll(async () => {
  sim = await startSimulator({ qrTimings: { firstMs: 5_000, nextMs: 5_000, maxQrs: 2 } });
  api = phoneApi(sim.url);
});
afterAll(async () => {
  await sim.close();
});

describe('session actor notices from the node', () => {
  it('acks a stored message when told, while a send waits for the network, and drops a malformed notice', async () => {
    const shop = await createPhone(api, 'Shop');
    const ann = await createPhone(api, 'Ann');
    const options = { engine: 'sandbox', credentials: null, simUrl: sim.url, mediaMaxBytes: 1_048_576, persistTimeoutMs: 30_000 };
    const actor = new SessionActor({ tenantId: TENANT, options });
    const events: SessionEvent[] = [];
    const waiters: { check: (e: SessionEvent) => boolean; resolve: (e: SessionEvent) => void }[] = [];
    const emit = (e: SessionEvent): void => {
      events.push(e);
      for (const w of waiters.filter((w) => w.check(e))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    };
    /** The first event (so far or to come) that passes `check`. */
    const next = (check: (e: SessionEvent) => boolean): Promise<SessionEvent> => {
      const found = events.find(check);
      return found !== undefined ? Promise.resolve(found) : new Promise((resolve) => waiters.push({ check, resolve }));
    };
    const warnings: string[] = [];
    const log = { info: () => undefined, debug: () => undefined, error: () => undefined, warn: (_obj: object, msg: string) => warnings.push(msg) };
    await actor.start({ tenantId: TENANT, emit, log });
    try {
      const qr = await next((e) => e.type === 'evt.qr');
      expect((await api.post(`/phones/${shop}/link`, { qr: qr.type === 'evt.qr' ? qr.qr : '' })).status).toBe(200);
      await next((e) => e.type === 'evt.status' && e.status === 'connected');

      // A send the network never answers: the actor's command waits for it.
      expect((await api.post(`/testing/phones/${shop}/stall`, { on: true })).status).toBe(204);
      let sendSettled = false;
      const send = actor.handle({ type: 'session.send', chatId: `${ann}@c.us`, body: 'unanswered' }).finally(() => (sendSettled = true));
      send.catch(() => undefined); // settled (rejected) after the stall is lifted, below

      expect((await api.post(`/phones/${ann}/messages`, { to: shop, body: 'hello' })).status).toBe(201);
      const delivered = await next((e) => e.type === 'evt.message');
      if (delivered.type !== 'evt.message') throw new Error('no message delivered');
      expect(delivered.message.body).toBe('hello');
      expect(sim.phone(shop)?.pendingDeliveries).toBe(1);

      actor.tell({ type: 'session.persisted', deliveryIds: 'all' });
      expect(warnings).toEqual(['dropped a malformed notice from the node']);
      actor.tell({ type: 'session.persisted', deliveryIds: [delivered.deliveryId], ok: true });
      await sim.until(() => sim.phone(shop)?.pendingDeliveries === 0);
      expect(sendSettled).toBe(false);

      expect((await api.post(`/testing/phones/${shop}/stall`, { on: false })).status).toBe(204);
    } finally {
      await actor.stop('test over');
    }
  });
});
