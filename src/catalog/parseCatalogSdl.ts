/**
 * Catalog as code: turns the SDL files of `schema/` into the in-memory `Catalog` and checks
 * them, graphql-js style: every problem is collected and returned as a value (never thrown),
 * each with its `file:line:column`. Pure: no I/O (see `loadCatalogFiles` for reading a folder).
 *
 * The vocabulary (directives, enums, scalars) is declared once in `directives.ts`; directive
 * arguments are validated against those definitions and then read with `getDirectiveValues`.
 */
import {
  DirectiveLocation,
  GraphQLError,
  Kind,
  Source,
  getDirectiveValues,
  getLocation,
  getNamedType,
  isEnumType,
  isRequiredArgument,
  parse,
  print,
  valueFromAST,
} from 'graphql';
import type {
  ASTNode,
  ConstDirectiveNode,
  DocumentNode,
  FieldDefinitionNode,
  GraphQLDirective,
  GraphQLInputType,
  NamedTypeNode,
  ObjectTypeDefinitionNode,
  SchemaExtensionNode,
  TypeNode,
} from 'graphql';
import { columnName } from '../graphql/naming';
import { isValidUscc } from '../validation/checksums';
import type {
  Catalog,
  CatalogDataset,
  CatalogDepartment,
  CatalogField,
  CatalogFunctionItem,
  CatalogProblem,
  CatalogReference,
  FieldType,
  SourceLocation,
} from './Catalog';
import {
  CheckDirective,
  DatasetDirective,
  DepartmentDirective,
  FIELD_DEFAULTS,
  FunctionDirective,
  GradeDirective,
  IndexDirective,
  KeyDirective,
  LabelDirective,
  MaskDirective,
  OpenDirective,
  PRELUDE_TYPE_NAMES,
  PersonalDirective,
  RefDirective,
  SCALAR_FIELD_TYPES,
  ShareDirective,
  SourceDirective,
  SubjectDirective,
  catalogDirectives,
} from './directives';
import type {
  CheckArgs,
  DatasetArgs,
  DepartmentArgs,
  FunctionArgs,
  GradeArgs,
  LabelArgs,
  MaskArgs,
  OpenArgs,
  RefArgs,
  ShareArgs,
  SourceArgs,
} from './directives';

/** One SDL file; `file` is the display path used in problem locations. */
export interface CatalogSdlFile {
  file: string;
  source: string;
}

export interface ParseCatalogSdlOptions {
  /** 信息资源代码 format; default `DEFAULT_RESOURCE_CODE_PATTERN`. */
  resourceCodePattern?: RegExp;
}

export interface ParseCatalogSdlResult {
  /** Best effort when there are problems: callers must not serve a catalog that has any. */
  catalog: Catalog;
  /** Sorted by file, line, column. Empty means the catalog is valid. */
  problems: CatalogProblem[];
}

/**
 * 前段码 (dot-separated classification segments) `/` 后段码 (sequence), DOMAIN.md §1
 * "Resource code"; e.g. `3.44.13.002/00000001`.
 */
export const DEFAULT_RESOURCE_CODE_PATTERN = /^[0-9A-Za-z]+(\.[0-9A-Za-z]+)*\/[0-9A-Za-z]+$/;

/**
 * Builds the catalog from SDL files and reports every problem at once.
 *
 * Checked (besides GraphQL syntax and the directive contract: known directive, allowed
 * location, no repeats, known arguments, required arguments, argument value types):
 * - departments: unique code and uscc; uscc passes GB 32100 (DOMAIN.md §1 #5, §3);
 *   DISTRICT level names its district;
 * - each file with datasets has one `@source` naming a declared department; `@function`
 *   items (职能数据清单, R1) are unique per department and datasets cite only their own;
 * - datasets: unique type name and resource code (matching the pattern), unique name per
 *   department (DOMAIN.md §1 #2), at least one `@key`; an ELECTRONIC_FILE resource is
 *   shared as FILE (DOMAIN.md §4);
 * - fields: a `@label`; a supported type; keys non-null and not NOT_SHARED; "an item that
 *   is 不予共享 must also be 不予开放" (DOMAIN.md §1); `@mask`/`@check`/`@subject` only on String;
 * - references: known target dataset of the field's type, existing `from`/`to` fields of the
 *   same type; to-one targets the target's single key, to-many an indexed field.
 *
 * Absent field directives default to CONDITIONAL sharing, NOT_OPEN, GENERAL_2 (the safe side).
 * Datasets with a duplicate type name or resource code are left out of the catalog.
 */
export function parseCatalogSdl(
  files: readonly CatalogSdlFile[],
  options: ParseCatalogSdlOptions = {},
): ParseCatalogSdlResult {
  const ctx = new ParseContext(options.resourceCodePattern ?? DEFAULT_RESOURCE_CODE_PATTERN);
  const parsed = files.flatMap((f) => ctx.parseFile(f));
  const gathered = parsed.map((p) => ctx.gatherFile(p));
  const departments = ctx.buildDepartments(gathered);
  const functionItems = ctx.buildFunctionItems(gathered, departments);
  const datasets = ctx.buildDatasets(gathered, functionItems);
  return {
    catalog: { departments, functionItems, datasets },
    problems: sortProblems(ctx.problems),
  };
}

// ---------------------------------------------------------------------------------------------

interface ParsedFile {
  file: string;
  doc: DocumentNode;
}

interface DirectiveUse {
  node: ConstDirectiveNode;
  /** Coerced arguments (defaults applied), or undefined when any was invalid (already reported). */
  args: Record<string, unknown> | undefined;
  /** The arguments that did coerce, so checks on them still run when another one is invalid. */
  values: Readonly<Record<string, unknown>>;
}

type DirectiveSet = ReadonlyMap<GraphQLDirective, readonly DirectiveUse[]>;

interface Located<T> {
  args: T;
  node: ConstDirectiveNode;
}

interface GatheredType {
  node: ObjectTypeDefinitionNode;
  directives: DirectiveSet;
}

interface GatheredFile {
  file: string;
  /** True when the file has any `@source`, even an invalid one. */
  hasSourceDirective: boolean;
  source?: Located<SourceArgs>;
  departments: DirectiveUse[];
  functions: Located<FunctionArgs>[];
  types: GatheredType[];
}

interface RefFieldDraft {
  field: FieldDefinitionNode;
  named: NamedTypeNode;
  many: boolean;
  label: string;
  ref?: Located<RefArgs>;
}

interface DatasetDraft {
  dataset: CatalogDataset;
  /** Reference fields, resolved once every dataset is known. */
  refFields: RefFieldDraft[];
}

const directivesByName: ReadonlyMap<string, GraphQLDirective> = new Map(catalogDirectives.map((d) => [d.name, d]));

class ParseContext {
  readonly problems: CatalogProblem[] = [];

  constructor(private readonly resourceCodePattern: RegExp) {}

  report(node: ASTNode | undefined, message: string): void {
    this.problems.push({ message, loc: node ? locOf(node) : undefined });
  }

  /** A syntax error is reported and the file skipped; the other files are still checked. */
  parseFile(f: CatalogSdlFile): ParsedFile[] {
    try {
      return [{ file: f.file, doc: parse(new Source(f.source, f.file)) }];
    } catch (err) {
      if (!(err instanceof GraphQLError)) throw err;
      const at = err.locations?.[0] ?? { line: 1, column: 1 };
      this.problems.push({ message: err.message, loc: { file: f.file, line: at.line, column: at.column } });
      return [];
    }
  }

  gatherFile({ file, doc }: ParsedFile): GatheredFile {
    const out: GatheredFile = { file, hasSourceDirective: false, departments: [], functions: [], types: [] };
    for (const def of doc.definitions) {
      if (def.kind === Kind.SCHEMA_EXTENSION) this.gatherSchemaExtension(def, out);
      else if (def.kind === Kind.OBJECT_TYPE_DEFINITION) {
        out.types.push({ node: def, directives: this.readDirectives(def.directives, DirectiveLocation.OBJECT) });
      } else {
        this.report(
          'name' in def && def.name ? def.name : def,
          `Unsupported definition (${def.kind}): a catalog file holds \`extend schema\` and dataset object types only; the prelude declares the shared enums and scalars.`,
        );
      }
    }
    return out;
  }

  private gatherSchemaExtension(def: SchemaExtensionNode, out: GatheredFile): void {
    for (const op of def.operationTypes ?? []) {
      this.report(op, 'Catalog files declare no root operation types; the gateway generates them.');
    }
    const directives = this.readDirectives(def.directives, DirectiveLocation.SCHEMA);
    out.departments.push(...(directives.get(DepartmentDirective) ?? []));
    for (const use of directives.get(FunctionDirective) ?? []) {
      if (use.args) out.functions.push({ args: use.args as unknown as FunctionArgs, node: use.node });
    }
    for (const use of directives.get(SourceDirective) ?? []) {
      if (out.hasSourceDirective) {
        // @source is once per file, also across several `extend schema` blocks.
        this.report(use.node, `This file already declares @source${out.source ? ` at ${where(locOf(out.source.node))}` : ''}; one source department per file.`);
        continue;
      }
      out.hasSourceDirective = true;
      if (use.args) out.source = { args: use.args as unknown as SourceArgs, node: use.node };
    }
  }

  /**
   * Validates directive uses against their definitions (the checks graphql-js' SDL rules make:
   * known directive, location, uniqueness, known and required arguments, value types), then
   * reads the arguments with `getDirectiveValues`.
   */
  readDirectives(nodes: readonly ConstDirectiveNode[] | undefined, location: DirectiveLocation): DirectiveSet {
    const set = new Map<GraphQLDirective, DirectiveUse[]>();
    for (const node of nodes ?? []) {
      const name = node.name.value;
      const def = directivesByName.get(name);
      if (!def) {
        this.report(node, `Unknown directive "@${name}".`);
        continue;
      }
      if (!def.locations.includes(location)) {
        this.report(node, `Directive "@${name}" may not be used on ${location}.`);
        continue;
      }
      const uses = set.get(def) ?? [];
      if (!def.isRepeatable && uses.length > 0) {
        this.report(node, `The directive "@${name}" can only be used once at this location.`);
        continue;
      }
      uses.push({ node, ...this.readArguments(def, node) });
      set.set(def, uses);
    }
    return set;
  }

  private readArguments(
    def: GraphQLDirective,
    node: ConstDirectiveNode,
  ): { args: Record<string, unknown> | undefined; values: Record<string, unknown> } {
    let valid = true;
    const seen = new Set<string>();
    const values: Record<string, unknown> = {};
    for (const arg of node.arguments ?? []) {
      const argName = arg.name.value;
      const argDef = def.args.find((a) => a.name === argName);
      if (!argDef) {
        this.report(arg, `Unknown argument "${argName}" on directive "@${def.name}".`);
        continue;
      }
      if (seen.has(argName)) {
        this.report(arg, `Directive "@${def.name}" has more than one argument named "${argName}".`);
        valid = false;
        continue;
      }
      seen.add(argName);
      const value = valueFromAST(arg.value, argDef.type);
      if (value !== undefined) values[argName] = value;
      else {
        this.report(
          arg.value,
          `Directive "@${def.name}" argument "${argName}" has invalid value ${print(arg.value)}; expected ${describeType(argDef.type)}.`,
        );
        valid = false;
      }
    }
    for (const argDef of def.args) {
      if (isRequiredArgument(argDef) && !seen.has(argDef.name)) {
        this.report(node, `Directive "@${def.name}" argument "${argDef.name}" of type "${String(argDef.type)}" is required, but it was not provided.`);
        valid = false;
      }
    }
    if (!valid) return { args: undefined, values };
    try {
      const args = getDirectiveValues(def, { directives: [node] });
      return { args, values: args ?? values };
    } catch (err) {
      if (!(err instanceof GraphQLError)) throw err;
      this.report(err.nodes?.[0] ?? node, `Directive "@${def.name}": ${err.message}`);
      return { args: undefined, values };
    }
  }

  buildDepartments(files: readonly GatheredFile[]): CatalogDepartment[] {
    const departments: CatalogDepartment[] = [];
    const byCode = new Map<string, ConstDirectiveNode>();
    const byUscc = new Map<string, ConstDirectiveNode>();
    for (const { args: complete, values, node } of files.flatMap((f) => f.departments)) {
      const code = stringValue(values, 'code');
      const uscc = stringValue(values, 'uscc');
      if (code !== undefined) {
        const first = byCode.get(code);
        if (first) {
          this.report(argValue(node, 'code'), `Duplicate department code "${code}"; first declared at ${where(locOf(first))}.`);
          continue;
        }
        byCode.set(code, node);
      }
      if (uscc !== undefined) {
        if (!isValidUscc(uscc)) {
          this.report(argValue(node, 'uscc'), `Department "${code ?? '?'}": uscc "${uscc}" fails the GB 32100 checksum (统一社会信用代码).`);
        } else {
          const sameUscc = byUscc.get(uscc);
          if (sameUscc) {
            this.report(argValue(node, 'uscc'), `Department "${code ?? '?'}": uscc "${uscc}" is already used at ${where(locOf(sameUscc))}.`);
          }
          byUscc.set(uscc, node);
        }
      }
      if (values.level === 'DISTRICT' && !values.district) {
        this.report(node, `Department "${code ?? '?'}" is DISTRICT level and needs district: "…".`);
      }
      if (!complete) continue;
      const args = complete as unknown as DepartmentArgs;
      departments.push({
        code: args.code,
        name: args.name,
        uscc: args.uscc,
        level: args.level,
        ...(args.district ? { district: args.district } : {}),
        isAuthority: args.authority,
        loc: locOf(node),
      });
    }
    return departments;
  }

  /** Also reports a `@source` naming an undeclared department and a file whose datasets have no `@source`. */
  buildFunctionItems(files: readonly GatheredFile[], departments: readonly CatalogDepartment[]): CatalogFunctionItem[] {
    const known = new Set(departments.map((d) => d.code));
    const items: CatalogFunctionItem[] = [];
    const firstByKey = new Map<string, ConstDirectiveNode>();
    for (const f of files) {
      if (f.source && !known.has(f.source.args.department)) {
        this.report(
          argValue(f.source.node, 'department'),
          `Unknown department "${f.source.args.department}": no @department(code: "${f.source.args.department}") is declared in the catalog.`,
        );
      }
      const firstDataset = f.types.find((t) => t.directives.has(DatasetDirective));
      if (!f.hasSourceDirective && firstDataset) {
        this.report(
          firstDataset.node.name,
          'Datasets in this file have no source department: add `extend schema @source(department: "…")`.',
        );
      }
      for (const { args, node } of f.functions) {
        if (!f.source) {
          if (!f.hasSourceDirective) {
            this.report(node, `@function "${args.code}" needs the file's department: add \`extend schema @source(department: "…")\`.`);
          }
          continue;
        }
        const departmentCode = f.source.args.department;
        const key = `${departmentCode}\u0000${args.code}`;
        const first = firstByKey.get(key);
        if (first) {
          this.report(argValue(node, 'code'), `Duplicate function code "${args.code}" of department "${departmentCode}"; first declared at ${where(locOf(first))}.`);
          continue;
        }
        firstByKey.set(key, node);
        items.push({
          code: args.code,
          departmentCode,
          name: args.name,
          ...(args.legalBasis ? { legalBasis: args.legalBasis } : {}),
          loc: locOf(node),
        });
      }
    }
    return items;
  }

  buildDatasets(files: readonly GatheredFile[], functionItems: readonly CatalogFunctionItem[]): CatalogDataset[] {
    const functionKeys = new Set(functionItems.map((i) => `${i.departmentCode}\u0000${i.code}`));
    const typeNames = new Map<string, ASTNode>();
    const codes = new Map<string, { typeName: string; node: ASTNode }>();
    const namesInDepartment = new Map<string, ASTNode>();
    const objectTypeNames = new Set(files.flatMap((f) => f.types.map((t) => t.node.name.value)));
    const drafts: DatasetDraft[] = [];

    for (const f of files) {
      const departmentCode = f.source?.args.department ?? '';
      for (const type of f.types) {
        const typeName = type.node.name.value;
        let include = true;
        if (PRELUDE_TYPE_NAMES.has(typeName)) {
          this.report(type.node.name, `Type name "${typeName}" is reserved by the catalog prelude.`);
          include = false;
        } else {
          const first = typeNames.get(typeName);
          if (first) {
            this.report(type.node.name, `Duplicate type name "${typeName}"; first declared at ${where(locOf(first))}.`);
            include = false;
          } else typeNames.set(typeName, type.node.name);
        }
        for (const iface of type.node.interfaces ?? []) {
          this.report(iface, `Dataset types implement no interfaces ("${typeName}" implements "${iface.name.value}").`);
        }
        if (!type.directives.has(DatasetDirective)) {
          this.report(type.node.name, `Type "${typeName}" has no @dataset(...); every object type of the catalog is a dataset.`);
        }

        const use = type.directives.get(DatasetDirective)?.[0];
        if (use) {
          const { node, values } = use;
          const code = stringValue(values, 'code');
          const name = stringValue(values, 'name');
          const functionCode = stringValue(values, 'function');
          if (code !== undefined) {
            if (!this.resourceCodePattern.test(code)) {
              this.report(argValue(node, 'code'), `Resource code "${code}" does not match ${String(this.resourceCodePattern)} (信息资源代码 前段码/后段码).`);
            }
            const firstCode = codes.get(code);
            if (firstCode) {
              this.report(
                argValue(node, 'code'),
                `Duplicate resource code "${code}"; first used by "${firstCode.typeName}" at ${where(locOf(firstCode.node))}.`,
              );
              include = false;
            } else codes.set(code, { typeName, node: argValue(node, 'code') });
          }
          if (name !== undefined && f.source) {
            const nameKey = `${departmentCode}\u0000${name}`;
            const firstName = namesInDepartment.get(nameKey);
            if (firstName) {
              this.report(argValue(node, 'name'), `Dataset name "${name}" is already used by department "${departmentCode}" at ${where(locOf(firstName))}.`);
            } else namesInDepartment.set(nameKey, argValue(node, 'name'));
          }
          if (functionCode && f.source && !functionKeys.has(`${departmentCode}\u0000${functionCode}`)) {
            this.report(
              argValue(node, 'function'),
              `Function "${functionCode}" is not in the 职能数据清单 of "${departmentCode}": declare it with @function(code: "${functionCode}", name: "…").`,
            );
          }
          if (use.args && values.format === 'ELECTRONIC_FILE' && values.shareMode !== 'FILE') {
            this.report(node, `An ELECTRONIC_FILE resource must be shared as FILE, not ${String(values.shareMode)} (DOMAIN.md §4).`);
          }
        }

        const { fields, refFields } = this.buildFields(type, typeName, objectTypeNames);
        if (use?.args && include) {
          const args = use.args as unknown as DatasetArgs;
          const dataset: CatalogDataset = {
            code: args.code,
            typeName,
            name: args.name,
            summary: args.summary,
            departmentCode,
            ...(args.function ? { functionCode: args.function } : {}),
            format: args.format,
            updateCycle: args.updateCycle,
            shareMode: args.shareMode,
            openType: args.open,
            ...(args.shareCondition ? { shareCondition: args.shareCondition } : {}),
            fields,
            references: [],
            loc: locOf(type.node.name),
          };
          drafts.push({ dataset, refFields });
        }
      }
    }

    const byCode = new Map(drafts.map((d) => [d.dataset.code, d.dataset]));
    for (const d of drafts) d.dataset.references = this.resolveReferences(d, byCode);
    return drafts.map((d) => d.dataset);
  }

  /** Builds and checks the scalar fields; reference fields are returned for later resolution. */
  private buildFields(
    type: GatheredType,
    typeName: string,
    objectTypeNames: ReadonlySet<string>,
  ): { fields: CatalogField[]; refFields: RefFieldDraft[] } {
    const fields: CatalogField[] = [];
    const refFields: RefFieldDraft[] = [];
    const names = new Map<string, ASTNode>();
    const columns = new Map<string, { name: string; node: ASTNode }>();

    for (const field of type.node.fields ?? []) {
      const fieldName = field.name.value;
      const path = `${typeName}.${fieldName}`;
      const directives = this.readDirectives(field.directives, DirectiveLocation.FIELD_DEFINITION);
      const firstName = names.get(fieldName);
      if (firstName) {
        this.report(field.name, `Duplicate field "${path}"; first declared at ${where(locOf(firstName))}.`);
        continue;
      }
      names.set(fieldName, field.name);
      if (field.arguments && field.arguments.length > 0) {
        this.report(field.arguments[0], `Field "${path}" takes no arguments; the gateway generates filters.`);
      }

      const label = argsOf<LabelArgs>(directives, LabelDirective)?.zh;
      if (!directives.has(LabelDirective)) {
        this.report(field.name, `Field "${path}" has no @label(zh: "…"); every field needs its Chinese name (信息项名称).`);
      } else if (label !== undefined && label.trim() === '') {
        this.report(argValue(useOf(directives, LabelDirective)!.node, 'zh'), `Field "${path}" has an empty @label.`);
      }

      const shape = typeShape(field.type);
      const scalarType = shape.list ? undefined : SCALAR_FIELD_TYPES[shape.named.name.value];
      const refUse = useOf(directives, RefDirective);
      if (scalarType) {
        if (refUse) {
          this.report(refUse.node, `@ref on "${path}" needs a field whose type is a dataset type, not ${print(field.type)}.`);
        }
        const built = this.buildField(field, path, scalarType, shape.required, label ?? '', directives);
        const column = columnName(fieldName);
        const sameColumn = columns.get(column);
        if (sameColumn) {
          this.report(field.name, `Fields "${sameColumn.name}" and "${fieldName}" of "${typeName}" map to the same column "${column}".`);
        } else columns.set(column, { name: fieldName, node: field.name });
        fields.push(built);
        continue;
      }

      const namedType = shape.named.name.value;
      if (shape.nested) {
        this.report(field.type, `Unsupported field type ${print(field.type)} on "${path}": lists of lists are not supported.`);
      } else if (objectTypeNames.has(namedType)) {
        if (!refUse) {
          this.report(field.name, `Field "${path}" has the dataset type ${print(field.type)}: add @ref(dataset: "…", from: "…", to: "…").`);
          continue;
        }
        for (const [def, uses] of directives) {
          if (def !== RefDirective && def !== LabelDirective) {
            for (const use of uses) this.report(use.node, `Directive "@${def.name}" has no effect on the reference field "${path}".`);
          }
        }
        refFields.push({
          field,
          named: shape.named,
          many: shape.list,
          label: label ?? '',
          ref: refUse.args ? { args: refUse.args as unknown as RefArgs, node: refUse.node } : undefined,
        });
      } else if (SCALAR_FIELD_TYPES[namedType]) {
        this.report(field.type, `Unsupported field type ${print(field.type)} on "${path}": lists are only for @ref fields.`);
      } else if (PRELUDE_TYPE_NAMES.has(namedType)) {
        this.report(field.type, `Unsupported field type ${print(field.type)} on "${path}": use String, Int, Float, Boolean, Decimal, Date or DateTime.`);
      } else {
        this.report(shape.named, `Unknown type "${namedType}" on "${path}".`);
      }
    }

    if (type.directives.has(DatasetDirective) && !fields.some((f) => f.isKey)) {
      this.report(type.node.name, `Dataset "${typeName}" has no @key field; rows must be addressable.`);
    }
    return { fields, refFields };
  }

  private buildField(
    field: FieldDefinitionNode,
    path: string,
    type: FieldType,
    required: boolean,
    label: string,
    directives: DirectiveSet,
  ): CatalogField {
    const keyUse = useOf(directives, KeyDirective);
    const shareClass = argsOf<ShareArgs>(directives, ShareDirective)?.class ?? FIELD_DEFAULTS.shareClass;
    const openType = argsOf<OpenArgs>(directives, OpenDirective)?.type ?? FIELD_DEFAULTS.openType;
    const grade = argsOf<GradeArgs>(directives, GradeDirective)?.level ?? FIELD_DEFAULTS.grade;
    const mask = argsOf<MaskArgs>(directives, MaskDirective)?.rule;
    const check = argsOf<CheckArgs>(directives, CheckDirective)?.rule;
    const isKey = keyUse !== undefined;

    if (keyUse && !required) {
      this.report(keyUse.node, `Key field "${path}" must be non-null (${print(field.type)}!).`);
    }
    if (isKey && shareClass === 'NOT_SHARED') {
      this.report(
        useOf(directives, ShareDirective)?.node ?? field.name,
        `Key field "${path}" is NOT_SHARED; a key must be shareable because rows are addressed by it.`,
      );
    }
    if (isKey && mask) {
      this.report(
        useOf(directives, MaskDirective)!.node,
        `Key field "${path}" has @mask; keys are returned in clear because rows are addressed and joined by them (mask other fields).`,
      );
    }
    // DOMAIN.md §1: an item that is 不予共享 must also be 不予开放.
    if (shareClass === 'NOT_SHARED' && openType !== 'NOT_OPEN') {
      this.report(
        useOf(directives, OpenDirective)?.node ?? field.name,
        `Field "${path}" is NOT_SHARED (不予共享) and must also be NOT_OPEN (不予开放), not ${openType}.`,
      );
    }
    for (const def of [MaskDirective, CheckDirective, SubjectDirective]) {
      const use = useOf(directives, def);
      if (use && type !== 'STRING') {
        this.report(use.node, `@${def.name} applies to String fields only; "${path}" is ${print(field.type)}.`);
      }
    }

    return {
      name: field.name.value,
      label,
      type,
      required,
      isKey,
      shareClass,
      openType,
      grade,
      personal: directives.has(PersonalDirective),
      ...(mask ? { mask } : {}),
      ...(check ? { check } : {}),
      indexed: isKey || directives.has(IndexDirective),
      subjectId: directives.has(SubjectDirective),
      ...(field.description ? { description: field.description.value } : {}),
      loc: locOf(field.name),
    };
  }

  private resolveReferences(draft: DatasetDraft, byCode: ReadonlyMap<string, CatalogDataset>): CatalogReference[] {
    const self = draft.dataset;
    const references: CatalogReference[] = [];
    for (const { field, named, many, label, ref } of draft.refFields) {
      if (!ref) continue;
      const path = `${self.typeName}.${field.name.value}`;
      const { args, node } = ref;
      const target = byCode.get(args.dataset);
      if (!target) {
        this.report(argValue(node, 'dataset'), `@ref on "${path}": dataset "${args.dataset}" is not a resource code of the catalog.`);
        continue;
      }
      let ok = true;
      if (target.typeName !== named.name.value) {
        this.report(named, `@ref on "${path}": dataset "${args.dataset}" is type "${target.typeName}", but the field's type is "${named.name.value}".`);
        ok = false;
      }
      const from = self.fields.find((f) => f.name === args.from);
      const to = target.fields.find((f) => f.name === args.to);
      if (!from) {
        this.report(argValue(node, 'from'), `@ref on "${path}": from "${args.from}" is not a field of "${self.typeName}".`);
        ok = false;
      }
      if (!to) {
        this.report(argValue(node, 'to'), `@ref on "${path}": to "${args.to}" is not a field of "${target.typeName}".`);
        ok = false;
      }
      if (from && to) {
        if (from.type !== to.type) {
          this.report(node, `@ref on "${path}" compares ${self.typeName}.${from.name} (${from.type}) with ${target.typeName}.${to.name} (${to.type}).`);
          ok = false;
        }
        const targetKeys = target.fields.filter((f) => f.isKey);
        if (!many && !(targetKeys.length === 1 && targetKeys[0] === to)) {
          this.report(argValue(node, 'to'), `@ref on "${path}" is to-one, so "to" must be the single @key field of "${target.typeName}".`);
          ok = false;
        } else if (many && !to.indexed) {
          this.report(argValue(node, 'to'), `@ref on "${path}": ${target.typeName}.${to.name} must be @key or @index so the lookup is index-backed.`);
          ok = false;
        }
      }
      if (!ok) continue;
      references.push({
        name: field.name.value,
        label,
        targetDataset: target.code,
        fromField: args.from,
        toField: args.to,
        many,
        loc: locOf(field.name),
      });
    }
    return references;
  }
}

// ---------------------------------------------------------------------------------------------

function stringValue(values: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

function useOf(set: DirectiveSet, def: GraphQLDirective): DirectiveUse | undefined {
  return set.get(def)?.[0];
}

/** The coerced arguments of the first use of `def`; the shape is guaranteed by `getDirectiveValues`. */
function argsOf<T>(set: DirectiveSet, def: GraphQLDirective): T | undefined {
  return useOf(set, def)?.args as T | undefined;
}

/** The value node of a directive argument (for precise locations), else the directive itself. */
function argValue(node: ConstDirectiveNode, name: string): ASTNode {
  return node.arguments?.find((a) => a.name.value === name)?.value ?? node;
}

function typeShape(type: TypeNode): { named: NamedTypeNode; required: boolean; list: boolean; nested: boolean } {
  const required = type.kind === Kind.NON_NULL_TYPE;
  let inner: TypeNode = type.kind === Kind.NON_NULL_TYPE ? type.type : type;
  const list = inner.kind === Kind.LIST_TYPE;
  let nested = false;
  if (inner.kind === Kind.LIST_TYPE) {
    inner = inner.type.kind === Kind.NON_NULL_TYPE ? inner.type.type : inner.type;
  }
  while (inner.kind !== Kind.NAMED_TYPE) {
    nested = true;
    inner = inner.type;
  }
  return { named: inner, required, list, nested };
}

function describeType(type: GraphQLInputType): string {
  const named = getNamedType(type);
  const values = isEnumType(named) ? ` (one of ${named.getValues().map((v) => v.name).join(', ')})` : '';
  return `${String(type)}${values}`;
}

function locOf(node: ASTNode): SourceLocation | undefined {
  const loc = node.loc;
  if (!loc) return undefined;
  const { line, column } = getLocation(loc.source, loc.start);
  return { file: loc.source.name, line, column };
}

function where(loc: SourceLocation | undefined): string {
  return loc ? `${loc.file}:${loc.line}:${loc.column}` : 'an unknown location';
}

function sortProblems(problems: readonly CatalogProblem[]): CatalogProblem[] {
  return [...problems].sort((a, b) => {
    if (!a.loc || !b.loc) return a.loc ? 1 : b.loc ? -1 : 0;
    if (a.loc.file !== b.loc.file) return a.loc.file < b.loc.file ? -1 : 1;
    return a.loc.line - b.loc.line || a.loc.column - b.loc.column;
  });
}
