/**
 * Dataset rows live in one table per dataset in schema "ds", with a typed column per
 * catalogued field, the key as primary key, and a b-tree index (field, key) for every
 * `@index` field and every field another dataset references, so filters, sorts and batched
 * reference loads use indexes at a million rows per dataset.
 */
import type { Catalog, CatalogDataset, CatalogField, FieldType } from '../catalog/Catalog';
import { keyFields } from '../catalog/Catalog';
import { columnName, ROWS_SCHEMA, tableName } from '../graphql/naming';
import type { Sql } from './createSql';

export const PG_TYPES: Record<FieldType, string> = {
  STRING: 'text',
  INT: 'integer',
  FLOAT: 'double precision',
  DECIMAL: 'numeric',
  BOOLEAN: 'boolean',
  DATE: 'date',
  DATETIME: 'timestamp with time zone',
};

/** System columns every row table carries. */
export const DELIVERY_COLUMN = '_delivery_id';
export const UPDATED_AT_COLUMN = '_updated_at';
/**
 * The row's keyed hashes for the access record (compileQuery.ts auditHashes: key, then data
 * subjects), stored by the delivery that wrote the row, and the id of the key and catalog they
 * were made under (auditKid). Never returned to callers.
 */
export const AUDIT_KID_COLUMN = '_audit_kid';
export const AUDIT_HASHES_COLUMN = '_audit_hashes';

/** Fields that need an index: `@index` fields and targets of references from any dataset. */
export function indexedFields(catalog: Catalog, ds: CatalogDataset): CatalogField[] {
  const referenced = new Set<string>();
  for (const other of catalog.datasets) {
    for (const r of other.references) if (r.targetDataset === ds.code) referenced.add(r.toField);
  }
  for (const r of ds.references) referenced.add(r.fromField);
  return ds.fields.filter((f) => !f.isKey && (f.indexed || referenced.has(f.name)));
}

export class RowTableChangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RowTableChangeError';
  }
}

/**
 * Creates or extends the row tables of the given catalog (idempotent). New fields become new
 * columns; a removed field keeps its column (the data stays, it is no longer served). A key
 * or type change of an existing column is refused: that is a new dataset, not a new version.
 * Runs inside the caller's transaction when `sql` is one.
 */
export async function ensureRowTables(sql: Sql, catalog: Catalog): Promise<void> {
  await sql`CREATE SCHEMA IF NOT EXISTS ${sql(ROWS_SCHEMA)}`;
  for (const ds of catalog.datasets) await ensureRowTable(sql, catalog, ds);
}

async function ensureRowTable(sql: Sql, catalog: Catalog, ds: CatalogDataset): Promise<void> {
  const table = tableName(ds);
  const keys = keyFields(ds);
  const existing = await sql<{ column: string; type: string }[]>`
    SELECT a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${ROWS_SCHEMA} AND c.relname = ${table} AND a.attnum > 0 AND NOT a.attisdropped`;
  const ident = sql(ROWS_SCHEMA) ;
  const qualified = sql`${ident}.${sql(table)}`;
  if (existing.length === 0) {
    const cols = ds.fields.map((f) => `${quoteIdent(columnName(f.name))} ${PG_TYPES[f.type]}${f.isKey ? ' NOT NULL' : ''}`);
    cols.push(`${DELIVERY_COLUMN} bigint NOT NULL`, `${UPDATED_AT_COLUMN} timestamp with time zone NOT NULL DEFAULT now()`);
    cols.push(`${AUDIT_KID_COLUMN} text`, `${AUDIT_HASHES_COLUMN} text`);
    cols.push(`PRIMARY KEY (${keys.map((k) => quoteIdent(columnName(k.name))).join(', ')})`);
    // Identifiers are quoted by quoteIdent; no value is interpolated into this DDL.
    await sql.unsafe(`CREATE TABLE ${quoteIdent(ROWS_SCHEMA)}.${quoteIdent(table)} (${cols.join(', ')})`);
  } else {
    const have = new Map(existing.map((c) => [c.column, c.type]));
    const pk = await sql<{ column: string }[]>`
      SELECT a.attname AS column FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = ${`${ROWS_SCHEMA}.${table}`}::regclass AND i.indisprimary`;
    const pkCols = pk.map((r) => r.column).sort();
    const wantPk = keys.map((k) => columnName(k.name)).sort();
    if (pkCols.join(',') !== wantPk.join(',')) {
      throw new RowTableChangeError(
        `dataset ${ds.code}: key changed from (${pkCols.join(', ')}) to (${wantPk.join(', ')}); publish it as a new dataset instead`,
      );
    }
    for (const f of ds.fields) {
      const col = columnName(f.name);
      const type = have.get(col);
      if (type === undefined) {
        await sql`ALTER TABLE ${qualified} ADD COLUMN ${sql(col)} ${sql.unsafe(PG_TYPES[f.type])}`;
      } else if (type !== PG_TYPES[f.type]) {
        throw new RowTableChangeError(
          `dataset ${ds.code}: field ${f.name} changed type from ${type} to ${PG_TYPES[f.type]}; publish it as a new dataset instead`,
        );
      }
    }
  }
  const pkCols = keys.map((k) => columnName(k.name));
  for (const f of indexedFields(catalog, ds)) {
    const col = columnName(f.name);
    const name = indexName(table, col);
    await sql.unsafe(
      `CREATE INDEX IF NOT EXISTS ${quoteIdent(name)} ON ${quoteIdent(ROWS_SCHEMA)}.${quoteIdent(table)} (${[col, ...pkCols].map(quoteIdent).join(', ')})`,
    );
  }
}

/** Index names are capped at 63 bytes by PostgreSQL. */
function indexName(table: string, col: string): string {
  const n = `${table}_${col}_idx`;
  return n.length <= 63 ? n : `${n.slice(0, 50)}_${hash8(n)}_idx`;
}

function hash8(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16).padStart(8, '0');
}

export function quoteIdent(id: string): string {
  return `"${id.replace(/"/g, '""')}"`;
}
