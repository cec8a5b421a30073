/**
 * Catalog → GraphQL types and root fields for dataset rows (pure: no I/O at build time).
 * For each published dataset: an object type with its fields (all nullable, so a field the
 * caller may not read can be answered with null and an error), a lookup by key, a paginated
 * list with filters and order on key and indexed fields, and its references to other datasets.
 */
import type { PageSizeExtension } from './queryCost';
import {
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLFloat,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLString,
  type GraphQLFieldConfig,
  type GraphQLFieldConfigMap,
  type GraphQLInputFieldConfigMap,
  type GraphQLResolveInfo,
  type GraphQLScalarType,
} from 'graphql';
import type { Catalog, CatalogDataset, CatalogField, FieldType } from '../catalog/Catalog';
import { keyFields } from '../catalog/Catalog';
import { UserInputError } from '../errors';
import type { RequestContext } from '../server/RequestContext';
import { CURSOR_PROP, encodeCursor, REF_PREFIX, type CompileContext, type OrderSpec } from './compileQuery';
import {
  connectionTypeName,
  edgeTypeName,
  filterTypeName,
  listFieldName,
  lookupFieldName,
  orderByTypeName,
} from './naming';
import { GraphQLDate, GraphQLDateTime, GraphQLDecimal } from './scalars';
import { VERIFICATION_FLAG } from './verificationFlag';
import { collectFields, subFields } from './selection';

export const SCALARS: Record<FieldType, GraphQLScalarType> = {
  STRING: GraphQLString,
  INT: GraphQLInt,
  FLOAT: GraphQLFloat,
  DECIMAL: GraphQLDecimal,
  BOOLEAN: GraphQLBoolean,
  DATE: GraphQLDate,
  DATETIME: GraphQLDateTime,
};

function filterInputFor(type: FieldType): GraphQLInputObjectType {
  const scalar = SCALARS[type];
  const fields: GraphQLInputFieldConfigMap = {
    eq: { type: scalar },
    ne: { type: scalar },
    in: { type: new GraphQLList(new GraphQLNonNull(scalar)) },
    isNull: { type: GraphQLBoolean },
  };
  if (type !== 'BOOLEAN') {
    Object.assign(fields, { lt: { type: scalar }, lte: { type: scalar }, gt: { type: scalar }, gte: { type: scalar } });
  }
  if (type === 'STRING') fields.startsWith = { type: GraphQLString };
  return new GraphQLInputObjectType({ name: `${scalar.name}Filter`, description: `Conditions on a ${scalar.name} field; all given conditions must hold.`, fields });
}

const FILTERS = Object.fromEntries(
  (Object.keys(SCALARS) as FieldType[]).map((t) => [t, filterInputFor(t)]),
) as Record<FieldType, GraphQLInputObjectType>;

export const PageInfo = new GraphQLObjectType({
  name: 'PageInfo',
  fields: {
    hasNextPage: { type: new GraphQLNonNull(GraphQLBoolean) },
    endCursor: { type: GraphQLString, description: 'Pass as `after` to get the next page.' },
  },
});

/** Fields a list can be filtered and ordered by: the key and `@index` fields. */
export function filterableFields(ds: CatalogDataset): CatalogField[] {
  return ds.fields.filter((f) => f.isKey || f.indexed);
}

function constantCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function fieldDescription(f: CatalogField): string {
  const parts = [f.label, `共享属性 ${f.shareClass}`, `分级 ${f.grade}`];
  if (f.mask) parts.push(`脱敏 ${f.mask}`);
  if (f.description) parts.push(f.description);
  return parts.join(' · ');
}

/** The row source interface a dataset is served through (SQL today; remote services later). */
export interface DatasetRowSource {
  lookup(ds: CatalogDataset, keys: Record<string, unknown>, info: GraphQLResolveInfo, ctx: RequestContext): Promise<Record<string, unknown> | null>;
  list(
    ds: CatalogDataset,
    args: { filter?: Record<string, unknown> | null; orderBy?: OrderSpec; first: number; after?: string | null },
    info: GraphQLResolveInfo,
    ctx: RequestContext,
  ): Promise<{ nodes: Record<string, unknown>[]; hasNextPage: boolean; totalCount?: number }>;
}

export interface DatasetSchemaParts {
  query: GraphQLFieldConfigMap<unknown, RequestContext>;
  types: GraphQLObjectType[];
}

/** Builds the dataset part of the served schema for the published catalog. */
export function buildDatasetSchema(
  catalog: Catalog,
  opts: { defaultPageSize: number; maxPageSize: number; source: DatasetRowSource },
): DatasetSchemaParts {
  const objectTypes = new Map<string, GraphQLObjectType>();
  const byCode = new Map(catalog.datasets.map((d) => [d.code, d]));

  for (const ds of catalog.datasets) {
    objectTypes.set(
      ds.code,
      new GraphQLObjectType<Record<string, unknown>, RequestContext>({
        name: ds.typeName,
        description: `${ds.name}（${ds.code}）— ${ds.summary}`,
        fields: () => {
          const fields: GraphQLFieldConfigMap<Record<string, unknown>, RequestContext> = {};
          for (const f of ds.fields) {
            fields[f.name] = { type: SCALARS[f.type], description: fieldDescription(f) };
          }
          if (!fields[VERIFICATION_FLAG]) {
            fields[VERIFICATION_FLAG] = {
              type: GraphQLBoolean,
              description: 'True while an error report or a data subject’s request about this record is being handled (R17–R19); its values are still served.',
            };
          }
          for (const r of ds.references) {
            const target = objectTypes.get(r.targetDataset)!;
            const refField: GraphQLFieldConfig<Record<string, unknown>, RequestContext> = {
              type: r.many ? new GraphQLList(new GraphQLNonNull(target)) : target,
              description: `${r.label}（→ ${byCode.get(r.targetDataset)?.name ?? r.targetDataset}）`,
              resolve: (row, _args, _ctx, info) => {
                const v = row[REF_PREFIX + info.path.key];
                return v === undefined ? null : v;
              },
            };
            if (r.many) {
              refField.args = { first: { type: GraphQLInt, description: 'At most this many rows (default and maximum: limits.maxPageSize).' } };
              refField.extensions = { pageSize: { default: opts.maxPageSize, max: opts.maxPageSize } satisfies PageSizeExtension };
            }
            fields[r.name] = refField;
          }
          return fields;
        },
      }),
    );
  }

  const query: GraphQLFieldConfigMap<unknown, RequestContext> = {};
  const types: GraphQLObjectType[] = [...objectTypes.values()];
  for (const ds of catalog.datasets) {
    const type = objectTypes.get(ds.code)!;
    const keys = keyFields(ds);
    query[lookupFieldName(ds)] = {
      type,
      description: `${ds.name}: one row by its key (${keys.map((k) => k.label).join(', ')}).`,
      args: Object.fromEntries(keys.map((k) => [k.name, { type: new GraphQLNonNull(SCALARS[k.type]) }])),
      resolve: (_src, args, ctx, info) => opts.source.lookup(ds, args, info, ctx),
    };

    const filterable = filterableFields(ds);
    const filterType: GraphQLInputObjectType = new GraphQLInputObjectType({
      name: filterTypeName(ds),
      description: `Filters on the key and indexed fields of ${ds.name}.`,
      fields: () => ({
        ...Object.fromEntries(filterable.map((f) => [f.name, { type: FILTERS[f.type], description: f.label }])),
        and: { type: new GraphQLList(new GraphQLNonNull(filterType)) },
        or: { type: new GraphQLList(new GraphQLNonNull(filterType)) },
      }),
    });
    const orderValues: Record<string, { value: OrderSpec; description: string }> = {};
    for (const f of filterable) {
      const spec = f.isKey && keys.length === 1 ? null : f;
      orderValues[`${constantCase(f.name)}_ASC`] = { value: { field: spec, desc: false }, description: `${f.label} ascending` };
      orderValues[`${constantCase(f.name)}_DESC`] = { value: { field: spec, desc: true }, description: `${f.label} descending` };
    }
    const orderType = new GraphQLEnumType({ name: orderByTypeName(ds), values: orderValues });
    const edgeType = new GraphQLObjectType<Record<string, unknown>, RequestContext>({
      name: edgeTypeName(ds),
      fields: {
        cursor: { type: new GraphQLNonNull(GraphQLString), resolve: (row) => encodeCursor(row[CURSOR_PROP] as unknown[]) },
        node: { type: new GraphQLNonNull(type), resolve: (row) => row },
      },
    });
    const connType = new GraphQLObjectType<{ nodes: Record<string, unknown>[]; hasNextPage: boolean; totalCount?: number }, RequestContext>({
      name: connectionTypeName(ds),
      fields: {
        nodes: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(type))) },
        edges: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(edgeType))), resolve: (c) => c.nodes },
        pageInfo: {
          type: new GraphQLNonNull(PageInfo),
          resolve: (c) => {
            const last = c.nodes[c.nodes.length - 1];
            return { hasNextPage: c.hasNextPage, endCursor: last ? encodeCursor(last[CURSOR_PROP] as unknown[]) : null };
          },
        },
        totalCount: { type: GraphQLInt, description: 'Rows matching the filter (counted only when asked for).' },
      },
    });
    types.push(connType);
    query[listFieldName(ds)] = {
      type: new GraphQLNonNull(connType),
      description: `${ds.name}: a page of rows, in a stable order (default: by key).`,
      extensions: { pageSize: { default: opts.defaultPageSize, max: opts.maxPageSize } satisfies PageSizeExtension },
      args: {
        filter: { type: filterType },
        orderBy: { type: orderType },
        first: { type: GraphQLInt, description: `Page size (default ${opts.defaultPageSize}, at most ${opts.maxPageSize}).` },
        after: { type: GraphQLString, description: 'endCursor of the previous page.' },
      },
      resolve: (_src, args, ctx, info) => {
        const first = (args.first as number | undefined) ?? opts.defaultPageSize;
        if (!Number.isInteger(first) || first < 0 || first > opts.maxPageSize) {
          throw new UserInputError(`first must be between 0 and ${opts.maxPageSize}`, { extensions: { argumentName: 'first' } });
        }
        return opts.source.list(ds, { filter: args.filter, orderBy: args.orderBy, first, after: args.after }, info, ctx);
      },
    };
  }
  return { query, types };
}

/** Selection helpers shared by row sources. */
export function connectionSelection(ctx: CompileContext, info: GraphQLResolveInfo) {
  const top = collectFields(ctx, info.fieldNodes.map((n) => n.selectionSet));
  const node = new Map<string, import('graphql').FieldNode[]>();
  let withCursor = false;
  let withTotal = false;
  for (const [, nodes] of top) {
    const name = nodes[0].name.value;
    if (name === 'nodes') for (const [k, v] of subFields(ctx, nodes)) node.set(k, [...(node.get(k) ?? []), ...v]);
    else if (name === 'totalCount') withTotal = true;
    else if (name === 'pageInfo') withCursor = true;
    else if (name === 'edges') {
      for (const [, en] of subFields(ctx, nodes)) {
        const n = en[0].name.value;
        if (n === 'cursor') withCursor = true;
        if (n === 'node') for (const [k, v] of subFields(ctx, en)) node.set(k, [...(node.get(k) ?? []), ...v]);
      }
    }
  }
  return { node, withCursor, withTotal };
}
