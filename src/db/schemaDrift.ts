/**
 * Compares the migrated database with prisma/schema.prisma without Prisma's native schema
 * engine (which cannot be downloaded here, ENVIRONMENT.md): the schema is read through
 * Prisma's own WebAssembly parser (DMMF) and the database through pg_catalog, and both are
 * reduced to the same description: enums, tables, columns (type, nullability, default),
 * primary keys, unique and plain indexes, foreign keys.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../projectRoot';
import type { Sql } from './createSql';

export interface SchemaShape {
  enums: Map<string, string[]>;
  /** table → column → "type null|notnull default|nodefault" */
  columns: Map<string, Map<string, string>>;
  /** "table(kind: col, col)" where kind is pk / unique / index */
  indexes: Set<string>;
  /** "table(col) -> ref(col) on delete X" */
  foreignKeys: Set<string>;
}

export const PRISMA_SCHEMA_PATH = path.join(PROJECT_ROOT, 'prisma/schema.prisma');

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  type: string;
  isRequired: boolean;
  isList: boolean;
  hasDefaultValue: boolean;
  nativeType?: [string, string[]] | null;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
}
interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}
interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  fields: { name: string }[];
}
interface Dmmf {
  datamodel: {
    models: DmmfModel[];
    enums: { name: string; dbName?: string | null; values: { name: string; dbName?: string | null }[] }[];
    indexes: DmmfIndex[];
  };
}

const SCALAR_TYPES: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Boolean: 'boolean',
  Float: 'double precision',
  Decimal: 'numeric(65,30)',
  DateTime: 'timestamp(3) without time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
};

function nativeTypeOf(f: DmmfField): string {
  if (f.kind === 'enum') return `enum ${f.type}`;
  const n = f.nativeType;
  if (n) {
    const [name, args] = n;
    switch (name) {
      case 'Timestamptz':
        return `timestamp(${args[0] ?? 6}) with time zone`;
      case 'Timestamp':
        return `timestamp(${args[0] ?? 6}) without time zone`;
      case 'VarChar':
        return args.length ? `character varying(${args[0]})` : 'character varying';
      case 'Text':
        return 'text';
      case 'Date':
        return 'date';
      case 'Decimal':
        return args.length ? `numeric(${args.join(',')})` : 'numeric';
      case 'Uuid':
        return 'uuid';
      default:
        return name.toLowerCase();
    }
  }
  return SCALAR_TYPES[f.type] ?? f.type;
}

/** The shape prisma/schema.prisma describes. */
export function buildExpectedShape(prismaSchema: string = readFileSync(PRISMA_SCHEMA_PATH, 'utf8')): SchemaShape {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wasm = require('@prisma/prisma-schema-wasm') as { get_dmmf(params: string): string };
  const dmmf = JSON.parse(wasm.get_dmmf(JSON.stringify({ prismaSchema }))) as Dmmf;
  const shape: SchemaShape = { enums: new Map(), columns: new Map(), indexes: new Set(), foreignKeys: new Set() };
  for (const e of dmmf.datamodel.enums) {
    shape.enums.set(e.dbName ?? e.name, e.values.map((v) => v.dbName ?? v.name));
  }
  const tableOf = new Map(dmmf.datamodel.models.map((m) => [m.name, m.dbName ?? m.name]));
  const colOf = (model: DmmfModel, field: string) => {
    const f = model.fields.find((x) => x.name === field)!;
    return f.dbName ?? f.name;
  };
  for (const m of dmmf.datamodel.models) {
    const table = tableOf.get(m.name)!;
    const cols = new Map<string, string>();
    for (const f of m.fields) {
      if (f.kind === 'object') {
        if (f.relationFromFields?.length) {
          const target = dmmf.datamodel.models.find((x) => x.name === f.type)!;
          const onDelete = (f.relationOnDelete ?? (f.isRequired ? 'Restrict' : 'SetNull')).toUpperCase().replace('SETNULL', 'SET NULL').replace('NOACTION', 'NO ACTION');
          shape.foreignKeys.add(
            `${table}(${f.relationFromFields.map((x) => colOf(m, x)).join(', ')}) -> ${tableOf.get(f.type)}(${f.relationToFields!.map((x) => colOf(target, x)).join(', ')}) on delete ${onDelete}`,
          );
        }
        continue;
      }
      const type = f.isList ? `${nativeTypeOf(f)}[]` : nativeTypeOf(f);
      cols.set(f.dbName ?? f.name, `${type} ${f.isRequired ? 'notnull' : 'null'} ${f.hasDefaultValue ? 'default' : 'nodefault'}`);
    }
    shape.columns.set(table, cols);
  }
  for (const ix of dmmf.datamodel.indexes) {
    const m = dmmf.datamodel.models.find((x) => x.name === ix.model)!;
    const kind = ix.type === 'id' ? 'pk' : ix.type === 'unique' ? 'unique' : 'index';
    shape.indexes.add(`${tableOf.get(m.name)}(${kind}: ${ix.fields.map((f) => colOf(m, f.name)).join(', ')})`);
  }
  return shape;
}

/** The shape of the database's `public` schema (Prisma's bookkeeping table excluded). */
export async function loadActualShape(sql: Sql, schema = 'public'): Promise<SchemaShape> {
  const shape: SchemaShape = { enums: new Map(), columns: new Map(), indexes: new Set(), foreignKeys: new Set() };
  const enums = await sql<{ name: string; label: string }[]>`
    SELECT t.typname AS name, e.enumlabel AS label
    FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = ${schema} ORDER BY t.typname, e.enumsortorder`;
  for (const r of enums) {
    if (!shape.enums.has(r.name)) shape.enums.set(r.name, []);
    shape.enums.get(r.name)!.push(r.label);
  }
  const cols = await sql<{ table: string; column: string; type: string; is_enum: boolean; notnull: boolean; has_default: boolean }[]>`
    SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
           t.typtype = 'e' AS is_enum, a.attnotnull AS notnull, a.atthasdef AS has_default
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type t ON t.oid = a.atttypid
    WHERE n.nspname = ${schema} AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
      AND c.relname <> '_prisma_migrations'
    ORDER BY c.relname, a.attnum`;
  for (const r of cols) {
    if (!shape.columns.has(r.table)) shape.columns.set(r.table, new Map());
    const type = r.is_enum ? `enum ${r.type.replace(/"/g, '')}` : r.type;
    shape.columns.get(r.table)!.set(r.column, `${type} ${r.notnull ? 'notnull' : 'null'} ${r.has_default ? 'default' : 'nodefault'}`);
  }
  const idx = await sql<{ table: string; primary: boolean; unique: boolean; columns: string[] }[]>`
    SELECT c.relname AS table, i.indisprimary AS primary, i.indisunique AS unique,
           array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema} AND c.relname <> '_prisma_migrations'`;
  for (const r of idx) {
    const kind = r.primary ? 'pk' : r.unique ? 'unique' : 'index';
    shape.indexes.add(`${r.table}(${kind}: ${r.columns.join(', ')})`);
  }
  const fks = await sql<{ def: string }[]>`
    SELECT c.relname || '(' || (SELECT string_agg(a.attname, ', ' ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) || ') -> ' ||
           rc.relname || '(' || (SELECT string_agg(a.attname, ', ' ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) || ') on delete ' ||
           CASE con.confdeltype WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
                                WHEN 'd' THEN 'SET DEFAULT' ELSE 'NO ACTION' END AS def
    FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_class rc ON rc.oid = con.confrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE con.contype = 'f' AND n.nspname = ${schema}`;
  for (const r of fks) shape.foreignKeys.add(r.def);
  return shape;
}

/** Every difference, as readable lines; empty when the database matches the schema. */
export function diffShapes(expected: SchemaShape, actual: SchemaShape): string[] {
  const out: string[] = [];
  for (const [name, values] of expected.enums) {
    const a = actual.enums.get(name);
    if (!a) out.push(`enum ${name}: missing in database`);
    else if (a.join(',') !== values.join(',')) out.push(`enum ${name}: schema has [${values}], database has [${a}]`);
  }
  for (const name of actual.enums.keys()) if (!expected.enums.has(name)) out.push(`enum ${name}: in database, not in schema`);
  for (const [table, cols] of expected.columns) {
    const a = actual.columns.get(table);
    if (!a) {
      out.push(`table ${table}: missing in database`);
      continue;
    }
    for (const [col, desc] of cols) {
      const ad = a.get(col);
      if (!ad) out.push(`column ${table}.${col}: missing in database`);
      else if (ad !== desc) out.push(`column ${table}.${col}: schema says "${desc}", database has "${ad}"`);
    }
    for (const col of a.keys()) if (!cols.has(col)) out.push(`column ${table}.${col}: in database, not in schema`);
  }
  for (const table of actual.columns.keys()) if (!expected.columns.has(table)) out.push(`table ${table}: in database, not in schema`);
  for (const i of expected.indexes) if (!actual.indexes.has(i)) out.push(`index ${i}: missing in database`);
  for (const i of actual.indexes) if (!expected.indexes.has(i)) out.push(`index ${i}: in database, not in schema`);
  for (const f of expected.foreignKeys) if (!actual.foreignKeys.has(f)) out.push(`foreign key ${f}: missing in database`);
  for (const f of actual.foreignKeys) if (!expected.foreignKeys.has(f)) out.push(`foreign key ${f}: in database, not in schema`);
  return out;
}
