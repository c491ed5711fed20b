import { hashSync, verifySync } from '@node-rs/argon2';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * Runs inside a piscina worker thread: argon2id hashing costs ~20-50 ms of CPU and must never run on the
 * event loop. The task arrives as `unknown` from another thread and is checked before use.
 */

/** `Algorithm.Argon2id` is a const enum, which `isolatedModules` cannot import. */
const ARGON2ID = 2;

export const PasswordTask = Type.Union([
  Type.Object({
    op: Type.Literal('hash'),
    password: Type.String(),
    memoryCost: Type.Integer({ minimum: 8 }),
    timeCost: Type.Integer({ minimum: 1 }),
  }),
  Type.Object({ op: Type.Literal('verify'), hash: Type.String(), password: Type.String() }),
]);

export default function run(task: unknown): string | boolean {
  if (!Value.Check(PasswordTask, task)) throw new Error('password worker: malformed task');
  switch (task.op) {
    case 'hash':
      return hashSync(task.password, { algorithm: ARGON2ID, memoryCost: task.memoryCost, timeCost: task.timeCost, parallelism: 1 });
    case 'verify':
      // The PHC string carries its own parameters, so old hashes verify after a cost change.
      return verifySync(task.hash, task.password);
  }
}
