/**
 * The inverse of `parseCatalogSdl`: prints a `Catalog` as catalog-as-code SDL files in the
 * layout of `schema/` (R1, R4): `_departments.graphql` with the department registry, then
 * one file per source department holding `extend schema @source(...) @function(...)` (its
 * 职能数据清单) and its dataset types. Pure: no I/O.
 *
 * Round trip: `parseCatalogSdl(printCatalogSdl(c)).catalog` equals `c` apart from `loc`, for
 * any catalog `parseCatalogSdl` can produce. Field directives are printed explicitly
 * (`@share`, `@open`, `@grade` even when they hold the default) so a reviewer reads every
 * sharing term without knowing the defaults.
 */
import { Kind, parseValue, print } from 'graphql';
import type {
  Catalog,
  CatalogDataset,
  CatalogDepartment,
  CatalogField,
  CatalogFunctionItem,
  CatalogReference,
  FieldType,
} from './Catalog';
import { SCALAR_FIELD_TYPES } from './directives';
import type { CatalogSdlFile } from './parseCatalogSdl';

export interface PrintCatalogSdlOptions {
  /** Folder prefix of the printed file names, e.g. `schema` → `schema/hz-gaj.graphql`. */
  dir?: string;
  /**
   * Type names of datasets referenced by the catalog but printed elsewhere, by resource code
   * (a draft checked beside the printed catalog). Unknown targets print as
   * `MissingDataset_<code>`, which parseCatalogSdl reports as an unknown type.
   */
  externalTypeNames?: ReadonlyMap<string, string>;
}

/** File name of the department registry, as in `schema/`. */
export const DEPARTMENTS_FILE = '_departments.graphql';

/** Longest line before the directives of a field wrap onto a continuation line. */
const WRAP_AT = 110;

const GRAPHQL_TYPE_OF: Readonly<Record<FieldType, string>> = Object.fromEntries(
  Object.entries(SCALAR_FIELD_TYPES).map(([graphqlType, fieldType]) => [fieldType, graphqlType]),
) as Record<FieldType, string>;

/**
 * Prints `catalog` as SDL files: `_departments.graphql` first, then one
 * `<department code in lower case>.graphql` per department that has datasets or function
 * items. Files follow the order in which the catalog lists its datasets and function items,
 * so their order survives the round trip; within a file, function items and datasets keep
 * the catalog's order. Never throws: an inconsistent catalog (say, a reference to an unknown
 * dataset) prints as valid SDL on which `parseCatalogSdl` reports the problem.
 */
export function printCatalogSdl(catalog: Catalog, options: PrintCatalogSdlOptions = {}): CatalogSdlFile[] {
  const prefix = options.dir ? `${options.dir.replace(/\/+$/, '')}/` : '';
  const typeNameOf = new Map([...(options.externalTypeNames ?? []), ...catalog.datasets.map((d) => [d.code, d.typeName] as const)]);
  const files: CatalogSdlFile[] = [
    { file: `${prefix}${DEPARTMENTS_FILE}`, source: printDepartments(catalog.departments) },
  ];
  const usedNames = new Set([DEPARTMENTS_FILE]);
  for (const code of departmentFileOrder(catalog)) {
    const functions = catalog.functionItems.filter((f) => f.departmentCode === code);
    const datasets = catalog.datasets.filter((d) => d.departmentCode === code);
    const name = uniqueFileName(code, usedNames);
    const blocks = [printSource(code, functions), ...datasets.map((d) => printDataset(d, typeNameOf))];
    files.push({ file: `${prefix}${name}`, source: blocks.join('\n\n') + '\n' });
  }
  return files;
}

/**
 * Departments in an order consistent with both the dataset list and the function-item list
 * (parseCatalogSdl lists both in file order): a topological order of "comes before" edges
 * taken from each list, ties broken by first appearance. A catalog whose lists disagree (one
 * read from the database, sorted by code) still prints; only its order may differ.
 */
function departmentFileOrder(catalog: Catalog): string[] {
  const sequences = [catalog.datasets.map((d) => d.departmentCode), catalog.functionItems.map((f) => f.departmentCode)];
  const nodes = [...new Set(sequences.flat())];
  const after = new Map<string, Set<string>>(nodes.map((n) => [n, new Set<string>()]));
  const indegree = new Map<string, number>(nodes.map((n) => [n, 0]));
  for (const seq of sequences) {
    const firsts = [...new Set(seq)];
    for (let i = 1; i < firsts.length; i++) {
      const edges = after.get(firsts[i - 1])!;
      if (!edges.has(firsts[i])) {
        edges.add(firsts[i]);
        indegree.set(firsts[i], indegree.get(firsts[i])! + 1);
      }
    }
  }
  const order: string[] = [];
  const remaining = [...nodes];
  while (remaining.length > 0) {
    // On a cycle (inconsistent lists) take the earliest remaining department anyway.
    const i = Math.max(0, remaining.findIndex((n) => indegree.get(n) === 0));
    const [next] = remaining.splice(i, 1);
    order.push(next);
    for (const m of after.get(next)!) indegree.set(m, indegree.get(m)! - 1);
  }
  return order;
}

function uniqueFileName(departmentCode: string, used: Set<string>): string {
  const slug = departmentCode.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[-_]+|-+$/g, '') || 'department';
  let name = `${slug}.graphql`;
  for (let n = 2; used.has(name); n++) name = `${slug}-${n}.graphql`;
  used.add(name);
  return name;
}

function printDepartments(departments: readonly CatalogDepartment[]): string {
  const header = '# 部门登记 (department registry), printed from the catalog.\n';
  if (departments.length === 0) return header;
  const uses = departments.map((d) =>
    printDirectiveBlock('department', [
      ['code', str(d.code)],
      ['name', str(d.name)],
      ['uscc', str(d.uscc)],
      ['level', d.level],
      ...(d.district ? [['district', str(d.district)] as const] : []),
      ...(d.isAuthority ? [['authority', 'true'] as const] : []),
    ]),
  );
  return `${header}extend schema\n${uses.join('\n')}\n`;
}

function printSource(departmentCode: string, functions: readonly CatalogFunctionItem[]): string {
  const lines = ['extend schema', `  @source(department: ${str(departmentCode)})`];
  for (const f of functions) {
    lines.push(
      printDirectiveBlock('function', [
        ['code', str(f.code)],
        ['name', str(f.name)],
        ...(f.legalBasis ? [['legalBasis', str(f.legalBasis)] as const] : []),
      ]),
    );
  }
  return lines.join('\n');
}

/** `type X @dataset(...) { fields… references… }`; `typeNameOf` maps resource codes to type names. */
function printDataset(ds: CatalogDataset, typeNameOf: ReadonlyMap<string, string>): string {
  const head = [
    `type ${ds.typeName}`,
    printDirectiveBlock('dataset', [
      ['code', str(ds.code)],
      ['name', str(ds.name)],
      ['summary', str(ds.summary)],
      ['format', ds.format],
      ['updateCycle', ds.updateCycle],
      ['shareMode', ds.shareMode],
      ['open', ds.openType],
      ...(ds.functionCode ? [['function', str(ds.functionCode)] as const] : []),
      ...(ds.shareCondition ? [['shareCondition', str(ds.shareCondition)] as const] : []),
    ]) + ' {',
  ];
  const body = [...ds.fields.map(printField), ...ds.references.map((r) => printReference(r, typeNameOf))];
  return [...head, ...body, '}'].join('\n');
}

function printField(f: CatalogField): string {
  const directives = [
    ...(f.isKey ? ['@key'] : []),
    `@label(zh: ${str(f.label)})`,
    `@share(class: ${f.shareClass})`,
    `@open(type: ${f.openType})`,
    `@grade(level: ${f.grade})`,
    ...(f.personal ? ['@personal'] : []),
    ...(f.mask ? [`@mask(rule: ${f.mask})`] : []),
    ...(f.check ? [`@check(rule: ${f.check})`] : []),
    // A key is always indexed (parseCatalogSdl); @index is for the other fields.
    ...(f.indexed && !f.isKey ? ['@index'] : []),
    ...(f.subjectId ? ['@subject'] : []),
  ];
  const type = `${GRAPHQL_TYPE_OF[f.type] ?? f.type}${f.required ? '!' : ''}`;
  return printDescription(f.description) + wrap(`  ${f.name}: ${type}`, directives);
}

function printReference(r: CatalogReference, typeNameOf: ReadonlyMap<string, string>): string {
  // An unknown target still prints as a valid name, so parseCatalogSdl reports it as an unknown type.
  const target = typeNameOf.get(r.targetDataset) ?? `MissingDataset_${r.targetDataset.replace(/[^_0-9A-Za-z]/g, '_')}`;
  const type = r.many ? `[${target}!]` : target;
  return wrap(`  ${r.name}: ${type}`, [
    `@ref(dataset: ${str(r.targetDataset)}, from: ${str(r.fromField)}, to: ${str(r.toField)})`,
    `@label(zh: ${str(r.label)})`,
  ]);
}

/** `  @name(\n    arg: value\n  )`, one argument a line, as in `schema/`. */
function printDirectiveBlock(name: string, args: readonly (readonly [string, string])[]): string {
  return [`  @${name}(`, ...args.map(([k, v]) => `    ${k}: ${v}`), '  )'].join('\n');
}

/** Appends directives to `start`, continuing on lines indented by four spaces past `WRAP_AT`. */
function wrap(start: string, directives: readonly string[]): string {
  const lines = [start];
  for (const d of directives) {
    const last = lines[lines.length - 1];
    if (last.length + 1 + d.length > WRAP_AT && last.trim() !== '') lines.push(`    ${d}`);
    else lines[lines.length - 1] = `${last} ${d}`;
  }
  return lines.join('\n');
}

/**
 * A field description line. Multi-line text becomes a block string when it reads back
 * exactly (block strings strip common indentation and blank edges); otherwise an escaped
 * single-line string, which always does.
 */
function printDescription(description: string | undefined): string {
  if (description === undefined) return '';
  if (description.includes('\n')) {
    const block = print({ kind: Kind.STRING, value: description, block: true })
      .split('\n')
      .map((line, i) => (i === 0 || line === '' ? line : `  ${line}`))
      .join('\n');
    if (readsBack(block, description)) return `  ${block}\n`;
  }
  return `  ${str(description)}\n`;
}

function readsBack(literal: string, value: string): boolean {
  try {
    const node = parseValue(literal);
    return node.kind === Kind.STRING && node.value === value;
  } catch {
    return false;
  }
}

/** A GraphQL string literal with graphql-js' escaping. */
function str(value: string): string {
  return print({ kind: Kind.STRING, value });
}
