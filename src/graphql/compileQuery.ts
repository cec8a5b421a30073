/**
 * Compiles the selection of a dataset query — scalar fields and nested references at any
 * depth — into ONE SQL statement that returns the whole answer as JSON, the strategy
 * PostGraphile uses: only requested columns are read, nested lists come from correlated
 * subqueries over indexes, and the database does the nesting. Identifiers come from the
 * catalog and are quoted; every value is a typed parameter.
 */
import { getArgumentValues, type FieldNode, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import type { Catalog, CatalogDataset, CatalogField, CatalogReference } from '../catalog/Catalog';
import { keyFields } from '../catalog/Catalog';
import { UserInputError } from '../errors';
import { PG_TYPES, quoteIdent } from '../db/rowTables';
import { columnName, ROWS_SCHEMA, tableName } from './naming';
import { subFields, type SelectionScope } from './selection';

/** Property under which a prefetched reference is stored on a row, by response key. */
export const REF_PREFIX = '__r_';
/** Property holding the cursor source values of a listed row. */
export const CURSOR_PROP = '__c';

export interface CompileContext extends SelectionScope {
  schema: GraphQLSchema;
  catalog: Catalog;
  /** Most rows a nested reference list returns. */
  maxNestedRows: number;
}

interface ObjectPlan {
  ds: CatalogDataset;
  fields: CatalogField[];
  refs: RefPlan[];
}

interface RefPlan {
  responseKey: string;
  ref: CatalogReference;
  target: CatalogDataset;
  plan: ObjectPlan;
  first: number;
}

export interface OrderSpec {
  field: CatalogField | null;
  desc: boolean;
}

export type FilterInput = Record<string, unknown>;

class Params {
  readonly values: unknown[] = [];
  add(value: unknown, pgType: string): string {
    this.values.push(value);
    return `$${this.values.length}::${pgType}`;
  }
}

function datasetByCode(catalog: Catalog, code: string): CatalogDataset {
  const ds = catalog.datasets.find((d) => d.code === code);
  if (!ds) throw new Error(`reference to unknown dataset ${code}`);
  return ds;
}

function fieldByName(ds: CatalogDataset, name: string): CatalogField {
  const f = ds.fields.find((x) => x.name === name);
  if (!f) throw new Error(`dataset ${ds.code} has no field ${name}`);
  return f;
}

/** Which fields and references of `ds` the selection asks for. */
export function planObject(ctx: CompileContext, ds: CatalogDataset, selection: Map<string, FieldNode[]>): ObjectPlan {
  const plan: ObjectPlan = { ds, fields: [], refs: [] };
  const seen = new Set<string>();
  const type = ctx.schema.getType(ds.typeName) as GraphQLObjectType;
  for (const [responseKey, nodes] of selection) {
    const name = nodes[0].name.value;
    if (name === '__typename') continue;
    const field = ds.fields.find((f) => f.name === name);
    if (field) {
      if (!seen.has(name)) {
        seen.add(name);
        plan.fields.push(field);
      }
      continue;
    }
    const ref = ds.references.find((r) => r.name === name);
    if (!ref) continue;
    const target = datasetByCode(ctx.catalog, ref.targetDataset);
    const args = getArgumentValues(type.getFields()[name], nodes[0], ctx.variableValues);
    const first = ref.many ? clampFirst(args.first as number | undefined, ctx.maxNestedRows, `${ds.typeName}.${name}`) : 1;
    plan.refs.push({ responseKey, ref, target, plan: planObject(ctx, target, subFields(ctx, nodes)), first });
  }
  return plan;
}

function clampFirst(first: number | undefined | null, max: number, where: string): number {
  if (first === undefined || first === null) return max;
  if (!Number.isInteger(first) || first < 0 || first > max) {
    throw new UserInputError(`${where}: first must be between 0 and ${max}`);
  }
  return first;
}

function colRef(alias: string, f: CatalogField): string {
  const c = `${alias}.${quoteIdent(columnName(f.name))}`;
  // Decimals travel as text so no digit is lost to binary floating point.
  return f.type === 'DECIMAL' ? `${c}::text` : c;
}

const qualifiedTables = new WeakMap<CatalogDataset, string>();

function qualifiedTable(ds: CatalogDataset): string {
  let t = qualifiedTables.get(ds);
  if (t === undefined) qualifiedTables.set(ds, (t = `${quoteIdent(ROWS_SCHEMA)}.${quoteIdent(tableName(ds))}`));
  return t;
}

function keyOrder(alias: string, ds: CatalogDataset, desc = false): string {
  return keyFields(ds)
    .map((k) => `${alias}.${quoteIdent(columnName(k.name))}${desc ? ' DESC' : ''}`)
    .join(', ');
}

/** json_build_object(...) of one row, with nested references as correlated subqueries. */
function jsonObject(plan: ObjectPlan, alias: string, depth: number, params: Params, extra: string[] = []): string {
  const pairs: string[] = [...extra];
  for (const f of plan.fields) pairs.push(`'${f.name}', ${colRef(alias, f)}`);
  for (const r of plan.refs) {
    const a = `t${depth + 1}`;
    const from = fieldByName(plan.ds, r.ref.fromField);
    const to = fieldByName(r.target, r.ref.toField);
    const match = `${a}.${quoteIdent(columnName(to.name))} = ${alias}.${quoteIdent(columnName(from.name))}`;
    const inner = jsonObject(r.plan, a, depth + 1, params);
    let sub: string;
    if (r.ref.many) {
      const limit = params.add(r.first, 'integer');
      // ARRAY(subquery) keeps the subquery's order: one index scan, no second sort.
      sub = `array_to_json(ARRAY(SELECT ${inner} FROM ${qualifiedTable(r.target)} ${a} WHERE ${match} ORDER BY ${keyOrder(a, r.target)} LIMIT ${limit}))`;
    } else {
      sub = `(SELECT ${inner} FROM ${qualifiedTable(r.target)} ${a} WHERE ${match} ORDER BY ${keyOrder(a, r.target)} LIMIT 1)`;
    }
    pairs.push(`'${REF_PREFIX}${r.responseKey}', ${sub}`);
  }
  if (pairs.length === 0) return `json_build_object()`;
  // json_build_object takes at most 100 arguments: merge chunks of 50 pairs.
  const chunks: string[] = [];
  for (let i = 0; i < pairs.length; i += 50) chunks.push(`json_build_object(${pairs.slice(i, i + 50).join(', ')})`);
  return chunks.length === 1 ? chunks[0] : `(${chunks.map((c) => `${c}::jsonb`).join(' || ')})::json`;
}

export interface CompiledStatement {
  text: string;
  values: unknown[];
}

/** One row by its key: `SELECT <json>::text AS d FROM ds.t t0 WHERE key = $1`. */
export function compileLookup(
  ctx: CompileContext,
  ds: CatalogDataset,
  keyValues: Record<string, unknown>,
  selection: Map<string, FieldNode[]>,
): CompiledStatement {
  const params = new Params();
  const where = keyFields(ds)
    .map((k) => `t0.${quoteIdent(columnName(k.name))} = ${params.add(keyValues[k.name], PG_TYPES[k.type])}`)
    .join(' AND ');
  const obj = jsonObject(planObject(ctx, ds, selection), 't0', 0, params);
  return { text: `SELECT ${obj}::text AS d FROM ${qualifiedTable(ds)} t0 WHERE ${where}`, values: params.values };
}

export interface ListArgs {
  filter?: FilterInput | null;
  orderBy?: OrderSpec;
  first: number;
  after?: string | null;
}

export interface ListSelection {
  /** Selection of each node (from `nodes` and `edges.node`). */
  node: Map<string, FieldNode[]>;
  withCursor: boolean;
  withTotal: boolean;
}

/**
 * A page of rows: filter and order over indexed columns, keyset pagination on
 * (order field, key), one extra row fetched to know whether a next page exists.
 */
export function compileList(ctx: CompileContext, ds: CatalogDataset, args: ListArgs, sel: ListSelection): CompiledStatement {
  const params = new Params();
  const order = args.orderBy ?? { field: null, desc: false };
  const conds: string[] = [];
  const filterSql = args.filter ? compileFilter(ds, args.filter, 't0', params) : null;
  if (filterSql) conds.push(filterSql);
  if (args.after) conds.push(cursorCondition(ds, order, decodeCursor(args.after, ds, order), params));
  const keys = keyFields(ds);
  const orderCols = [
    ...(order.field ? [`t0.${quoteIdent(columnName(order.field.name))}${order.desc ? ' DESC' : ''} NULLS LAST`] : []),
    keyOrder('t0', ds, order.desc),
  ].join(', ');
  const extra: string[] = [];
  if (sel.withCursor) {
    const cursorCols = [...(order.field ? [order.field] : []), ...keys].map((f) => colRef('t0', f));
    extra.push(`'${CURSOR_PROP}', json_build_array(${cursorCols.join(', ')})`);
  }
  const obj = jsonObject(planObject(ctx, ds, sel.node), 't0', 0, params, extra);
  const limit = params.add(args.first + 1, 'integer');
  const where = conds.length ? `WHERE ${conds.join(' AND ')}` : '';
  const page = `array_to_json(ARRAY(SELECT ${obj} FROM ${qualifiedTable(ds)} t0 ${where} ORDER BY ${orderCols} LIMIT ${limit}))::text`;
  if (!sel.withTotal) return { text: `SELECT ${page} AS d`, values: params.values };
  // The total counts the filter's rows (not the cursor's); the filter is compiled again
  // with its own parameters.
  const countWhere = args.filter ? compileFilter(ds, args.filter, 'c0', params) : null;
  return {
    text: `SELECT ${page} AS d, (SELECT count(*) FROM ${qualifiedTable(ds)} c0 ${countWhere ? `WHERE ${countWhere}` : ''})::int AS total`,
    values: params.values,
  };
}

const OPERATORS: Record<string, string> = { eq: '=', ne: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' };

/** Filter input → SQL condition. Only key and indexed fields are filterable (see the schema). */
export function compileFilter(ds: CatalogDataset, filter: FilterInput, alias: string, params: Params): string | null {
  const conds: string[] = [];
  for (const [name, value] of Object.entries(filter)) {
    if (value === undefined || value === null) continue;
    if (name === 'and' || name === 'or') {
      const parts = (value as FilterInput[]).map((f) => compileFilter(ds, f, alias, params)).filter((x): x is string => !!x);
      if (parts.length) conds.push(`(${parts.join(name === 'and' ? ' AND ' : ' OR ')})`);
      continue;
    }
    const f = fieldByName(ds, name);
    const col = `${alias}.${quoteIdent(columnName(f.name))}`;
    const type = PG_TYPES[f.type];
    for (const [op, operand] of Object.entries(value as Record<string, unknown>)) {
      if (operand === undefined || operand === null) continue;
      if (op in OPERATORS) conds.push(`${col} ${OPERATORS[op]} ${params.add(operand, type)}`);
      else if (op === 'in') conds.push(`${col} = ANY(${params.add(operand, `${type}[]`)})`);
      else if (op === 'isNull') conds.push(`${col} IS ${operand ? '' : 'NOT '}NULL`);
      else if (op === 'startsWith') {
        conds.push(`${col} LIKE ${params.add(String(operand).replace(/[\\%_]/g, (c) => `\\${c}`) + '%', 'text')}`);
      }
    }
  }
  return conds.length ? conds.join(' AND ') : null;
}

function cursorCondition(ds: CatalogDataset, order: OrderSpec, values: unknown[], params: Params): string {
  const keys = keyFields(ds);
  const cmp = order.desc ? '<' : '>';
  const keyCols = keys.map((k) => `t0.${quoteIdent(columnName(k.name))}`);
  const keyVals = keys.map((k, i) => params.add(values[(order.field ? 1 : 0) + i], PG_TYPES[k.type]));
  const keyAfter = `(${keyCols.join(', ')}) ${cmp} (${keyVals.join(', ')})`;
  if (!order.field) return keyAfter;
  const col = `t0.${quoteIdent(columnName(order.field.name))}`;
  const v = values[0];
  // NULLS LAST: after a null order value only nulls with a greater key follow.
  if (v === null) return `(${col} IS NULL AND ${keyAfter})`;
  const p = params.add(v, PG_TYPES[order.field.type]);
  return `(${col} ${cmp} ${p} OR (${col} = ${p} AND ${keyAfter}) OR ${col} IS NULL)`;
}

export function encodeCursor(values: unknown[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

function decodeCursor(cursor: string, ds: CatalogDataset, order: OrderSpec): unknown[] {
  const expected = (order.field ? 1 : 0) + keyFields(ds).length;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === expected) return v;
  } catch {
    /* reported below */
  }
  throw new UserInputError('after: not a cursor of this list and order; use endCursor or edges.cursor from the previous page');
}
