/**
 * Entry of the actor bundle: the one CommonJS file (build/src/actors/runtime/actor-bundle.cjs, made by
 * scripts/build-server.ts) that worker-boot.cts compiles in each actor worker of a built server. It holds
 * the runtime and the session actor with everything they import, so their shared code is compiled once
 * per worker, and from the node's code cache after the first (see worker-boot.cts).
 */
import * as sessionActor from '../session-actor.js';

export { runActor } from './actor-runtime.js';
export { workerThreadPort } from './ports.js';

/** Behaviour modules compiled into the bundle, by their path relative to this file. */
export const behaviors: Readonly<Record<string, unknown>> = { '../session-actor.js': sessionActor };
