/**
 * graphql-shield: the second line of authorization, on every field of the served schema,
 * deny by default. The first line is the query compiler, which never selects what the caller
 * may not read (compileQuery.ts); this layer refuses a field again at resolution time, and is
 * what gives each refused field its FORBIDDEN error (with its path and how to obtain access),
 * so a field outside the grant is `null` with an error, never a silent `null`.
 *
 * Errors are the project's own (errors.ts). Errors thrown by resolvers pass through unchanged
 * (allowExternalErrors), so they are not replaced by shield's generic message.
 *
 * Decided once per request, applied to every row. Shield's middleware is asynchronous (a few
 * awaits per field), and a dataset list resolves hundreds of fields per request (Q2: ~1,100);
 * wrapped field by field, shield cost more Node CPU than the whole query. The rules of dataset
 * row, page and edge types depend on the request only (the caller's access view), never on the
 * row, its arguments or its path. So when a dataset root field runs, shield's own middleware is
 * first asked, once, about every field of those types that the selection reaches (fragments
 * included), and its answers are kept for the request:
 * - scalar fields of rows have no per-row resolver: the row source applies the decisions to
 *   every row it returns (applyFieldDecisions): the value where shield allowed the field,
 *   shield's error where it refused it (GraphQL reports it at the row's own path), and a
 *   FORBIDDEN error where there is no decision (deny by default);
 * - references, pages and edges keep a resolver that takes the decision, or asks shield's
 *   middleware when there is none.
 * Root fields, mutations and the static API go through shield's middleware on every call.
 */
import {
  getNamedType,
  isObjectType,
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import type { IMiddlewareFunction } from 'graphql-middleware';
import { allow, rule, shield } from 'graphql-shield';
import type { IRules } from 'graphql-shield';
import { referenceDenial, type AccessView } from '../access/accessPolicy';
import type { Catalog, CatalogDataset, CatalogField, CatalogReference } from '../catalog/Catalog';
import { ForbiddenError, UnauthenticatedError } from '../errors';
import type { RequestContext } from '../server/RequestContext';
import { connectionTypeName, edgeTypeName, listFieldName, lookupFieldName } from './naming';
import { VERIFICATION_FLAG } from './verificationFlag';

const identified = rule({ cache: 'no_cache' })((_p, _a, ctx: RequestContext) =>
  ctx.principal ? true : new UnauthenticatedError('this operation needs an identified caller: send Authorization: Bearer <token>'),
);

/** The dataset as a whole: readable when the caller owns it or holds a grant for its purpose. */
function datasetRule(ds: CatalogDataset) {
  return rule({ cache: 'no_cache' })(async (_p, _a, ctx: RequestContext) => {
    const access = (await ctx.access()).of(ds);
    if (access.basis !== 'NONE') return true;
    ctx.audit.datasets.add(ds.code);
    ctx.audit.datasetsDenied.add(ds.code);
    return new ForbiddenError(access.denial());
  });
}

/** A row's flag: readable with the row (no audit notes: the root field made them). */
function rowFlagRule(ds: CatalogDataset) {
  const decide = (view: AccessView) => {
    const access = view.of(ds);
    return access.basis !== 'NONE' || new ForbiddenError(access.denial());
  };
  return rule({ cache: 'no_cache' })((_p, _a, ctx: RequestContext) => (ctx.accessView ? decide(ctx.accessView) : ctx.access().then(decide)));
}

function fieldRule(ds: CatalogDataset, f: CatalogField) {
  const decide = (view: AccessView) => {
    const access = view.of(ds);
    return access.fields.has(f.name) || new ForbiddenError(access.denial(f));
  };
  // Synchronous once the request's access view is loaded (always, below a root field): this
  // runs for every field of every row.
  return rule({ cache: 'no_cache' })((_p, _a, ctx: RequestContext) => (ctx.accessView ? decide(ctx.accessView) : ctx.access().then(decide)));
}

/** A reference: the target readable, and both join fields readable in clear (accessPolicy.referenceDenial). */
function referenceRule(ds: CatalogDataset, ref: CatalogReference, target: CatalogDataset) {
  const decide = (view: AccessView) => {
    const denial = referenceDenial(view, ds, ref, target);
    return denial === null || new ForbiddenError(denial);
  };
  return rule({ cache: 'no_cache' })((_p, _a, ctx: RequestContext) => (ctx.accessView ? decide(ctx.accessView) : ctx.access().then(decide)));
}

/** Root fields of the static API and who may call them. */
const STATIC_QUERY_RULES: Record<string, 'public' | 'identified'> = {
  departments: 'public',
  datasets: 'public',
  dataset: 'public',
  lateDatasets: 'public',
  deliveries: 'identified',
  datasetVersions: 'identified',
  grants: 'identified',
  shareRequests: 'identified',
  verify: 'identified',
  notifications: 'identified',
  deadlineOverview: 'identified',
  calendarStatus: 'public',
  dataDemands: 'identified',
  corrections: 'identified',
  provinceSyncStatus: 'identified',
  publicRequests: 'identified',
  openCatalog: 'public',
  openPlans: 'public',
  accessRecords: 'identified',
  subjectAccessReport: 'identified',
};

export function applyPermissions(schema: GraphQLSchema, catalog: Catalog): GraphQLSchema {
  const rules: Record<string, Record<string, unknown> | unknown> = {};
  const datasetTypes = new Set<string>();
  const query: Record<string, unknown> = {};
  for (const name of Object.keys(schema.getQueryType()!.getFields())) {
    const level = STATIC_QUERY_RULES[name];
    if (level === 'public') query[name] = allow;
    else if (level === 'identified') query[name] = identified;
  }
  const mutation: Record<string, unknown> = {};
  for (const name of Object.keys(schema.getMutationType()?.getFields() ?? {})) mutation[name] = identified;

  for (const ds of catalog.datasets) {
    const r = datasetRule(ds);
    query[lookupFieldName(ds)] = r;
    query[listFieldName(ds)] = r;
    datasetTypes.add(ds.typeName);
    const fields: Record<string, unknown> = {};
    for (const f of ds.fields) fields[f.name] = fieldRule(ds, f);
    for (const ref of ds.references) {
      const target = catalog.datasets.find((d) => d.code === ref.targetDataset)!;
      fields[ref.name] = referenceRule(ds, ref, target);
    }
    if (!fields[VERIFICATION_FLAG]) fields[VERIFICATION_FLAG] = rowFlagRule(ds);
    rules[ds.typeName] = fields;
    // Pages and edges only carry rows whose fields are guarded above.
    rules[connectionTypeName(ds)] = allow;
    rules[edgeTypeName(ds)] = allow;
    datasetTypes.add(connectionTypeName(ds));
    datasetTypes.add(edgeTypeName(ds));
  }
  rules.Query = query;
  if (schema.getMutationType()) rules.Mutation = mutation;
  // Result types of the static API and PageInfo: reachable only through guarded root fields.
  for (const [name, type] of Object.entries(schema.getTypeMap())) {
    if (name.startsWith('__') || !isObjectType(type) || name in rules) continue;
    if (name === 'Query' || name === 'Mutation' || name === 'Subscription' || datasetTypes.has(name)) continue;
    rules[name] = allow;
  }
  const permissions = shield(rules as IRules, {
    fallbackRule: rule({ cache: 'no_cache' })(() => false),
    fallbackError: () => new ForbiddenError('not permitted: no access rule covers this field (deny by default)'),
    allowExternalErrors: true,
  });
  const generated = permissions.generate(schema) as Record<string, Record<string, IMiddlewareFunction>>;
  const rowScalars = new Map<string, Set<string>>();
  for (const ds of catalog.datasets) rowScalars.set(ds.typeName, new Set([...ds.fields.map((f) => f.name), VERIFICATION_FLAG]));
  const rootFields = new Set(catalog.datasets.flatMap((ds) => [lookupFieldName(ds), listFieldName(ds)]));
  return applyMiddleware(schema, decidedPerRequest(generated, datasetTypes, rowScalars, rootFields));
}

/** A field middleware as graphql-middleware calls it. */
type Guard = (
  resolve: (parent?: unknown, args?: unknown, ctx?: unknown, info?: GraphQLResolveInfo) => unknown,
  parent: unknown,
  args: Record<string, unknown>,
  ctx: RequestContext,
  info: GraphQLResolveInfo,
) => unknown;

/** What shield's middleware answers when it lets a field through to this resolver. */
const ALLOWED = Symbol('shield allowed');
const probe = () => ALLOWED;

/** Shield's decisions of the current request, by "Type.field". */
const decisions = new WeakMap<RequestContext, Map<string, unknown>>();

/** A row's field and its key in the request's decisions. */
export interface DecidedField {
  name: string;
  key: string;
}

export function decidedFields(typeName: string, names: Iterable<string>): DecidedField[] {
  return [...names].map((name) => ({ name, key: `${typeName}.${name}` }));
}

/**
 * Applies shield's decisions to one row's scalar fields (the row source calls this for every
 * row it returns, before GraphQL sees it): a field shield allowed keeps its value; a field
 * shield refused gets shield's error as its value, which GraphQL turns into `null` with that
 * error at the row's own path. A field without a decision is refused (deny by default).
 */
export function applyFieldDecisions(ctx: RequestContext, fields: readonly DecidedField[], row: Record<string, unknown>): void {
  const decided = decisions.get(ctx);
  for (const { name, key } of fields) {
    const d = decided?.get(key);
    if (d === ALLOWED) continue;
    row[name] = d ?? new ForbiddenError(`not permitted: no access rule decided ${key} for this request (deny by default)`);
  }
}

/**
 * Shield's middleware map, changed in three ways (see the file's comment):
 * - the scalar fields of dataset row types have no middleware: the row source applies the
 *   request's decisions to each row (applyFieldDecisions), so GraphQL reads them as plain
 *   properties;
 * - the other fields of dataset row, page and edge types (references, nodes, edges, …) read the
 *   request's decision when there is one, and go through shield's middleware when there is not;
 * - dataset root fields first have shield decide every field of those types their selection
 *   reaches (shield's own middleware, once per field), then run as shield says.
 */
function decidedPerRequest(
  generated: Record<string, Record<string, IMiddlewareFunction>>,
  datasetTypes: Set<string>,
  rowScalars: Map<string, Set<string>>,
  rootFields: Set<string>,
): Record<string, Record<string, IMiddlewareFunction>> {
  const out: Record<string, Record<string, IMiddlewareFunction>> = { ...generated };
  for (const typeName of datasetTypes) {
    const scalars = rowScalars.get(typeName);
    const fields: Record<string, IMiddlewareFunction> = {};
    for (const [name, mw] of Object.entries(generated[typeName] ?? {})) {
      if (scalars?.has(name)) continue; // decided per request, applied by the row source
      if (typeof mw !== 'function') {
        fields[name] = mw; // a rule with fragments (none here): left to shield
        continue;
      }
      const guard = mw as Guard;
      const key = `${typeName}.${name}`;
      fields[name] = ((resolve, parent, args, ctx, info) => {
        const d = decisions.get(ctx)?.get(key);
        if (d === undefined) return guard(resolve, parent, args, ctx, info);
        return d === ALLOWED ? resolve(parent, args, ctx, info) : d;
      }) satisfies Guard as IMiddlewareFunction;
    }
    out[typeName] = fields;
  }
  // Fields below each root field node, found once per parsed document (Apollo caches documents).
  const below = new WeakMap<FieldNode, Map<string, Guard>>();
  const guardsBelow = (info: GraphQLResolveInfo): Map<string, Guard> => {
    const node = info.fieldNodes.length === 1 ? info.fieldNodes[0] : undefined;
    let found = node && below.get(node);
    if (!found) {
      found = new Map();
      const type = getNamedType(info.returnType);
      if (isObjectType(type)) {
        for (const n of info.fieldNodes) walk(type, n.selectionSet, info.fragments, generated, datasetTypes, found, new Set());
      }
      if (node) below.set(node, found);
    }
    return found;
  };
  // The fields below a root field node that shield allowed, by access view: the rules of these
  // types depend on the view alone (memoised: a steady caller has the same object request after
  // request), so a view that was allowed them all once is allowed them again. Refusals are not
  // kept: each is decided (and its error made) anew.
  const allowedBelow = new WeakMap<AccessView, WeakMap<Map<string, Guard>, readonly string[]>>();
  const query = { ...generated.Query };
  for (const name of rootFields) {
    const rootGuard = generated.Query[name] as Guard;
    query[name] = (async (resolve, parent, args, ctx, info) => {
      const decided = decisions.get(ctx) ?? new Map<string, unknown>();
      decisions.set(ctx, decided);
      const below = guardsBelow(info);
      // (A view that cannot be loaded is left to the rules, which report it as before.)
      const view = ctx.accessView ?? (await ctx.access().catch(() => undefined));
      const allowed = view && allowedBelow.get(view)?.get(below);
      if (allowed) {
        for (const key of allowed) if (!decided.has(key)) decided.set(key, ALLOWED);
        return rootGuard(resolve, parent, args, ctx, info);
      }
      const deciding: Promise<void>[] = [];
      for (const [key, guard] of below) {
        if (decided.has(key)) continue;
        // Shield's own middleware, with a resolver that only reports that it was reached.
        deciding.push(
          Promise.resolve(guard(probe, undefined, {}, ctx, info)).then(
            (d) => void decided.set(key, d),
            () => undefined, // undecided: refused (scalars) or decided per call (others)
          ),
        );
      }
      if (deciding.length) await Promise.all(deciding);
      const decidedView = ctx.accessView;
      const keys = [...below.keys()];
      if (decidedView && keys.every((key) => decided.get(key) === ALLOWED)) {
        let byNode = allowedBelow.get(decidedView);
        if (!byNode) allowedBelow.set(decidedView, (byNode = new WeakMap()));
        byNode.set(below, keys);
      }
      return rootGuard(resolve, parent, args, ctx, info);
    }) satisfies Guard as IMiddlewareFunction;
  }
  out.Query = query;
  return out;
}

/** Adds the guard of every dataset-type field the selection reaches (fragments included), by "Type.field". */
function walk(
  type: GraphQLObjectType,
  set: SelectionSetNode | undefined,
  fragments: Record<string, FragmentDefinitionNode>,
  generated: Record<string, Record<string, IMiddlewareFunction>>,
  datasetTypes: Set<string>,
  found: Map<string, Guard>,
  seenFragments: Set<string>,
): void {
  if (!set) return;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      const def = type.getFields()[sel.name.value];
      if (!def) continue; // __typename and other meta fields
      if (datasetTypes.has(type.name)) {
        const g = generated[type.name]?.[sel.name.value];
        if (typeof g === 'function') found.set(`${type.name}.${sel.name.value}`, g as Guard);
      }
      const named = getNamedType(def.type);
      if (isObjectType(named)) walk(named, sel.selectionSet, fragments, generated, datasetTypes, found, seenFragments);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      if (!sel.typeCondition || sel.typeCondition.name.value === type.name) walk(type, sel.selectionSet, fragments, generated, datasetTypes, found, seenFragments);
    } else {
      const f = fragments[sel.name.value];
      if (f && f.typeCondition.name.value === type.name && !seenFragments.has(f.name.value)) {
        seenFragments.add(f.name.value);
        walk(type, f.selectionSet, fragments, generated, datasetTypes, found, seenFragments);
      }
    }
  }
}
