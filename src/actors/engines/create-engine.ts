import type { LeveledLog } from '../../domain/log.js';
import type { Engine, EngineKind } from './engine.js';
import type { WwebjsFactoryDeps } from './wwebjs-factory.js';

export interface CreateEngineInput {
  kind: EngineKind;
  tenantId: string;
  credentials: string | null;
  log: LeveledLog;
  simUrl: string;
  engineOptions: Record<string, unknown>;
}

/** What cannot travel as data in the actor's options: callbacks into the actor (wwebjs RemoteAuth writes), test seams. */
export type CreateEngineDeps = Pick<WwebjsFactoryDeps, 'forwardAuth' | 'library'>;

/**
 * Builds the configured engine. Each implementation is imported lazily so a sandbox actor never loads
 * whatsapp-web.js (and its Puppeteer) and a wwebjs actor never loads the simulator client.
 */
export async function createEngine(input: CreateEngineInput, deps: CreateEngineDeps = {}): Promise<Engine> {
  switch (input.kind) {
    case 'sandbox': {
      const { SandboxEngine } = await import('./sandbox.js');
      return new SandboxEngine({ tenantId: input.tenantId, credentials: input.credentials, log: input.log, url: input.simUrl });
    }
    case 'wwebjs': {
      const { createWwebjsEngine } = await import('./wwebjs-factory.js');
      return createWwebjsEngine(input, deps);
    }
  }
}
