import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/domain/errors.js';
import { createLogger } from '../../../src/domain/log.js';
import { acquireNodeLock, type NodeLock } from '../../../src/store/node-lock.js';
import { TEST_DATABASE_URL, uniqueSchemaName } from '../../helpers/db.js';

const log = createLogger({ level: 'silent' });

/** Who may run on one database (schema): one node without Redis alone, or any number with Redis. */
describe('node lock', () => {
  const held: NodeLock[] = [];
  const take = async (schema: string, mode: 'exclusive' | 'shared'): Promise<NodeLock> => {
    const lock = await acquireNodeLock({ url: TEST_DATABASE_URL, schema, mode, log });
    held.push(lock);
    return lock;
  };
  afterAll(async () => {
    for (const lock of held) await lock.release();
  });

  it('refuses a second node without Redis, and says to set REDIS_URL', async () => {
    const schema = uniqueSchemaName('lock');
    await take(schema, 'exclusive');
    const err: unknown = await take(schema, 'exclusive').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.CONFLICT });
    expect(String((err as Error).message)).toMatch(/REDIS_URL/);
  });

  it('lets any number of Redis nodes run together, but not beside a node without Redis', async () => {
    const schema = uniqueSchemaName('lock');
    await take(schema, 'shared');
    await take(schema, 'shared');
    await expect(take(schema, 'exclusive')).rejects.toMatchObject({ code: ErrorCodes.CONFLICT });
  });

  it('is free again once the node that held it is gone, and other schemas are not affected', async () => {
    const schema = uniqueSchemaName('lock');
    const first = await take(schema, 'exclusive');
    await take(uniqueSchemaName('lock'), 'exclusive');
    await first.release();
    await expect(take(schema, 'exclusive')).resolves.toBeDefined();
  });
});
