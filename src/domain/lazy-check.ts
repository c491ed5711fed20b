import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';

/**
 * A compiled TypeBox check, compiled on its first use. Modules that an actor worker and the node both
 * import (the actor protocol) declare checks only one side runs; compiling at import made every worker
 * compile the node's checks too (generated code, which V8's code cache cannot keep: ~4 ms per worker).
 */
export function lazyCheck<T extends TSchema>(schema: T): (value: unknown) => value is Static<T> {
  let compiled: TypeCheck<T> | undefined;
  return (value: unknown): value is Static<T> => {
    compiled ??= TypeCompiler.Compile(schema);
    return compiled.Check(value);
  };
}
