/**
 * The catalog (公共数据资源目录) as the gateway uses it in memory: the source of truth for
 * the served GraphQL schema, the dataset row tables, delivery validation and (later)
 * authorization. It is built either from the SDL files in `schema/` (catalog as code) or
 * from the published versions stored in PostgreSQL; both produce this same shape.
 */

/** 共享属性 of a field (R8–R10). */
export type ShareClass = 'UNCONDITIONAL' | 'CONDITIONAL' | 'NOT_SHARED';
export const SHARE_CLASSES: readonly ShareClass[] = ['UNCONDITIONAL', 'CONDITIONAL', 'NOT_SHARED'];

/** 开放属性 (R14). */
export type OpenType = 'UNCONDITIONAL' | 'CONDITIONAL' | 'NOT_OPEN';
export const OPEN_TYPES: readonly OpenType[] = ['UNCONDITIONAL', 'CONDITIONAL', 'NOT_OPEN'];

/** 分级, GB/T 43697-2024: core / important / general 4..1 (DOMAIN.md §2). */
export type Grade = 'CORE' | 'IMPORTANT' | 'GENERAL_4' | 'GENERAL_3' | 'GENERAL_2' | 'GENERAL_1';
export const GRADES: readonly Grade[] = ['CORE', 'IMPORTANT', 'GENERAL_4', 'GENERAL_3', 'GENERAL_2', 'GENERAL_1'];

/** 更新周期 (DOMAIN.md §1 #13). */
export type UpdateCycle =
  | 'REALTIME' | 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'QUARTERLY' | 'HALF_YEARLY' | 'YEARLY' | 'OTHER';
export const UPDATE_CYCLES: readonly UpdateCycle[] = [
  'REALTIME', 'DAILY', 'WEEKLY', 'MONTHLY', 'QUARTERLY', 'HALF_YEARLY', 'YEARLY', 'OTHER',
];

/** 信息资源格式 (DOMAIN.md §1 #7). */
export type ResourceFormat =
  | 'DATABASE' | 'SPREADSHEET' | 'ELECTRONIC_FILE' | 'IMAGE' | 'STREAM' | 'SELF_DESCRIBING' | 'SERVICE_API';
export const RESOURCE_FORMATS: readonly ResourceFormat[] = [
  'DATABASE', 'SPREADSHEET', 'ELECTRONIC_FILE', 'IMAGE', 'STREAM', 'SELF_DESCRIBING', 'SERVICE_API',
];

/** 共享方式, platform sub-types (DOMAIN.md §1 #11, §4). */
export type ShareMode = 'TABLE' | 'API' | 'FILE';
export const SHARE_MODES: readonly ShareMode[] = ['TABLE', 'API', 'FILE'];

/** Scalar data type of a field; maps to a PostgreSQL column type and a GraphQL scalar. */
export type FieldType = 'STRING' | 'INT' | 'FLOAT' | 'DECIMAL' | 'BOOLEAN' | 'DATE' | 'DATETIME';
export const FIELD_TYPES: readonly FieldType[] = ['STRING', 'INT', 'FLOAT', 'DECIMAL', 'BOOLEAN', 'DATE', 'DATETIME'];

/** Masking rules (DOMAIN.md §3, Hutool defaults). */
export type MaskRule =
  | 'NAME' | 'ID_NUMBER' | 'MOBILE' | 'LANDLINE' | 'BANK_CARD' | 'ADDRESS' | 'EMAIL' | 'PLATE' | 'PASSWORD' | 'IPV4';
export const MASK_RULES: readonly MaskRule[] = [
  'NAME', 'ID_NUMBER', 'MOBILE', 'LANDLINE', 'BANK_CARD', 'ADDRESS', 'EMAIL', 'PLATE', 'PASSWORD', 'IPV4',
];

/** Value checks applied on delivery (DOMAIN.md §3). */
export type ValueCheck = 'ID_NUMBER' | 'USCC' | 'MOBILE' | 'BANK_CARD';
export const VALUE_CHECKS: readonly ValueCheck[] = ['ID_NUMBER', 'USCC', 'MOBILE', 'BANK_CARD'];

export type DepartmentLevel = 'CITY' | 'DISTRICT';

/** Where a catalog element was declared, for `file:line:column` messages. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export interface CatalogDepartment {
  /** Short stable code used in tokens and URLs, e.g. `HZ-SCJGJ`. */
  code: string;
  name: string;
  /** 统一社会信用代码, GB 32100 checked. */
  uscc: string;
  level: DepartmentLevel;
  /** District name for DISTRICT level departments. */
  district?: string;
  /** True for the data authority (政务服务数据管理局). */
  isAuthority: boolean;
  loc?: SourceLocation;
}

/** 职能数据清单 item: data the department collects by its legal functions (R1). */
export interface CatalogFunctionItem {
  code: string;
  departmentCode: string;
  name: string;
  legalBasis?: string;
  loc?: SourceLocation;
}

export interface CatalogField {
  /** GraphQL field name (camelCase); the column is `naming.columnName(name)`. */
  name: string;
  /** 中文名称 */
  label: string;
  type: FieldType;
  required: boolean;
  isKey: boolean;
  shareClass: ShareClass;
  openType: OpenType;
  grade: Grade;
  /** Personal information (PIPL art. 4). */
  personal: boolean;
  mask?: MaskRule;
  check?: ValueCheck;
  /** Filterable and sortable through an index. Keys are always indexed. */
  indexed: boolean;
  /** Marks this field as identifying a data subject (ID number, credit code) for access reports. */
  subjectId: boolean;
  description?: string;
  loc?: SourceLocation;
}

/** A reference from one dataset to rows of another (e.g. an enterprise's licences). */
export interface CatalogReference {
  /** GraphQL field name on the referencing type, e.g. `licenses`. */
  name: string;
  label: string;
  /** Resource code of the target dataset. */
  targetDataset: string;
  /** Field of this dataset whose value is matched. */
  fromField: string;
  /** Field of the target dataset that is matched against `fromField`. */
  toField: string;
  /** One row (to-one) or a list (to-many). */
  many: boolean;
  loc?: SourceLocation;
}

export interface CatalogDataset {
  /** 信息资源代码, opaque string checked by `catalog.resourceCodePattern`. */
  code: string;
  /** GraphQL type name (PascalCase). */
  typeName: string;
  name: string;
  summary: string;
  departmentCode: string;
  functionCode?: string;
  format: ResourceFormat;
  updateCycle: UpdateCycle;
  shareMode: ShareMode;
  openType: OpenType;
  /** Free-text 共享条件 / legal basis for conditional or not-shared data. */
  shareCondition?: string;
  fields: CatalogField[];
  references: CatalogReference[];
  loc?: SourceLocation;
}

export interface Catalog {
  departments: CatalogDepartment[];
  functionItems: CatalogFunctionItem[];
  datasets: CatalogDataset[];
}

/** One problem found in the catalog; all problems are reported at once. */
export interface CatalogProblem {
  message: string;
  loc?: SourceLocation;
}

export function formatProblem(p: CatalogProblem): string {
  return p.loc ? `${p.loc.file}:${p.loc.line}:${p.loc.column} ${p.message}` : p.message;
}

const keyFieldCache = new WeakMap<CatalogDataset, CatalogField[]>();

/** Key fields in declaration order (memoised: asked on every query and delivery). */
export function keyFields(ds: CatalogDataset): CatalogField[] {
  let keys = keyFieldCache.get(ds);
  if (!keys) keyFieldCache.set(ds, (keys = ds.fields.filter((f) => f.isKey)));
  return keys;
}

/** True when `agency` is the data authority's department (政务服务数据管理局). */
export function isAuthority(catalog: Catalog, agency: string): boolean {
  return catalog.departments.some((d) => d.code === agency && d.isAuthority);
}

/**
 * True when a caller sees everything as the data authority: a person of the authority's
 * department acting in the authority role (a consumer of that department sees what any
 * department sees).
 */
export function actsAsAuthority(catalog: Catalog, who: { agency: string; roles: readonly string[] }): boolean {
  return who.roles.includes('authority') && isAuthority(catalog, who.agency);
}
