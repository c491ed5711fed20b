import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll } from 'vitest';
import type * as Host from '../../../src/supervisor/host.js';
import { buildServerForTests } from '../../helpers/built-server.js';
import { transportContract } from './transport-contract.js';

// The worker transport as a built server runs it: worker-boot.cjs compiling actor-bundle.cjs with the
// node's code cache (src/actors/runtime/worker-boot.cts). The test behaviour is not in the bundle, so the
// boot imports it; the contract is the same as from sources.
const built = await buildServerForTests(['tests/fixtures/actors/test-actor.ts']);
afterAll(() => built.cleanup());
const { createActorHost } = (await import(pathToFileURL(join(built.dir, 'src/supervisor/host.js')).href)) as typeof Host;
const testActor = pathToFileURL(join(built.dir, 'tests/fixtures/actors/test-actor.js')).href;

transportContract('worker thread (built: actor bundle, code cache)', createActorHost({ isolation: 'worker', memoryMb: 64 }).spawn, testActor);
