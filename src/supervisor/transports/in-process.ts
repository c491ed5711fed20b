import type { ActorPort } from '../../actors/runtime/actor-port.js';
import { runActor } from '../../actors/runtime/actor-runtime.js';
import { TransportEvents, type Transport } from '../transport.js';

/**
 * The actor runs on the caller's own thread (unit tests, contract tests). Messages are structured-cloned
 * and delivered on a later turn, as a worker would deliver them, so serialisation and ordering bugs show
 * here too. `terminate` can only cut the wires: code already running in the actor keeps running, and a
 * CPU-bound actor blocks the whole process; use a real transport to test those.
 */
export function spawnInProcessTransport(): Transport {
  const events = new TransportEvents();
  const actorListeners: Array<(message: unknown) => void> = [];
  let cut = false;

  const port: ActorPort = {
    post: (message) => {
      const copy = structuredClone(message);
      if (cut) return;
      setImmediate(() => events.message(copy));
    },
    onMessage: (listener) => {
      actorListeners.push(listener);
    },
    // Queued behind the messages already posted, like a worker's port drained before 'exit'.
    exit: (code) => {
      cut = true;
      setImmediate(() => events.exit({ code, signal: null }));
    },
  };
  runActor(port);

  return {
    kind: 'in-process',
    pid: undefined,
    threadId: undefined,
    send(message) {
      const copy = structuredClone(message);
      if (cut) return;
      setImmediate(() => {
        if (!cut) for (const listener of actorListeners) listener(copy);
      });
    },
    onMessage: (listener) => events.onMessage(listener),
    onExit: (listener) => events.onExit(listener),
    terminate() {
      cut = true;
      events.exit({ code: null, signal: 'SIGKILL' });
      return events.gone;
    },
  };
}
