import {
  getDirectiveValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

export interface SelectionScope {
  fragments: Record<string, FragmentDefinitionNode>;
  variableValues: Record<string, unknown>;
}

/**
 * Fields of a selection set grouped by response key (alias or name), with fragments spread
 * and @skip/@include applied, as graphql-js's CollectFields does (spec §6.3.2). Type
 * conditions are ignored: dataset types have no interfaces or unions.
 */
export function collectFields(
  scope: SelectionScope,
  selectionSets: readonly (SelectionSetNode | undefined)[],
): Map<string, FieldNode[]> {
  const out = new Map<string, FieldNode[]>();
  const visited = new Set<string>();
  const visit = (set: SelectionSetNode | undefined): void => {
    if (!set) return;
    for (const sel of set.selections) {
      if (!shouldInclude(scope, sel)) continue;
      if (sel.kind === Kind.FIELD) {
        const key = sel.alias?.value ?? sel.name.value;
        const list = out.get(key);
        if (list) list.push(sel);
        else out.set(key, [sel]);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        visit(sel.selectionSet);
      } else {
        const name = sel.name.value;
        if (visited.has(name)) continue;
        visited.add(name);
        visit(scope.fragments[name]?.selectionSet);
      }
    }
  };
  for (const s of selectionSets) visit(s);
  return out;
}

function shouldInclude(scope: SelectionScope, node: { directives?: readonly unknown[] } & Parameters<typeof getDirectiveValues>[1]): boolean {
  if (!node.directives?.length) return true;
  const skip = getDirectiveValues(GraphQLSkipDirective, node, scope.variableValues);
  if (skip?.if === true) return false;
  const include = getDirectiveValues(GraphQLIncludeDirective, node, scope.variableValues);
  return include?.if !== false;
}

/** Sub-fields of all nodes of one response key. */
export function subFields(scope: SelectionScope, nodes: readonly FieldNode[]): Map<string, FieldNode[]> {
  return collectFields(scope, nodes.map((n) => n.selectionSet));
}
