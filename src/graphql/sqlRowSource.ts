import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode, type ValueNode } from 'graphql';
import type { AccessView, DatasetAccess } from '../access/accessPolicy';
import { AccessAudit, type PlanNotes } from '../audit/AccessAudit';
import { keyFields } from '../catalog/Catalog';
import type { Catalog, CatalogDataset } from '../catalog/Catalog';
import type { Sql } from '../db/createSql';
import { ForbiddenError } from '../errors';
import type { RequestContext } from '../server/RequestContext';
import { maskValue } from '../validation/mask';
import { connectionSelection, type DatasetRowSource } from './buildDatasetSchema';
import { AUDIT_PROP, compileList, compileLookup, noteAuditHashes, OUTSIDE_ROWS_PREFIX, REF_PREFIX, rowFromArray, type CompileContext, type CompiledStatement, type ObjectPlan } from './compileQuery';
import { applyFieldDecisions, decidedFields, type DecidedField } from './permissions';
import { collectFields } from './selection';
import { VERIFICATION_FLAG } from './verificationFlag';

function usesVariable(v: ValueNode): boolean {
  if (v.kind === Kind.VARIABLE) return true;
  if (v.kind === Kind.LIST) return v.values.some(usesVariable);
  if (v.kind === Kind.OBJECT) return v.fields.some((f) => usesVariable(f.value));
  return false;
}

/**
 * True when a selection's shape or nested parameters may depend on variables or fragments
 * (its compiled statement is not cached).
 */
function hasDirectivesOrFragments(set: SelectionSetNode | undefined): boolean {
  if (!set) return false;
  for (const sel of set.selections) {
    if (sel.kind !== Kind.FIELD || sel.directives?.length) return true;
    if (sel.arguments?.some((a) => usesVariable(a.value))) return true;
    if (hasDirectivesOrFragments(sel.selectionSet)) return true;
  }
  return false;
}

/** Collects what a plan reads and refuses (names only), all depths. */
function collectPlan(audit: AccessAudit, plan: ObjectPlan): void {
  const code = plan.ds.code;
  audit.datasets.add(code);
  for (const id of plan.access.grantIds) audit.grantIds.add(id);
  for (const f of plan.fields) audit.fieldsReturned.add(AccessAudit.fieldKey(code, f.name));
  for (const f of plan.denied) audit.fieldsDenied.add(AccessAudit.fieldKey(code, f.name));
  for (const r of plan.deniedRefs) {
    audit.datasets.add(r.targetDataset);
    audit.fieldsDenied.add(AccessAudit.fieldKey(code, r.name));
  }
  for (const m of plan.masks) audit.masking.set(AccessAudit.fieldKey(code, m.name), m.rule);
  for (const r of plan.refs) collectPlan(audit, r.plan);
}

/** The scalar fields a plan's rows answer (readable or not), as shield's decisions name them. */
const planFields = new WeakMap<ObjectPlan, DecidedField[]>();

function fieldsToDecide(plan: ObjectPlan): DecidedField[] {
  let list = planFields.get(plan);
  if (!list) {
    const names = [...plan.fields, ...plan.denied].map((f) => f.name);
    if (plan.verificationFlag) names.push(VERIFICATION_FLAG);
    planFields.set(plan, (list = decidedFields(plan.ds.typeName, names)));
  }
  return list;
}

/**
 * Masks what the plan says, takes each row's keyed hashes into the audit, and (when the schema
 * is guarded) applies graphql-shield's decisions to the row's fields; all depths.
 */
function finishRow(plan: ObjectPlan, row: Record<string, unknown>, ctx: RequestContext, guarded: boolean): void {
  const audit = ctx.audit;
  audit.rowCount++;
  const hashes = row[AUDIT_PROP] as string | undefined;
  if (hashes) noteAuditHashes(audit, hashes);
  for (const m of plan.masks) {
    const v = row[m.name];
    if (v !== null && v !== undefined) row[m.name] = maskValue(m.rule, String(v));
  }
  for (const f of plan.outsideRows) {
    const flag = OUTSIDE_ROWS_PREFIX + f.name;
    if (row[flag] === true) {
      row[f.name] = new ForbiddenError(plan.access.denial(f, true));
      audit.fieldsDenied.add(AccessAudit.fieldKey(plan.ds.code, f.name));
    }
    row[flag] = undefined;
  }
  if (guarded) applyFieldDecisions(ctx, fieldsToDecide(plan), row);
  for (const r of plan.refs) {
    const v = row[REF_PREFIX + r.responseKey];
    if (Array.isArray(v)) for (const x of v) finishRow(r.plan, x as Record<string, unknown>, ctx, guarded);
    else if (v) finishRow(r.plan, v as Record<string, unknown>, ctx, guarded);
  }
}

/** The dataset as a whole: refused without a grant (nothing is read). */
function datasetAccess(view: AccessView, ds: CatalogDataset, audit: AccessAudit): DatasetAccess {
  const access = view.of(ds);
  if (access.basis === 'NONE') {
    audit.datasets.add(ds.code);
    audit.datasetsDenied.add(ds.code);
    throw new ForbiddenError(access.denial());
  }
  return access;
}

/** A compiled page statement, kept for the same node, view and variables. */
interface CachedList extends CompiledStatement {
  /** What the plan reads, for the access record (made on first use). */
  notes?: PlanNotes;
}
/** Variables longer than this as JSON are not used as a cache key (a page is compiled anew). */
const MAX_LIST_KEY = 2000;
/** Pages kept per field node and view; the oldest go all at once beyond this. */
const MAX_LISTS_PER_NODE = 256;

interface CachedLookup {
  text: string;
  /** Parameters after the key values. */
  tail: unknown[];
  plan: ObjectPlan;
  /** What the plan reads, for the access record (made on first use). */
  notes?: PlanNotes;
}

/**
 * Serves datasets whose rows live in this gateway's PostgreSQL: each root field is answered
 * by one compiled statement, nested references included. Only what the caller's access view
 * allows is selected; masking is applied to the parsed answer, and every row's keyed hashes
 * go to the request's access record.
 */
export function createSqlRowSource(sql: Sql, catalog: Catalog, maxNestedRows: number, opts: { audit?: boolean } = {}): DatasetRowSource {
  // The access path: rows are noted for the access record, and (the schema being served under
  // graphql-shield, permissions.ts, exactly then) shield's decisions are applied to every row.
  const audit = opts.audit ?? true;
  // Compiled lookups per field node of a parsed document (Apollo keeps documents cached, so
  // the same query string hits the same node) and per access (access views are memoised,
  // so a steady caller hits the same object).
  const lookups = new WeakMap<FieldNode, WeakMap<DatasetAccess, CachedLookup>>();
  // Compiled pages per field node, access view and variables (exact: a page asked again). Key and
  // values hold the variables (a filter's ID number, say) in this process's memory only, as
  // Apollo's document cache holds literal ones; they are never logged or stored.
  const lists = new WeakMap<FieldNode, WeakMap<AccessView, Map<string, CachedList>>>();
  const compileContext = (info: GraphQLResolveInfo, ctx: RequestContext, access: AccessView): CompileContext => ({
    schema: info.schema,
    catalog,
    fragments: info.fragments,
    variableValues: info.variableValues,
    maxNestedRows,
    access,
    auditPads: audit ? ctx.services.auditKeys.dataPads : null,
  });
  return {
    async lookup(ds, keys, info, ctx) {
      const view = await ctx.access();
      const access = datasetAccess(view, ds, ctx.audit);
      const node = info.fieldNodes.length === 1 ? info.fieldNodes[0] : undefined;
      let cached = node && lookups.get(node)?.get(access);
      let text: string;
      let values: unknown[];
      let plan: ObjectPlan;
      const keyValues = keyFields(ds).map((k) => keys[k.name]);
      if (cached) {
        ({ text, plan } = cached);
        values = cached.tail.length ? [...keyValues, ...cached.tail] : keyValues;
      } else {
        const cc = compileContext(info, ctx, view);
        const selection = collectFields(cc, info.fieldNodes.map((n) => n.selectionSet));
        const stmt = compileLookup(cc, ds, keys, selection);
        ({ text, values, plan } = stmt);
        if (node && !hasDirectivesOrFragments(node.selectionSet)) {
          let byAccess = lookups.get(node);
          if (!byAccess) lookups.set(node, (byAccess = new WeakMap()));
          byAccess.set(access, (cached = { text, tail: values.slice(keyValues.length), plan }));
        }
      }
      if (audit) {
        // A cached lookup's plan is noted once, sorted and frozen, and kept with it; a plan made
        // for this request only is collected into the request's sets (caching it would only make garbage).
        if (cached) ctx.audit.notePlan((cached.notes ??= AccessAudit.planNotes((a) => collectPlan(a, plan))));
        else collectPlan(ctx.audit, plan);
      }
      const rows = await sql.unsafe<{ d: string }[]>(text, values as never[], { prepare: true });
      if (!rows.length) return null;
      const row = rowFromArray(plan, JSON.parse(rows[0].d) as unknown[]);
      finishRow(plan, row, ctx, audit);
      return row;
    },
    async list(ds, args, info, ctx) {
      const view = await ctx.access();
      datasetAccess(view, ds, ctx.audit);
      // A page's statement follows from the field node (its literal arguments and selection),
      // the variables and the access view: the same three give the same statement and values.
      const node = info.fieldNodes.length === 1 ? info.fieldNodes[0] : undefined;
      const key = node ? JSON.stringify(info.variableValues ?? {}) : '';
      const cacheable = node !== undefined && key.length <= MAX_LIST_KEY;
      let byKey = cacheable ? lists.get(node)?.get(view) : undefined;
      let stmt: CachedList | undefined = byKey?.get(key);
      if (!stmt) {
        const cc = compileContext(info, ctx, view);
        stmt = compileList(cc, ds, args, connectionSelection(cc, info));
        if (cacheable) {
          let byView = lists.get(node);
          if (!byView) lists.set(node, (byView = new WeakMap()));
          if (!byKey) byView.set(view, (byKey = new Map()));
          if (byKey.size >= MAX_LISTS_PER_NODE) byKey.clear();
          byKey.set(key, stmt);
        }
      }
      if (audit) {
        const plan = stmt.plan;
        ctx.audit.notePlan((stmt.notes ??= AccessAudit.planNotes((a) => collectPlan(a, plan))));
      }
      const [row] = await sql.unsafe<{ d: string; total?: number }[]>(stmt.text, stmt.values as never[], { prepare: true });
      const arrays = JSON.parse(row.d) as unknown[][];
      const hasNextPage = arrays.length > args.first;
      if (hasNextPage) arrays.length = args.first;
      const nodes = arrays.map((a) => rowFromArray(stmt.plan, a));
      for (const n of nodes) finishRow(stmt.plan, n, ctx, audit);
      return { nodes, hasNextPage, totalCount: row.total };
    },
  };
}
