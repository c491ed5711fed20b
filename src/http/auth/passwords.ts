import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { AppError, ErrorCodes } from '../../domain/errors.js';

/**
 * argon2id password hashing on a piscina worker pool, so a login never blocks the event loop.
 */

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password; throws only for a malformed stored hash or a dead pool. */
  verify(hash: string, password: string): Promise<boolean>;
  /** Stops the pool. Idempotent. */
  close(): Promise<void>;
}

export interface PasswordHasherOptions {
  /** Worker threads (config PASSWORD_HASH_THREADS). */
  threads: number;
  /** argon2id memory in KiB. Default 19456 (19 MiB), the OWASP minimum for argon2id. */
  memoryCost?: number;
  /** argon2id passes. Default 2 (OWASP). */
  timeCost?: number;
}

/**
 * The worker is the sibling file with this file's own extension: `.ts` when running from sources
 * (tsx, vitest), `.js` once compiled. A `.ts` worker needs tsx loaded into its thread.
 */
function workerFile(): { filename: string; execArgv: string[] } {
  const ext = extname(fileURLToPath(import.meta.url));
  const filename = fileURLToPath(new URL(`./password-worker${ext}`, import.meta.url));
  return { filename, execArgv: ext === '.ts' ? ['--import', 'tsx'] : [] };
}

export function createPasswordHasher(opts: PasswordHasherOptions): PasswordHasher {
  const { filename, execArgv } = workerFile();
  const pool = new Piscina({
    filename,
    execArgv,
    minThreads: 1,
    maxThreads: opts.threads,
    // Idle threads beyond the first go away after a minute; logins come in bursts.
    idleTimeout: 60_000,
  });
  const memoryCost = opts.memoryCost ?? 19_456;
  const timeCost = opts.timeCost ?? 2;
  let closing: Promise<void> | null = null;

  const run = async (task: Record<string, unknown>): Promise<unknown> => {
    if (closing !== null) throw new AppError(ErrorCodes.INTERNAL, 'password hasher is closed');
    return pool.run(task);
  };

  return {
    async hash(password) {
      const out = await run({ op: 'hash', password, memoryCost, timeCost });
      if (typeof out !== 'string') throw new AppError(ErrorCodes.INTERNAL, 'password worker returned no hash');
      return out;
    },
    async verify(hash, password) {
      const out = await run({ op: 'verify', hash, password });
      if (typeof out !== 'boolean') throw new AppError(ErrorCodes.INTERNAL, 'password worker returned no verdict');
      return out;
    },
    close() {
      closing ??= pool.destroy();
      return closing;
    },
  };
}
