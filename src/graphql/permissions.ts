/**
 * graphql-shield: the second line of authorization, on every field of the served schema,
 * deny by default. The first line is the query compiler, which never selects what the caller
 * may not read (compileQuery.ts); this layer refuses a field again at resolution time, and is
 * what gives each refused field its FORBIDDEN error (with its path and how to obtain access),
 * so a field outside the grant is `null` with an error, never a silent `null`.
 *
 * Errors are the project's own (errors.ts). Errors thrown by resolvers pass through unchanged
 * (allowExternalErrors), so they are not replaced by shield's generic message.
 */
import { isObjectType, type GraphQLSchema } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
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
    if (!fields[VERIFICATION_FLAG]) fields[VERIFICATION_FLAG] = datasetRule(ds);
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
  return applyMiddleware(schema, permissions);
}
