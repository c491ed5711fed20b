import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/domain/log.js';
import { openDatabase, type Database } from '../../../src/store/db.js';
import { loadMigrations, migrate } from '../../../src/store/migrate.js';
import { TEST_DATABASE_URL, uniqueSchemaName } from '../../helpers/db.js';

const log = createLogger({ level: 'silent' });

describe('migrations', () => {
  const opened: { db: Database; schema: string }[] = [];
  const dirs: string[] = [];

  async function open(schema: string): Promise<Database> {
    const db = await openDatabase({ url: TEST_DATABASE_URL, dataDir: '', poolSize: 2, schema, log });
    opened.push({ db, schema });
    return db;
  }

  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'wa-migrations-'));
    dirs.push(dir);
    return dir;
  }

  afterEach(async () => {
    for (const { db, schema } of opened.splice(0)) {
      await db.sql`DROP SCHEMA IF EXISTS ${db.sql(schema)} CASCADE`;
      await db.close();
    }
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('applies every migration once and nothing on a second run', async () => {
    const db = await open(uniqueSchemaName('m'));
    const all = (await loadMigrations()).map((m) => m.version);
    expect(all[0]).toBe(1);
    expect(await migrate(db.sql, { log })).toEqual(all);
    expect(await migrate(db.sql, { log })).toEqual([]);
    const rows = await db.sql`SELECT version, name, applied_at FROM schema_migrations ORDER BY version`;
    expect(rows.map((r) => r.version)).toEqual(all);
    expect(rows[0]?.name).toBe('init');
    expect(rows[0]?.applied_at).toBeInstanceOf(Date);
  });

  it('applies each migration exactly once when two nodes start together', async () => {
    const schema = uniqueSchemaName('m');
    const [one, two] = [await open(schema), await open(schema)];
    const results = await Promise.all([migrate(one.sql, { log }), migrate(two.sql, { log })]);
    const all = (await loadMigrations()).map((m) => m.version);
    expect([...results[0], ...results[1]].sort((x, y) => x - y)).toEqual(all);
    const rows = await one.sql`SELECT count(*)::int AS n FROM schema_migrations`;
    expect(rows[0]?.n).toBe(all.length);
  });

  it('runs files in number order and rolls a failing migration back without recording it', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, '010_second.sql'), 'INSERT INTO things VALUES (2);');
    await writeFile(join(dir, '002_first.sql'), 'CREATE TABLE things (n int); INSERT INTO things VALUES (1);');
    await writeFile(join(dir, '011_broken.sql'), 'INSERT INTO things VALUES (3); SELECT no_such_function();');
    const db = await open(uniqueSchemaName('m'));
    await expect(migrate(db.sql, { dir, log })).rejects.toThrow(/no_such_function/);
    expect((await db.sql`SELECT version FROM schema_migrations ORDER BY version`).map((r) => r.version)).toEqual([2, 10]);
    expect((await db.sql`SELECT n FROM things ORDER BY n`).map((r) => r.n)).toEqual([1, 2]);
  });

  it('refuses a migration file whose name does not carry a version', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'init.sql'), 'SELECT 1;');
    await expect(loadMigrations(dir)).rejects.toThrow(/001_name\.sql/);
  });
});
