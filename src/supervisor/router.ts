import { randomUUID } from 'node:crypto';
import { AppError, ErrorCodes, isAppError } from '../domain/errors.js';
import type { Logger } from '../domain/log.js';
import type { Bus } from './cluster/bus.js';
import { errorFromWire, parseRouteFrame, type RouteFrame, type RouteRequest } from './route-protocol.js';

/**
 * Commands between nodes: a node that receives a command for a tenant it does not own sends it to the
 * owner's channel (`rpc:<nodeId>` on the bus) and waits for the answer on its own. Request/reply with a
 * correlation id and a deadline, like an actor call.
 */
export interface Router {
  /**
   * Runs `request` on node `nodeId` and resolves with its reply value. Rejects with WA_OWNER_UNAVAILABLE
   * (details.reason `unreachable`) when no node listens on that channel: the request was not delivered,
   * so sending it elsewhere is safe; WA_ACTOR_TIMEOUT (details.routed true) when no answer came within
   * `timeoutMs`; or the error the owner answered with.
   */
  request(nodeId: string, request: RouteRequest, timeoutMs: number): Promise<unknown>;
  /** Fails the requests still waiting and stops answering. */
  close(): Promise<void>;
}

export interface RouterOptions {
  bus: Bus;
  nodeId: string;
  /** Runs a request that another node sent here; its result (or error) is the reply. */
  handle(request: RouteRequest): Promise<unknown>;
  log: Logger;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export const rpcChannel = (nodeId: string): string => `rpc:${nodeId}`;

export async function createRouter(opts: RouterOptions): Promise<Router> {
  const log = opts.log.child({ component: 'router' });
  const pending = new Map<string, Pending>();
  let closed = false;

  const send = (nodeId: string, frame: RouteFrame): Promise<number> => opts.bus.publish(rpcChannel(nodeId), JSON.stringify(frame));

  function settle(frame: Extract<RouteFrame, { kind: 'res' }>): void {
    const call = pending.get(frame.id);
    if (call === undefined) return; // answered after its deadline: the caller has moved on
    pending.delete(frame.id);
    clearTimeout(call.timer);
    if (frame.ok) call.resolve(frame.value);
    else call.reject(errorFromWire(frame.error));
  }

  async function serve(frame: Extract<RouteFrame, { kind: 'req' }>): Promise<void> {
    let reply: RouteFrame;
    try {
      reply = { kind: 'res', id: frame.id, ok: true, value: await opts.handle(frame.request) };
    } catch (err) {
      const error = isAppError(err) ? err.toData() : { code: ErrorCodes.INTERNAL, message: 'Internal error on the owner node' };
      if (!isAppError(err)) log.error({ err, op: frame.request.op, tenantId: frame.request.tenantId }, 'routed command failed');
      reply = { kind: 'res', id: frame.id, ok: false, error };
    }
    const received = await send(frame.from, reply);
    if (received === 0) log.warn({ op: frame.request.op, from: frame.from }, 'the node that sent a routed command is gone');
  }

  await opts.bus.subscribe(rpcChannel(opts.nodeId), (text) => {
    const frame = parseRouteFrame(text);
    if (frame === undefined) {
      log.warn('dropped a malformed routing frame');
      return;
    }
    if (frame.kind === 'res') settle(frame);
    else if (!closed) serve(frame).catch((err: unknown) => log.error({ err }, 'could not answer a routed command'));
  });

  return {
    async request(nodeId, request, timeoutMs) {
      if (closed) throw new AppError(ErrorCodes.OWNER_UNAVAILABLE, 'this node is shutting down', { details: { reason: 'closing' } });
      const id = randomUUID();
      const reply = new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(
            new AppError(ErrorCodes.ACTOR_TIMEOUT, `node ${nodeId} did not answer ${request.op} within ${timeoutMs} ms`, {
              details: { routed: true, nodeId },
            }),
          );
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
      });
      // It may settle (deadline, close) before the caller awaits it: never an unhandled rejection.
      reply.catch(() => undefined);
      let received: number;
      try {
        received = await send(nodeId, { kind: 'req', id, from: opts.nodeId, timeoutMs, request });
      } catch (err) {
        settleLocally(id);
        throw new AppError(ErrorCodes.OWNER_UNAVAILABLE, 'could not reach the other nodes (Redis)', { cause: err, details: { reason: 'bus' } });
      }
      if (received === 0) {
        settleLocally(id);
        throw new AppError(ErrorCodes.OWNER_UNAVAILABLE, `node ${nodeId} is not listening`, { details: { reason: 'unreachable', nodeId } });
      }
      return reply;
    },
    async close() {
      closed = true;
      for (const [id, call] of pending) {
        clearTimeout(call.timer);
        pending.delete(id);
        call.reject(new AppError(ErrorCodes.OWNER_UNAVAILABLE, 'this node is shutting down', { details: { reason: 'closing' } }));
      }
    },
  };

  function settleLocally(id: string): void {
    const call = pending.get(id);
    if (call === undefined) return;
    pending.delete(id);
    clearTimeout(call.timer);
    // The promise is dropped unobserved; resolving keeps it from becoming an unhandled rejection.
    call.resolve(undefined);
  }
}
