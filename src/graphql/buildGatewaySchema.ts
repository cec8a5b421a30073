/**
 * The served schema = static API (type-graphql: catalog browsing, deliveries) + the dataset
 * API generated from the published catalog (graphql-js constructors). Pure apart from the
 * one-time type-graphql build; called again whenever a new catalog version is published.
 */
import 'reflect-metadata';
import { GraphQLObjectType, GraphQLSchema, type GraphQLFieldConfigMap } from 'graphql';
import { buildSchemaSync } from 'type-graphql';
import type { Catalog } from '../catalog/Catalog';
import type { RequestContext } from '../server/RequestContext';
import { buildDatasetSchema, type DatasetRowSource } from './buildDatasetSchema';
import { AccessRecordResolver } from './static/AccessRecordResolver';
import { CatalogResolver } from './static/CatalogResolver';
import { CatalogWorkflowResolver } from './static/CatalogWorkflowResolver';
import { GrantResolver } from './static/GrantResolver';
import { DataIssueResolver, PublicRequestResolver } from './static/DataIssueResolver';
import { CalendarResolver, DeadlineResolver } from './static/DeadlineResolver';
import { OpenCatalogResolver, OpenPlanResolver, ProvinceResolver } from './static/OpenDataResolver';
import { ShareRequestResolver } from './static/ShareRequestResolver';
import { VerificationResolver } from './static/VerificationResolver';
import { applyPermissions } from './permissions';

let staticSchema: GraphQLSchema | null = null;

/** The type-graphql part, built once per process. */
export function getStaticSchema(): GraphQLSchema {
  staticSchema ??= buildSchemaSync({ resolvers: [CatalogResolver, CatalogWorkflowResolver, GrantResolver, ShareRequestResolver, VerificationResolver, DeadlineResolver, CalendarResolver, DataIssueResolver, ProvinceResolver, PublicRequestResolver, OpenCatalogResolver, OpenPlanResolver, AccessRecordResolver], validate: false });
  return staticSchema;
}

export class SchemaBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaBuildError';
  }
}

export function buildGatewaySchema(
  catalog: Catalog,
  opts: { defaultPageSize: number; maxPageSize: number; source: DatasetRowSource; permissions?: boolean },
): GraphQLSchema {
  const base = getStaticSchema().toConfig();
  const datasets = buildDatasetSchema(catalog, opts);
  const staticQuery = base.query!.toConfig().fields as GraphQLFieldConfigMap<unknown, RequestContext>;
  for (const name of Object.keys(datasets.query)) {
    if (name in staticQuery) throw new SchemaBuildError(`dataset root field ${name} clashes with a built-in field; rename the dataset type`);
  }
  const staticTypeNames = new Set(base.types.map((t) => t.name));
  for (const t of datasets.types) {
    if (staticTypeNames.has(t.name)) throw new SchemaBuildError(`dataset type ${t.name} clashes with a built-in type; rename the dataset type`);
  }
  const query = new GraphQLObjectType({ name: 'Query', fields: { ...staticQuery, ...datasets.query } });
  const schema = new GraphQLSchema({
    ...base,
    query,
    types: [...base.types.filter((t) => t.name !== 'Query'), ...datasets.types],
  });
  // Every field guarded, deny by default (graphql-shield, the second line).
  return opts.permissions === false ? schema : applyPermissions(schema, catalog);
}
