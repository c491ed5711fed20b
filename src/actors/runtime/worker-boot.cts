/**
 * Entry of an actor worker when the server runs as built JavaScript (build/src/actors/runtime/
 * worker-boot.cjs). Started by src/supervisor/host.ts with a BootData as workerData.
 *
 * Starting a worker is the cost of a restore: 1,000 sessions start 1,000 workers on the node's cores,
 * and each compiled the actor code from source (~300 KB of JavaScript, about as much CPU as the worker's
 * own start). So the code lives in one CommonJS bundle, compiled here with node:vm and V8's code cache.
 * When the node starts, one warm-up worker compiles the bundle from source, runs its top level and hands
 * the cache to the node, then exits; the node shares that cache (a SharedArrayBuffer, not a copy each)
 * with every actor worker, which then deserialises instead of parsing and compiling. V8 checks that a
 * cache matches the source, its own version and flags, and compiles from source when it does not
 * (`rejected`). The warm-up runs no actor: the code every tenant's actor runs is never shaped by one
 * tenant's worker.
 * CommonJS because an ES module entry costs each worker the ES module loader's start-up too, and Node 20
 * has no code cache for ES modules. From sources (tsx) workers start from worker-tsx-boot.mjs instead.
 */
import fs = require('node:fs');
import path = require('node:path');
import url = require('node:url');
import vm = require('node:vm');
import nodeModule = require('node:module');
import threads = require('node:worker_threads');
import type { ActorPort } from './actor-port.js';
import type { ImportModule } from './load-behavior.js';
import type { BootData, BootMessage } from './boot-message.js';

interface ActorBundle {
  runActor(port: ActorPort, deps: { importModule: ImportModule }): void;
  workerThreadPort(parentPort: threads.MessagePort): ActorPort;
  behaviors: Readonly<Record<string, unknown>>;
}

const parentPort = threads.parentPort;
if (parentPort === null) throw new Error('worker-boot must run in a worker thread');
const { bundle: file, codeCache, warmUp } = threads.workerData as BootData;
const send = (message: BootMessage) => parentPort.postMessage(message);

// The wrapper Node's own CommonJS loader puts around a module.
const source = `(function (exports, require, module, __filename, __dirname) {${fs.readFileSync(file, 'utf8')}\n})`;
const script = new vm.Script(source, { filename: file, ...(codeCache === undefined ? {} : { cachedData: Buffer.from(codeCache) }) });
if (warmUp !== true) send({ type: 'code-cache.result', result: codeCache === undefined ? 'none' : script.cachedDataRejected === true ? 'rejected' : 'hit' });

const mod: { exports: unknown } = { exports: {} };
(script.runInThisContext() as (...args: unknown[]) => void)(mod.exports, nodeModule.createRequire(file), mod, file, path.dirname(file));
const bundle = mod.exports as ActorBundle;

if (warmUp === true) {
  // Messages posted before exit are still delivered.
  send({ type: 'code-cache.offer', data: script.createCachedData() });
  process.exit(0);
}

const behaviors = new Map(Object.entries(bundle.behaviors).map(([relative, m]) => [url.pathToFileURL(path.resolve(path.dirname(file), relative)).href, m]));
// A behaviour in the bundle is used as is; any other (a test's) is imported by this real module.
const importModule: ImportModule = (specifier) => (behaviors.has(specifier) ? Promise.resolve(behaviors.get(specifier)) : import(specifier));
bundle.runActor(bundle.workerThreadPort(parentPort), { importModule });
