import type { GraphQLResolveInfo } from 'graphql';
import type { Catalog } from '../catalog/Catalog';
import type { Sql } from '../db/createSql';
import { connectionSelection, type DatasetRowSource } from './buildDatasetSchema';
import { compileList, compileLookup, type CompileContext } from './compileQuery';
import { collectFields } from './selection';

/**
 * Serves datasets whose rows live in this gateway's PostgreSQL: each root field is answered
 * by one compiled statement, nested references included.
 */
export function createSqlRowSource(sql: Sql, catalog: Catalog, maxNestedRows: number): DatasetRowSource {
  const compileContext = (info: GraphQLResolveInfo): CompileContext => ({
    schema: info.schema,
    catalog,
    fragments: info.fragments,
    variableValues: info.variableValues,
    maxNestedRows,
  });
  return {
    async lookup(ds, keys, info) {
      const ctx = compileContext(info);
      const stmt = compileLookup(ctx, ds, keys, collectFields(ctx, info.fieldNodes.map((n) => n.selectionSet)));
      const rows = await sql.unsafe<{ d: string }[]>(stmt.text, stmt.values as never[], { prepare: true });
      return rows.length ? (JSON.parse(rows[0].d) as Record<string, unknown>) : null;
    },
    async list(ds, args, info) {
      const ctx = compileContext(info);
      const sel = connectionSelection(ctx, info);
      const stmt = compileList(ctx, ds, args, sel);
      const [row] = await sql.unsafe<{ d: string; total?: number }[]>(stmt.text, stmt.values as never[], { prepare: true });
      const nodes = JSON.parse(row.d) as Record<string, unknown>[];
      const hasNextPage = nodes.length > args.first;
      if (hasNextPage) nodes.length = args.first;
      return { nodes, hasNextPage, totalCount: row.total };
    },
  };
}
