import { describe, expect, it } from 'vitest';
import type { AuthStore } from '../../../src/domain/auth-store.js';
import { ErrorCodes } from '../../../src/domain/errors.js';
import { createLogger } from '../../../src/domain/log.js';
import { createWwebjsEngine } from '../../../src/actors/engines/wwebjs-factory.js';
import { WwebjsEngine } from '../../../src/actors/engines/wwebjs.js';

const input = (engineOptions: Record<string, unknown>) => ({
  kind: 'wwebjs' as const,
  tenantId: '7d0f8a52-3c1e-4d7b-9a66-2f6a1c0e5b11',
  credentials: null,
  log: createLogger({ level: 'silent' }),
  simUrl: 'http://127.0.0.1:3100',
  engineOptions,
});

const memoryStore: AuthStore = {
  sessionExists: async () => false,
  save: async () => {},
  extract: async () => null,
  delete: async () => {},
};

describe('wwebjs engine factory', () => {
  it('builds a LocalAuth engine from the chromium path alone', async () => {
    const engine = await createWwebjsEngine(input({ chromiumPath: '/usr/bin/chromium' }));
    expect(engine).toBeInstanceOf(WwebjsEngine);
    expect((engine as WwebjsEngine).profileDir).toMatch(/\.wwebjs_auth\/session-7d0f8a52-3c1e-4d7b-9a66-2f6a1c0e5b11$/);
  });

  it('uses RemoteAuth when given a store, or a snapshot plus a way to forward writes', async () => {
    const direct = (await createWwebjsEngine(input({ chromiumPath: '/c', dataPath: '/d' }), { authStore: memoryStore })) as WwebjsEngine;
    expect(direct.profileDir).toBe('/d/RemoteAuth-7d0f8a52-3c1e-4d7b-9a66-2f6a1c0e5b11');
    const forwarded = (await createWwebjsEngine(input({ chromiumPath: '/c', dataPath: '/d', authSnapshot: null }), {
      forwardAuth: { save: () => {}, delete: () => {} },
    })) as WwebjsEngine;
    expect(forwarded.profileDir).toBe('/d/RemoteAuth-7d0f8a52-3c1e-4d7b-9a66-2f6a1c0e5b11');
  });

  it('refuses RemoteAuth without a store and options that do not validate', async () => {
    await expect(createWwebjsEngine(input({ chromiumPath: '/c', auth: 'remote' }))).rejects.toMatchObject({ code: ErrorCodes.ENGINE });
    await expect(createWwebjsEngine(input({}))).rejects.toMatchObject({ code: ErrorCodes.VALIDATION });
    await expect(createWwebjsEngine(input({ chromiumPath: '/c', backupSyncIntervalMs: 1_000 }))).rejects.toMatchObject({ code: ErrorCodes.VALIDATION });
  });
});
