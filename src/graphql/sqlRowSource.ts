import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { keyFields } from '../catalog/Catalog';
import type { Catalog } from '../catalog/Catalog';
import type { Sql } from '../db/createSql';
import { connectionSelection, type DatasetRowSource } from './buildDatasetSchema';
import { compileList, compileLookup, type CompileContext } from './compileQuery';
import { collectFields } from './selection';

/** True when a selection's shape may depend on variables or fragments (not cached). */
function hasDirectivesOrFragments(set: SelectionSetNode | undefined): boolean {
  if (!set) return false;
  for (const sel of set.selections) {
    if (sel.kind !== Kind.FIELD || sel.directives?.length) return true;
    if (hasDirectivesOrFragments(sel.selectionSet)) return true;
  }
  return false;
}

/**
 * Serves datasets whose rows live in this gateway's PostgreSQL: each root field is answered
 * by one compiled statement, nested references included.
 */
export function createSqlRowSource(sql: Sql, catalog: Catalog, maxNestedRows: number): DatasetRowSource {
  // Statement text of scalar-only lookups, per field node of a parsed document (Apollo keeps
  // documents cached, so the same query string hits the same node). Such a statement's only
  // parameters are the key values, in key order.
  const lookupTexts = new WeakMap<FieldNode, string>();
  const compileContext = (info: GraphQLResolveInfo): CompileContext => ({
    schema: info.schema,
    catalog,
    fragments: info.fragments,
    variableValues: info.variableValues,
    maxNestedRows,
  });
  return {
    async lookup(ds, keys, info) {
      const node = info.fieldNodes.length === 1 ? info.fieldNodes[0] : undefined;
      let text = node && lookupTexts.get(node);
      let values: unknown[];
      if (text) {
        values = keyFields(ds).map((k) => keys[k.name]);
      } else {
        const ctx = compileContext(info);
        const selection = collectFields(ctx, info.fieldNodes.map((n) => n.selectionSet));
        const stmt = compileLookup(ctx, ds, keys, selection);
        text = stmt.text;
        values = stmt.values;
        if (node && values.length === keyFields(ds).length && !hasDirectivesOrFragments(node.selectionSet)) lookupTexts.set(node, text);
      }
      const rows = await sql.unsafe<{ d: string }[]>(text, values as never[], { prepare: true });
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
