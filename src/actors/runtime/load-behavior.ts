import { pathToFileURL } from 'node:url';
import type { ActorBehavior, BehaviorFactory } from '../protocol.js';

export type ImportModule = (specifier: string) => Promise<unknown>;

export type AnyBehavior = ActorBehavior<unknown, unknown, unknown>;

/** Import a behaviour module by path or file URL and check that it exports a factory as `default`. */
export async function loadBehaviorFactory(
  behaviorModule: string,
  importModule: ImportModule,
): Promise<BehaviorFactory<unknown, unknown, unknown>> {
  const url = behaviorModule.startsWith('file:') ? behaviorModule : pathToFileURL(behaviorModule).href;
  const mod = await importModule(url);
  const factory: unknown = typeof mod === 'object' && mod !== null ? (mod as { default?: unknown }).default : undefined;
  if (typeof factory !== 'function') throw new Error(`behaviour module ${behaviorModule} has no default export function`);
  return factory as BehaviorFactory<unknown, unknown, unknown>;
}

/** The factory's result crosses no type check at run time: verify the three methods exist. */
export function assertBehavior(value: unknown, behaviorModule: string): AnyBehavior {
  const b = value as Partial<AnyBehavior> | null;
  if (typeof b !== 'object' || b === null || typeof b.start !== 'function' || typeof b.handle !== 'function' || typeof b.stop !== 'function') {
    throw new Error(`behaviour factory of ${behaviorModule} did not return { start, handle, stop }`);
  }
  return b as AnyBehavior;
}
