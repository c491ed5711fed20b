import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';

/**
 * TypeBox checks compiled once per schema, on first use (TypeCompiler generates a function, many times
 * faster than interpreting the schema with Value.Check on every frame, message or row). Never at import:
 * modules that an actor worker and the node both import (the actor protocol) declare checks only one
 * side runs, and compiling them at import made every worker compile the node's checks too (generated
 * code, which V8's code cache cannot keep: ~4 ms per worker).
 */
const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

/** The compiled check of `schema`, compiled the first time it is asked for. */
export function compiledCheck<T extends TSchema>(schema: T): TypeCheck<T> {
  let check = compiled.get(schema);
  if (check === undefined) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  return check as TypeCheck<T>;
}

/** A guard for one fixed schema that compiles it on its first call (no lookup after that). */
export function lazyCheck<T extends TSchema>(schema: T): (value: unknown) => value is Static<T> {
  let check: TypeCheck<T> | undefined;
  return (value: unknown): value is Static<T> => {
    check ??= compiledCheck(schema);
    return check.Check(value);
  };
}
