import type { Logger } from '../../domain/log.js';
import type { Store } from '../../store/types.js';

/**
 * Brings back every session whose desired state is active, `concurrency` at a time, each start delayed
 * by a random jitter: a node restart with a thousand tenants is no thundering herd on the database, the
 * network or the CPU.
 */
export async function restoreActive(opts: {
  store: Store;
  log: Logger;
  resume: (tenantId: string) => Promise<void>;
  concurrency: number;
  jitterMs: number;
}): Promise<{ restored: number; failed: number }> {
  const tenants = await opts.store.sessions.listActive();
  let next = 0;
  let restored = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < tenants.length) {
      const tenantId = tenants[next++] as string;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * opts.jitterMs));
      try {
        await opts.resume(tenantId);
        restored++;
      } catch (err) {
        failed++;
        opts.log.warn({ err, tenantId }, 'could not restore a session');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, tenants.length) }, worker));
  opts.log.info({ restored, failed }, 'sessions restored');
  return { restored, failed };
}
