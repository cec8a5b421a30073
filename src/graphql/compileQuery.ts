/**
 * Compiles the selection of a dataset query — scalar fields and nested references at any
 * depth — into ONE SQL statement that returns the whole answer as JSON, the strategy
 * PostGraphile uses: only requested columns are read, nested lists come from correlated
 * subqueries over indexes, and the database does the nesting. Identifiers come from the
 * catalog and are quoted; every value is a typed parameter.
 */
import { createHash } from 'node:crypto';
import { getArgumentValues, type FieldNode, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { referenceDenial, type AccessView, type DatasetAccess } from '../access/accessPolicy';
import type { AccessAudit } from '../audit/AccessAudit';
import { DATA_HASH_BYTES, type DataPads } from '../audit/auditKeys';
import { HASH_HEX } from '../audit/rowSet';
import type { Catalog, CatalogDataset, CatalogField, CatalogReference, MaskRule } from '../catalog/Catalog';
import { keyFields } from '../catalog/Catalog';
import { ForbiddenError, UserInputError } from '../errors';
import { AUDIT_HASHES_COLUMN, AUDIT_KID_COLUMN, PG_TYPES, quoteIdent } from '../db/rowTables';
import { columnName, ROWS_SCHEMA, tableName } from './naming';
import { VERIFICATION_FLAG } from './verificationFlag';
import { subFields, type SelectionScope } from './selection';

/** Property under which a prefetched reference is stored on a row, by response key. */
export const REF_PREFIX = '__r_';
/** Property holding the cursor source values of a listed row. */
export const CURSOR_PROP = '__c';

/** Property holding the keyed hashes of a row (key, then data-subject identifiers) for the access record. */
export const AUDIT_PROP = '__a';
/** Prefix of the per-row flag "this row is outside the rows the field's grants cover". */
export const OUTSIDE_ROWS_PREFIX = '__o_';

export interface CompileContext extends SelectionScope {
  schema: GraphQLSchema;
  catalog: Catalog;
  /** Most rows a nested reference list returns. */
  maxNestedRows: number;
  /** What the caller may read: unreadable fields are never selected, rows are restricted. */
  access: AccessView;
  /**
   * HMAC-SHA256 pads of the access record's data key: each row then carries the keyed hashes
   * of its key and data-subject identifiers, computed by PostgreSQL (AUDIT_PROP).
   */
  auditPads: DataPads | null;
}

export interface ObjectPlan {
  ds: CatalogDataset;
  access: DatasetAccess;
  /** Requested fields the caller may read (selected). */
  fields: CatalogField[];
  /** Readable fields returned masked, with their rule. */
  masks: { name: string; rule: MaskRule }[];
  /** Readable fields whose grants cover fewer rows than the dataset's: flagged per row (OUTSIDE_ROWS_PREFIX). */
  outsideRows: CatalogField[];
  /** Requested fields the caller may not read (never selected). */
  denied: CatalogField[];
  /** Requested references to datasets the caller may not read (never selected). */
  deniedRefs: CatalogReference[];
  refs: RefPlan[];
  /** `underVerification` asked for (R19). */
  verificationFlag?: boolean;
  /** The names of the values of a returned row's JSON array, in order (set when the statement is compiled). */
  columns?: string[];
}

export interface RefPlan {
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

/** Typed statement parameters; `once` gives one placeholder to a value used many times. */
export class Params {
  readonly values: unknown[] = [];
  private readonly named = new Map<string, string>();
  /** `after`: placeholders $1..$after are the caller's; these values follow them. */
  constructor(private readonly after = 0) {}
  add(value: unknown, pgType: string): string {
    this.values.push(value);
    return `$${this.after + this.values.length}::${pgType}`;
  }
  once(name: string, value: unknown, pgType: string): string {
    let p = this.named.get(name);
    if (p === undefined) this.named.set(name, (p = this.add(value, pgType)));
    return p;
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
  const access = ctx.access.of(ds);
  const plan: ObjectPlan = { ds, access, fields: [], masks: [], outsideRows: [], denied: [], deniedRefs: [], refs: [] };
  const seen = new Set<string>();
  const type = ctx.schema.getType(ds.typeName) as GraphQLObjectType;
  for (const [responseKey, nodes] of selection) {
    const name = nodes[0].name.value;
    if (name === '__typename') continue;
    const field = ds.fields.find((f) => f.name === name);
    if (field) {
      if (!seen.has(name)) {
        seen.add(name);
        const fa = access.fields.get(name);
        if (!fa) plan.denied.push(field);
        else {
          plan.fields.push(field);
          if (fa.mask) plan.masks.push({ name, rule: fa.mask });
          if (fa.rowFilters) plan.outsideRows.push(field);
        }
      }
      continue;
    }
    const ref = ds.references.find((r) => r.name === name);
    if (!ref) {
      if (name === VERIFICATION_FLAG) plan.verificationFlag = true;
      continue;
    }
    const target = datasetByCode(ctx.catalog, ref.targetDataset);
    if (referenceDenial(ctx.access, ds, ref, target) !== null) {
      if (!plan.deniedRefs.includes(ref)) plan.deniedRefs.push(ref);
      continue;
    }
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

/**
 * The rows of `access` the caller may see, as a condition on `alias` (null = every row): any
 * of the grants' row restrictions holds.
 */
export function rowCondition(access: DatasetAccess, alias: string, params: Params): string | null {
  return filtersCondition(access.ds, access.rowFilters, alias, params);
}

/** Rows where any of `filters` holds (null = every row, none = no row); shared by grants' row restrictions. */
export function filtersCondition(ds: CatalogDataset, filters: FilterInput[] | null, alias: string, params: Params): string | null {
  if (filters === null) return null;
  if (!filters.length) return 'false';
  const parts = filters.map((f) => compileFilter(ds, f, alias, params) ?? 'true');
  return parts.length === 1 ? parts[0] : `(${parts.map((p) => `(${p})`).join(' OR ')})`;
}

/**
 * Data hash (truncated HMAC-SHA256, hex; auditKeys.ts) of a text expression, computed by
 * PostgreSQL with the audit pads. The text's UTF-8 bytes come from `textsend()`, which gives them
 * in the session's client encoding: postgres.js always connects with client_encoding UTF8, so
 * this equals `convert_to(text, 'UTF8')` at about half its cost (a page hashes hundreds of rows).
 */
function hmacSql(textExpr: string, params: Params, pads: DataPads): string {
  const inner = params.once('audit:inner', pads.inner, 'bytea');
  const outer = params.once('audit:outer', pads.outer, 'bytea');
  return `encode(substring(sha256(${outer} || sha256(${inner} || textsend(${textExpr}))) FROM 1 FOR ${DATA_HASH_BYTES}), 'hex')`;
}

/**
 * A row's data hashes as one text (see auditKeys.ts for the texts hashed): the key's hash, then
 * the hash of each data-subject identifier that is not null, HASH_HEX hex digits each. One string
 * instead of a JSON array per row: a page carries hundreds of them.
 *
 * `known`: a subject field whose hash the request already has from this row's parent, because
 * the reference joins on it (`t1.uscc = t0.uscc`, both marked @subject). Its value is the parent's,
 * so is its hash, and the record keeps each subject hash once: it is not computed again. A page of
 * 50 enterprises with ~150 licences computes ~300 HMACs instead of ~450.
 */
export function auditHashes(
  ds: CatalogDataset,
  alias: string,
  params: Params,
  pads: DataPads,
  known: CatalogField | null = null,
): string {
  // The key's text: resource code, U+001F, the key values joined by U+001F (auditKeys.ts).
  const prefix = params.once(`audit:prefix:${ds.code}`, `${ds.code}\u001f`, 'text');
  const keys = keyFields(ds).map((k) => `${alias}.${quoteIdent(columnName(k.name))}::text`);
  const keyText = `${prefix} || ${keys.length === 1 ? keys[0] : `concat_ws(chr(31), ${keys.join(', ')})`}`;
  const parts = [hmacSql(keyText, params, pads)];
  for (const f of ds.fields) {
    if (f.subjectId && f !== known) parts.push(hmacSql(`upper(btrim(${alias}.${quoteIdent(columnName(f.name))}::text))`, params, pads));
  }
  return parts.length === 1 ? parts[0] : `(${parts[0]} || ${parts.slice(1).map((p) => `coalesce(${p}, '')`).join(' || ')})`;
}

const kids = new WeakMap<DataPads, WeakMap<CatalogDataset, string>>();

/**
 * Identifies what `auditHashes` computes for rows of `ds` under this data key: the dataset's code,
 * its key fields and its @subject fields (names and types), and the key itself (through its pads,
 * never revealed: a SHA-256 over them). A delivery stores each row's hashes with this id
 * (AUDIT_KID_COLUMN); a read uses the stored hashes only where the id still matches, so a new
 * key or a catalog version that changes keys or subjects falls back to computing them.
 */
export function auditKid(ds: CatalogDataset, pads: DataPads): string {
  let byDs = kids.get(pads);
  if (!byDs) kids.set(pads, (byDs = new WeakMap()));
  let kid = byDs.get(ds);
  if (kid === undefined) {
    const spec = JSON.stringify([
      'hz-row-audit/1',
      ds.code,
      keyFields(ds).map((k) => [k.name, k.type]),
      ds.fields.filter((f) => f.subjectId).map((f) => [f.name, f.type]),
    ]);
    kid = createHash('sha256').update(pads.inner).update(pads.outer).update(spec, 'utf8').digest('hex').slice(0, 32);
    byDs.set(ds, kid);
  }
  return kid;
}

/**
 * A row's data hashes as the access record takes them: the ones its delivery stored with the row
 * when they were made under the current key and catalog (auditKid), else computed now
 * (auditHashes; rows delivered before, or under another key). Both give the same text, but a
 * page then reads ~250 stored texts instead of PostgreSQL computing ~300 HMACs.
 */
function rowAuditHashes(ds: CatalogDataset, alias: string, params: Params, pads: DataPads, known: CatalogField | null): string {
  const kid = params.once(`audit:kid:${ds.code}`, auditKid(ds, pads), 'text');
  let stored = `${alias}.${quoteIdent(AUDIT_HASHES_COLUMN)}`;
  // The parent has the hash of the only subject (a licence's credit code): the key's hash is enough.
  const subjects = ds.fields.filter((f) => f.subjectId);
  if (known !== null && subjects.length === 1 && subjects[0] === known) stored = `left(${stored}, ${HASH_HEX})`;
  return `CASE WHEN ${alias}.${quoteIdent(AUDIT_KID_COLUMN)} = ${kid} THEN ${stored} ELSE ${auditHashes(ds, alias, params, pads, known)} END`;
}

/**
 * A row's data hashes as a JSON string value for json_build_object. They are hex digits, which
 * JSON never escapes, so they are quoted and cast to json (json_in checks the text in one fast
 * scan, and json_build_object takes a json value as it is) instead of passed as text, which
 * json_build_object escapes character by character: on the bench's Q2 page (~10 KB of hashes) the
 * statement took 1.94 ms of its backend's CPU that way and 1.85 ms this way (bench/README.md,
 * "Where the access path's cost is"). The output is the same. NULL stays NULL (JSON null). Only a
 * tampered table holds a stored value with a quote, backslash or control character: such a value
 * fails the statement or is read JSON-decoded, where text would have been passed on as stored.
 */
function hashesAsJson(hexExpr: string): string {
  return `('"' || ${hexExpr} || '"')::json`;
}

/** Takes a row's data hashes (auditHashes) into the request's access record. */
export function noteAuditHashes(audit: AccessAudit, hashes: string): void {
  audit.rowHashes.push(hashes);
}

/**
 * One row as a JSON array of its values, with nested references as correlated subqueries; the
 * names of the values, in order, become `plan.columns` (rowFromArray turns the array back into an
 * object). json_build_array rather than json_build_object: PostgreSQL then writes no key per value,
 * and the bench's Q2 statement took 0.83 instead of 1.13 ms of its CPU (bench/README.md).
 */
function jsonRow(
  ctx: CompileContext,
  plan: ObjectPlan,
  alias: string,
  depth: number,
  params: Params,
  extra: [string, string][] = [],
  knownSubject: CatalogField | null = null,
): string {
  const names: string[] = [];
  const values: string[] = [];
  const add = (name: string, value: string) => {
    names.push(name);
    values.push(value);
  };
  for (const [name, value] of extra) add(name, value);
  for (const f of plan.fields) {
    const rowFilters = plan.access.fields.get(f.name)!.rowFilters;
    const col = colRef(alias, f);
    if (rowFilters) {
      // A field some grants do not cover is returned only on rows of the grants that do; on the
      // others a flag says so, and the row source answers FORBIDDEN there (never a silent null).
      const covered = filtersCondition(plan.ds, rowFilters, alias, params);
      add(f.name, `CASE WHEN ${covered} THEN ${col} END`);
      add(`${OUTSIDE_ROWS_PREFIX}${f.name}`, `(${covered}) IS NOT TRUE`);
    } else {
      add(f.name, col);
    }
  }
  if (ctx.auditPads) add(AUDIT_PROP, hashesAsJson(rowAuditHashes(plan.ds, alias, params, ctx.auditPads, knownSubject)));
  if (plan.verificationFlag) {
    const code = params.once(`code:${plan.ds.code}`, plan.ds.code, 'text');
    const key = `concat_ws(chr(31), ${keyFields(plan.ds).map((k) => `${alias}.${quoteIdent(columnName(k.name))}::text`).join(', ')})`;
    add(
      VERIFICATION_FLAG,
      `EXISTS (SELECT 1 FROM public.data_correction vc WHERE vc.dataset_id = (SELECT id FROM public.dataset WHERE code = ${code}) AND vc.record_key = ${key} AND vc.status = 'OPEN')`,
    );
  }
  for (const r of plan.refs) {
    const a = `t${depth + 1}`;
    const from = fieldByName(plan.ds, r.ref.fromField);
    const to = fieldByName(r.target, r.ref.toField);
    const targetRows = rowCondition(r.plan.access, a, params);
    const match = `${a}.${quoteIdent(columnName(to.name))} = ${alias}.${quoteIdent(columnName(from.name))}${targetRows ? ` AND ${targetRows}` : ''}`;
    // Joined on a subject identifier this row hashes already: the target's equal value is not hashed again.
    const inner = jsonRow(ctx, r.plan, a, depth + 1, params, [], from.subjectId && to.subjectId ? to : null);
    let sub: string;
    if (r.ref.many) {
      const limit = params.add(r.first, 'integer');
      // ARRAY(subquery) keeps the subquery's order: one index scan, no second sort.
      sub = `array_to_json(ARRAY(SELECT ${inner} FROM ${qualifiedTable(r.target)} ${a} WHERE ${match} ORDER BY ${keyOrder(a, r.target)} LIMIT ${limit}))`;
    } else {
      sub = `(SELECT ${inner} FROM ${qualifiedTable(r.target)} ${a} WHERE ${match} ORDER BY ${keyOrder(a, r.target)} LIMIT 1)`;
    }
    add(`${REF_PREFIX}${r.responseKey}`, sub);
  }
  plan.columns = names;
  // json_build_array takes at most 100 arguments: chunks of 100 values, concatenated as jsonb arrays.
  if (values.length <= 100) return `json_build_array(${values.join(', ')})`;
  const chunks: string[] = [];
  for (let i = 0; i < values.length; i += 100) chunks.push(`json_build_array(${values.slice(i, i + 100).join(', ')})::jsonb`);
  return `(${chunks.join(' || ')})::json`;
}

/**
 * A row as the statement returns it (a JSON array, jsonRow) turned into the object GraphQL and
 * the row source read: each value under its name in `plan.columns`, nested references likewise.
 */
export function rowFromArray(plan: ObjectPlan, values: unknown[]): Record<string, unknown> {
  const names = plan.columns!;
  const row: Record<string, unknown> = {};
  for (let i = 0; i < names.length; i++) row[names[i]] = values[i];
  for (const r of plan.refs) {
    const k = `${REF_PREFIX}${r.responseKey}`;
    const v = row[k];
    if (!Array.isArray(v)) continue; // null: no row
    row[k] = r.ref.many ? (v as unknown[][]).map((x) => rowFromArray(r.plan, x)) : rowFromArray(r.plan, v);
  }
  return row;
}

export interface CompiledStatement {
  text: string;
  values: unknown[];
  /** What the statement reads: masking and the access record follow it. */
  plan: ObjectPlan;
}

/** Refuses a filter or order over a field the caller may not read (it would reveal its values). */
function checkFilterable(ds: CatalogDataset, access: DatasetAccess, filter: FilterInput | null | undefined, order: OrderSpec | undefined): void {
  const names = new Set<string>();
  const walk = (f: FilterInput) => {
    for (const [k, v] of Object.entries(f)) {
      if (v === undefined || v === null) continue;
      if (k === 'and' || k === 'or') (v as FilterInput[]).forEach(walk);
      else names.add(k);
    }
  };
  if (filter) walk(filter);
  if (order?.field) names.add(order.field.name);
  for (const n of names) {
    const fa = access.fields.get(n);
    if (!fa || fa.mask || fa.rowFilters) {
      const f = fieldByName(ds, n);
      throw new ForbiddenError(
        fa ? `${ds.typeName}.${n} (${f.label}) is returned masked or only on some rows: it cannot be filtered or ordered on` : `cannot filter or order on ${access.denial(f)}`,
      );
    }
  }
}

/** One row by its key: `SELECT <json>::text AS d FROM ds.t t0 WHERE key = $1`. */
export function compileLookup(
  ctx: CompileContext,
  ds: CatalogDataset,
  keyValues: Record<string, unknown>,
  selection: Map<string, FieldNode[]>,
): CompiledStatement {
  const params = new Params();
  // Key values first: a cached statement text takes new keys as $1..$n (sqlRowSource).
  const conds = keyFields(ds).map((k) => `t0.${quoteIdent(columnName(k.name))} = ${params.add(keyValues[k.name], PG_TYPES[k.type])}`);
  const plan = planObject(ctx, ds, selection);
  const rows = rowCondition(plan.access, 't0', params);
  if (rows) conds.push(rows);
  const obj = jsonRow(ctx, plan, 't0', 0, params);
  return { text: `SELECT ${obj}::text AS d FROM ${qualifiedTable(ds)} t0 WHERE ${conds.join(' AND ')}`, values: params.values, plan };
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
  const access = ctx.access.of(ds);
  checkFilterable(ds, access, args.filter, args.orderBy);
  const conds: string[] = [];
  const rows = rowCondition(access, 't0', params);
  if (rows) conds.push(rows);
  const filterSql = args.filter ? compileFilter(ds, args.filter, 't0', params) : null;
  if (filterSql) conds.push(filterSql);
  if (args.after) conds.push(cursorCondition(ds, order, decodeCursor(args.after, ds, order), params));
  const keys = keyFields(ds);
  const orderCols = [
    ...(order.field ? [`t0.${quoteIdent(columnName(order.field.name))}${order.desc ? ' DESC' : ''} NULLS LAST`] : []),
    keyOrder('t0', ds, order.desc),
  ].join(', ');
  const extra: [string, string][] = [];
  if (sel.withCursor) {
    const cursorCols = [...(order.field ? [order.field] : []), ...keys].map((f) => colRef('t0', f));
    extra.push([CURSOR_PROP, `json_build_array(${cursorCols.join(', ')})`]);
  }
  const plan = planObject(ctx, ds, sel.node);
  const obj = jsonRow(ctx, plan, 't0', 0, params, extra);
  const limit = params.add(args.first + 1, 'integer');
  const where = conds.length ? `WHERE ${conds.join(' AND ')}` : '';
  const page = `array_to_json(ARRAY(SELECT ${obj} FROM ${qualifiedTable(ds)} t0 ${where} ORDER BY ${orderCols} LIMIT ${limit}))::text`;
  if (!sel.withTotal) return { text: `SELECT ${page} AS d`, values: params.values, plan };
  // The total counts the rows of the filter the caller may see (not the cursor's); the
  // conditions are compiled again with their own parameters.
  const countConds = [rowCondition(access, 'c0', params), args.filter ? compileFilter(ds, args.filter, 'c0', params) : null].filter((c): c is string => !!c);
  return {
    text: `SELECT ${page} AS d, (SELECT count(*) FROM ${qualifiedTable(ds)} c0 ${countConds.length ? `WHERE ${countConds.join(' AND ')}` : ''})::int AS total`,
    values: params.values,
    plan,
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
