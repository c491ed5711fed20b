import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxEngine } from '../../../src/actors/engines/sandbox.js';
import type { EngineEvent } from '../../../src/actors/engines/engine.js';
import { createLogger } from '../../../src/domain/log.js';
import type { Simulator } from '../../../src/simulator/server.js';
import { createPhone, phoneApi, recordEngine, startSimulator, type PhoneApi } from '../simulator/harness.js';

/**
 * Inbound text messages are pipelined: the engine hands the next message to its listeners while the
 * previous one is still being stored, and acks each only once its listeners resolved (persist, then
 * ack). Without the pipeline a tenant is capped at one storage round trip per message.
 */

let sim: Simulator;
let api: PhoneApi;

beforeAll(async () => {
  sim = await startSimulator({ qrTimings: { firstMs: 5_000, nextMs: 5_000, maxQrs: 2 } });
  api = phoneApi(sim.url);
});
afterAll(async () => {
  await sim.close();
});

describe('SandboxEngine inbound pipeline', () => {
  it('hands on later messages while earlier ones are unstored, and acks each only once stored', async () => {
    const shop = await createPhone(api, 'Shop');
    const ann = await createPhone(api, 'Ann');
    const e = new SandboxEngine({ tenantId: 't-pipe', credentials: null, log: createLogger({ level: 'silent' }), url: sim.url });
    try {
      const rec = recordEngine(e);
      await e.start();
      const { qr } = await rec.next('qr');
      expect((await api.post(`/phones/${shop}/link`, { qr })).status).toBe(200);
      await rec.next('ready');

      // The listener stores nothing until the test says so.
      const handed: string[] = [];
      const store: Array<() => void> = [];
      let allHanded!: () => void;
      const threeHanded = new Promise<void>((resolve) => (allHanded = resolve));
      e.on('message', (event: Extract<EngineEvent, { type: 'message' }>) => {
        handed.push(event.message.body);
        if (handed.length === 3) allHanded();
        return new Promise<void>((resolve) => store.push(resolve));
      });
      for (const body of ['one', 'two', 'three']) await api.post(`/phones/${ann}/messages`, { to: shop, body });
      await threeHanded;
      expect(handed).toEqual(['one', 'two', 'three']);
      expect(sim.phone(shop)?.pendingDeliveries).toBe(3);

      store[1]?.();
      await sim.until(() => sim.phone(shop)?.pendingDeliveries === 2);
      for (const resolve of store) resolve();
      await sim.until(() => sim.phone(shop)?.pendingDeliveries === 0);
      expect(sim.stats().delivered).toBeGreaterThanOrEqual(3);
    } finally {
      await e.stop();
    }
  });
});
