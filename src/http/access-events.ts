import type { FastifyBaseLogger } from 'fastify';

/**
 * Committed changes of who may see what, told to whoever else enforces access (the realtime channel
 * drops sockets from chat rooms, other nodes drop cached user state). The REST layer itself needs no
 * notice: it checks the store on every request.
 */
export type AccessChange =
  | { type: 'permission.assigned'; tenantId: string; userId: string; chatId: string }
  | { type: 'permission.revoked'; tenantId: string; userId: string; chatId: string }
  | { type: 'employee.disabled'; tenantId: string; userId: string };

export type AccessChangeListener = (change: AccessChange) => void | Promise<void>;

export type NotifyAccessChange = (change: AccessChange) => Promise<void>;

/**
 * Awaited before the route answers, so a client that sees the 204 can rely on open sockets being cut
 * too. A failing listener is logged, not thrown: the change is already committed and answering 500
 * would invite a retry of something that succeeded.
 */
export function createAccessNotifier(listener: AccessChangeListener | undefined, log: FastifyBaseLogger): NotifyAccessChange {
  return async (change) => {
    if (listener === undefined) return;
    try {
      await listener(change);
    } catch (err) {
      log.error({ err, change: change.type, tenantId: change.tenantId, userId: change.userId }, 'access change listener failed');
    }
  };
}
