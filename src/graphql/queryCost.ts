/**
 * The query's cost and page sizes, checked once the operation and its variables are known and
 * before anything runs (limits.maxCost, limits.maxPageSize). A validation rule sees the document
 * only: `enterprises(first: $n)` would be costed as one row, and a list without `first` as one
 * row although it returns up to its default. Here each list counts with the rows it may return:
 * `first` as given (literally or in a variable), else the field's default page size.
 *
 * The formula is graphql-armor's cost limit (which this replaces): a scalar costs 1, an object 2
 * plus 1.5 × what it selects, all of it times the list's rows; fragments count where they are
 * spread, as if their fields were written there.
 */
import {
  getNamedType,
  getVariableValues,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/** On a dataset list field's `extensions`: its `first` when none is given, and its largest. */
export interface PageSizeExtension {
  default: number;
  max: number;
}

const SCALAR_COST = 1;
const OBJECT_COST = 2;
const DEPTH_FACTOR = 1.5;

export type LimitProblem = { kind: 'cost'; cost: number } | { kind: 'pageSize'; field: string; first: number; max: number };

/**
 * The answer for an operation whose cost reads no variable (no `first: $n`): it depends on the
 * operation (a node of a document Apollo keeps parsed), the schema and the limit only, so it is
 * kept with the operation. Walking the operation and coercing its variables took ~10 µs of every
 * request of the bench's Q1 on a loaded 2-core VM.
 */
const answers = new WeakMap<OperationDefinitionNode, { schema: GraphQLSchema; maxCost: number; problem: LimitProblem | null }>();

/**
 * The first limit the operation breaks, or null. Variables that do not coerce are left to
 * execution, which reports them (unless the operation breaks a limit whatever its variables).
 */
export function checkOperationLimits(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  document: DocumentNode,
  rawVariables: Record<string, unknown> | undefined,
  maxCost: number,
): LimitProblem | null {
  const known = answers.get(operation);
  if (known && known.schema === schema && known.maxCost === maxCost) return known.problem;
  const root = schema.getRootType(operation.operation);
  if (!root) return null;
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
  let problem: LimitProblem | null = null;
  // Coerced on first use: most operations size their lists literally or not at all.
  let variables: Record<string, unknown> | undefined;
  let variablesRead = false;
  let variablesBad = false;

  const intArg = (value: ValueNode | undefined): number | undefined => {
    if (!value) return undefined;
    if (value.kind === Kind.INT) return Number(value.value);
    if (value.kind === Kind.VARIABLE) {
      variablesRead = true;
      if (variables === undefined) {
        const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables ?? {});
        variablesBad = coerced.errors !== undefined;
        variables = coerced.coerced ?? {};
      }
      const v = variables[value.name.value];
      return typeof v === 'number' ? v : undefined;
    }
    return undefined;
  };

  // Each fragment is walked once, whatever the number of its spreads: a chain of fragments each
  // spreading the next twice would otherwise take 2^depth steps.
  const fragmentCost = new Map<string, number>();
  const costOf = (type: GraphQLNamedType, set: SelectionSetNode): number => {
    let cost = 0;
    for (const sel of set.selections) {
      if (problem) return 0;
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        const t = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : type;
        if (t) cost += costOf(t, sel.selectionSet);
        continue;
      }
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const f = fragments[sel.name.value];
        if (!f) continue;
        let known = fragmentCost.get(f.name.value);
        if (known === undefined) {
          // 0 while it is walked: a fragment inside itself (which validation refuses anyway) ends here.
          fragmentCost.set(f.name.value, 0);
          const t = schema.getType(f.typeCondition.name.value);
          known = t ? costOf(t, f.selectionSet) : 0;
          fragmentCost.set(f.name.value, known);
        }
        cost += known;
        continue;
      }
      const field: GraphQLField<unknown, unknown> | undefined = isObjectType(type) ? type.getFields()[sel.name.value] : undefined;
      if (!sel.selectionSet) {
        cost += DEPTH_FACTOR * SCALAR_COST;
        continue;
      }
      let rows = 1;
      const given = intArg(sel.arguments?.find((a) => a.name.value === 'first' || a.name.value === 'last')?.value);
      const page = field?.extensions?.pageSize as PageSizeExtension | undefined;
      if (page) {
        const first = given ?? page.default;
        if (first < 0 || first > page.max) {
          problem = { kind: 'pageSize', field: sel.name.value, first, max: page.max };
          return 0;
        }
        rows = first;
      } else if (given !== undefined) {
        // Another list with a size (not a dataset's page): counted as given; without one, as one row.
        rows = Math.max(1, given);
      }
      const inner = field ? getNamedType(field.type) : undefined;
      const childCost = inner ? costOf(inner, sel.selectionSet) : 0;
      cost += DEPTH_FACTOR * rows * (OBJECT_COST + childCost);
    }
    return cost;
  };

  // The root's own fields are not scaled by the depth factor (armor's formula).
  const total = costOf(root, operation.selectionSet) / DEPTH_FACTOR;
  if (variablesBad) return null;
  const answer: LimitProblem | null = problem ?? (total > maxCost ? { kind: 'cost', cost: Math.round(total) } : null);
  if (!variablesRead) answers.set(operation, { schema, maxCost, problem: answer });
  return answer;
}
