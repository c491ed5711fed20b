import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/domain/errors.js';
import { createLogger } from '../../../src/domain/log.js';
import { openDatabase } from '../../../src/store/db.js';
import { createTestDatabase } from '../../helpers/db.js';

const log = createLogger({ level: 'silent' });

describe('database connection', () => {
  it('reports an unreachable server as the store being unavailable', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    await expect(openDatabase({ url: 'postgres://postgres@127.0.0.1:1/test', dataDir: '', poolSize: 1, log })).rejects.toMatchObject({
      code: ErrorCodes.STORE_UNAVAILABLE,
    });
  });

  it('answers ping while open and reports the store unavailable after close', async () => {
    const db = await createTestDatabase({ poolSize: 1 });
    await expect(db.store.ping()).resolves.toBeUndefined();
    await db.store.close();
    await expect(db.store.ping()).rejects.toMatchObject({ code: ErrorCodes.STORE_UNAVAILABLE });
    await db.close();
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await expect(openDatabase({ url: 'postgres://postgres@127.0.0.1:1/test', dataDir: '', poolSize: 1, schema: 'x; drop', log })).rejects.toThrow(
      /invalid schema name/,
    );
  });
});
