import postgres from 'postgres';

/**
 * Every stored row of one tenant, read straight from PostgreSQL (not through the repositories under
 * test). Tables are found in the catalog, so a table added by a later migration is covered too.
 */
export interface StoreProbe {
  /** Each tenant table's rows of `tenantId` (plus its `tenants` row), as canonical JSON text. */
  tenantRows(tenantId: string): Promise<Record<string, string>>;
  /** One digest of every row of every table in the schema: any write anywhere changes it. */
  /** `exclude`: tables left out; `volatile`: per table, columns left out (ones background workers write). */
  digest(exclude?: readonly string[], volatile?: Readonly<Record<string, readonly string[]>>): Promise<string>;
  close(): Promise<void>;
}

export function openStoreProbe(url: string, schema: string): StoreProbe {
  const sql = postgres(url, { max: 1, onnotice: () => undefined, connection: { search_path: schema } });
  let tables: Promise<{ name: string; tenantColumn: string }[]> | undefined;
  const listTables = () =>
    (tables ??= sql<{ name: string; tenant_column: string }[]>`
      SELECT c.table_name AS name, c.column_name AS tenant_column
      FROM information_schema.columns c
      JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema = ${schema} AND t.table_type = 'BASE TABLE'
        AND (c.column_name = 'tenant_id' OR (c.table_name = 'tenants' AND c.column_name = 'id'))
      ORDER BY c.table_name`.then((rows) => rows.map((r) => ({ name: r.name, tenantColumn: r.tenant_column }))));

  return {
    async tenantRows(tenantId) {
      // One round trip: the probe runs after every request of the matrix.
      const list = await listTables();
      const text = list
        .map(({ name, tenantColumn }) => `SELECT ${literal(name)} AS name, coalesce(json_agg(x ORDER BY x::text), '[]')::text AS rows FROM ${ident(name)} x WHERE ${ident(tenantColumn)} = $1`)
        .join(' UNION ALL ');
      const rows = await sql.unsafe<{ name: string; rows: string }[]>(text, [tenantId]);
      return Object.fromEntries(rows.map((r) => [r.name, r.rows]));
    },
    async digest(exclude = [], volatile = {}) {
      const names = await sql<{ name: string }[]>`
        SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = ${schema} AND table_type = 'BASE TABLE' ORDER BY table_name`;
      const text = names
        .filter(({ name }) => !exclude.includes(name))
        .map(({ name }) => {
          const row = (volatile[name] ?? []).reduce((expr, column) => `${expr} - ${literal(column)}`, 'to_jsonb(x)');
          return `SELECT ${literal(name)} || ':' || coalesce(md5(string_agg((${row})::text, ',' ORDER BY (${row})::text)), '-') AS d FROM ${ident(name)} x`;
        })
        .join(' UNION ALL ');
      const rows = await sql.unsafe<{ d: string }[]>(text);
      // `table:md5 table:md5 ...`: a mismatch names its tables (see changedTables).
      return rows.map((r) => r.d).join(' ');
    },
    close: () => sql.end({ timeout: 5 }),
  };
}

/** Names come from the catalog, but are quoted anyway. */
function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** The tables whose part of two digests differs. */
export function changedTables(before: string, after: string): string[] {
  const parts = (d: string) => new Map(d.split(' ').map((p) => [p.split(':')[0] ?? '', p] as const));
  const a = parts(before);
  const b = parts(after);
  return [...new Set([...a.keys(), ...b.keys()])].filter((t) => a.get(t) !== b.get(t));
}
