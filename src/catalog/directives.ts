/**
 * The catalog-as-code vocabulary: the directives, enums and scalars that the SDL files in
 * `schema/` may use. They are declared once, here, as SDL (`CATALOG_PRELUDE_SDL`) and built
 * into graphql-js `GraphQLDirective` objects, which `parseCatalogSdl` reads with
 * `getDirectiveValues`. Catalog files never redeclare any of these names.
 *
 * Enum values mirror the unions in `Catalog.ts` (a test keeps them in sync).
 */
import { buildASTSchema, parse } from 'graphql';
import type { GraphQLDirective, GraphQLSchema } from 'graphql';
import type {
  DepartmentLevel,
  FieldType,
  Grade,
  MaskRule,
  OpenType,
  ResourceFormat,
  ShareClass,
  ShareMode,
  UpdateCycle,
  ValueCheck,
} from './Catalog';

/** SDL of every directive, enum and scalar a catalog file may use (shown in the gateway docs). */
export const CATALOG_PRELUDE_SDL = `"""共享属性 of a field (R8–R10)."""
enum ShareClass {
  """无条件共享"""
  UNCONDITIONAL
  """有条件共享"""
  CONDITIONAL
  """不予共享 (verification / comparison only)"""
  NOT_SHARED
}

"""开放属性 (R14)."""
enum OpenType {
  """无条件开放"""
  UNCONDITIONAL
  """有条件开放"""
  CONDITIONAL
  """不予开放"""
  NOT_OPEN
}

"""分级, GB/T 43697-2024 (DOMAIN.md §2)."""
enum Grade {
  """核心数据"""
  CORE
  """重要数据"""
  IMPORTANT
  """一般数据 4级"""
  GENERAL_4
  """一般数据 3级"""
  GENERAL_3
  """一般数据 2级"""
  GENERAL_2
  """一般数据 1级"""
  GENERAL_1
}

"""更新周期 (DOMAIN.md §1 #13)."""
enum UpdateCycle {
  """实时"""
  REALTIME
  """每日"""
  DAILY
  """每周"""
  WEEKLY
  """每月"""
  MONTHLY
  """每季度"""
  QUARTERLY
  """每半年"""
  HALF_YEARLY
  """每年"""
  YEARLY
  """其他"""
  OTHER
}

"""信息资源格式 (DOMAIN.md §1 #7)."""
enum ResourceFormat {
  """数据库"""
  DATABASE
  """电子表格"""
  SPREADSHEET
  """电子文件"""
  ELECTRONIC_FILE
  """图形图像"""
  IMAGE
  """流媒体"""
  STREAM
  """自描述格式"""
  SELF_DESCRIBING
  """服务接口"""
  SERVICE_API
}

"""共享方式, platform sub-type (DOMAIN.md §1 #11, §4)."""
enum ShareMode {
  """库表"""
  TABLE
  """接口"""
  API
  """文件"""
  FILE
}

"""Scalar data type of a field, derived from its GraphQL type (String, Int, Float, Boolean, Decimal, Date, DateTime)."""
enum FieldType {
  STRING
  INT
  FLOAT
  DECIMAL
  BOOLEAN
  DATE
  DATETIME
}

"""Masking rule applied on delivery (DOMAIN.md §3, Hutool defaults)."""
enum MaskRule {
  """姓名: keep the first character"""
  NAME
  """身份证号: keep first 1, last 2"""
  ID_NUMBER
  """手机号: keep first 3, last 4"""
  MOBILE
  """固定电话: keep first 4, last 2"""
  LANDLINE
  """银行卡: keep first 4 and the tail"""
  BANK_CARD
  """地址: mask the last 8 characters"""
  ADDRESS
  """邮箱: keep the first character of the local part"""
  EMAIL
  """车牌: mask the middle"""
  PLATE
  """密码: all *"""
  PASSWORD
  """IPv4: keep the first octet"""
  IPV4
}

"""Value check applied on delivery (DOMAIN.md §3)."""
enum ValueCheck {
  """身份证号, GB 11643-1999"""
  ID_NUMBER
  """统一社会信用代码, GB 32100-2015"""
  USCC
  """手机号"""
  MOBILE
  """银行卡 (Luhn)"""
  BANK_CARD
}

"""Administrative level of a department."""
enum DepartmentLevel {
  CITY
  DISTRICT
}

"""Decimal number, exchanged as a string to keep its precision (e.g. 注册资本)."""
scalar Decimal

"""Calendar date, ISO 8601 \`YYYY-MM-DD\`."""
scalar Date

"""Date and time, ISO 8601 with offset (Asia/Shanghai unless stated)."""
scalar DateTime

"""
Registers a department (部门). The registry lives in \`schema/_departments.graphql\`;
\`uscc\` must pass the GB 32100 checksum. \`authority\` marks the data authority (政务服务数据管理局).
"""
directive @department(
  code: String!
  name: String!
  uscc: String!
  level: DepartmentLevel!
  district: String
  authority: Boolean = false
) repeatable on SCHEMA

"""The source department (数源部门) whose datasets this file holds; once per file."""
directive @source(department: String!) on SCHEMA

"""An item of the source department's 职能数据清单 (R1); datasets cite it by code."""
directive @function(code: String!, name: String!, legalBasis: String) repeatable on SCHEMA

"""
Makes an object type a dataset (信息资源) of the catalog. \`code\` is the 信息资源代码;
\`function\` is the code of a @function of the file's department.
"""
directive @dataset(
  code: String!
  name: String!
  summary: String!
  format: ResourceFormat!
  updateCycle: UpdateCycle!
  shareMode: ShareMode = API
  open: OpenType = NOT_OPEN
  function: String
  shareCondition: String
) on OBJECT

"""中文名称 of the field (信息项名称); required on every field."""
directive @label(zh: String!) on FIELD_DEFINITION

"""Part of the dataset's key; keys are non-null, shareable and always indexed."""
directive @key on FIELD_DEFINITION

"""共享属性 of the field; absent means CONDITIONAL (the safe default)."""
directive @share(class: ShareClass!) on FIELD_DEFINITION

"""开放属性 of the field; absent means NOT_OPEN. A NOT_SHARED field cannot be open."""
directive @open(type: OpenType!) on FIELD_DEFINITION

"""Grade of the field; absent means GENERAL_2."""
directive @grade(level: Grade!) on FIELD_DEFINITION

"""The field holds personal information (PIPL art. 4)."""
directive @personal on FIELD_DEFINITION

"""Masking rule applied on delivery; String fields only."""
directive @mask(rule: MaskRule!) on FIELD_DEFINITION

"""Value check applied on delivery; String fields only."""
directive @check(rule: ValueCheck!) on FIELD_DEFINITION

"""Filterable and sortable through an index."""
directive @index on FIELD_DEFINITION

"""The field identifies a data subject (ID number, credit code), for access reports."""
directive @subject on FIELD_DEFINITION

"""
A reference to rows of the dataset \`dataset\` (resource code) whose field \`to\` equals this
dataset's field \`from\`. The field's type is the target type; a list type means to-many.
"""
directive @ref(dataset: String!, from: String!, to: String!) on FIELD_DEFINITION
`;

/** The prelude built into a schema; its directives and enums are what the files are checked against. */
export const catalogPreludeSchema: GraphQLSchema = buildASTSchema(parse(CATALOG_PRELUDE_SDL));

function directive(name: string): GraphQLDirective {
  const def = catalogPreludeSchema.getDirective(name);
  if (!def) throw new Error(`catalog prelude declares no @${name}`);
  return def;
}

export const DepartmentDirective = directive('department');
export const SourceDirective = directive('source');
export const FunctionDirective = directive('function');
export const DatasetDirective = directive('dataset');
export const LabelDirective = directive('label');
export const KeyDirective = directive('key');
export const ShareDirective = directive('share');
export const OpenDirective = directive('open');
export const GradeDirective = directive('grade');
export const PersonalDirective = directive('personal');
export const MaskDirective = directive('mask');
export const CheckDirective = directive('check');
export const IndexDirective = directive('index');
export const SubjectDirective = directive('subject');
export const RefDirective = directive('ref');

/** Every catalog directive (not graphql-js' built-in @deprecated etc.). */
export const catalogDirectives: readonly GraphQLDirective[] = [
  DepartmentDirective, SourceDirective, FunctionDirective, DatasetDirective, LabelDirective,
  KeyDirective, ShareDirective, OpenDirective, GradeDirective, PersonalDirective, MaskDirective,
  CheckDirective, IndexDirective, SubjectDirective, RefDirective,
];

/** Type names the prelude declares (plus the built-in scalars); catalog types may not reuse them. */
export const PRELUDE_TYPE_NAMES: ReadonlySet<string> = new Set(Object.keys(catalogPreludeSchema.getTypeMap()));

/** GraphQL scalar of a field → its FieldType. Any other named type is a dataset reference or unsupported. */
export const SCALAR_FIELD_TYPES: Readonly<Record<string, FieldType>> = {
  String: 'STRING',
  Int: 'INT',
  Float: 'FLOAT',
  Boolean: 'BOOLEAN',
  Decimal: 'DECIMAL',
  Date: 'DATE',
  DateTime: 'DATETIME',
};

/** Defaults for absent field directives: the safest choice (DOMAIN.md §1 #9, #12; §2). */
export const FIELD_DEFAULTS: Readonly<{ shareClass: ShareClass; openType: OpenType; grade: Grade }> = {
  shareClass: 'CONDITIONAL',
  openType: 'NOT_OPEN',
  grade: 'GENERAL_2',
};

// Argument shapes as coerced by getDirectiveValues (defaults applied, enums as their names).

export interface DepartmentArgs {
  code: string;
  name: string;
  uscc: string;
  level: DepartmentLevel;
  district?: string | null;
  authority: boolean;
}
export interface SourceArgs { department: string }
export interface FunctionArgs { code: string; name: string; legalBasis?: string | null }
export interface DatasetArgs {
  code: string;
  name: string;
  summary: string;
  format: ResourceFormat;
  updateCycle: UpdateCycle;
  shareMode: ShareMode;
  open: OpenType;
  function?: string | null;
  shareCondition?: string | null;
}
export interface LabelArgs { zh: string }
export interface ShareArgs { class: ShareClass }
export interface OpenArgs { type: OpenType }
export interface GradeArgs { level: Grade }
export interface MaskArgs { rule: MaskRule }
export interface CheckArgs { rule: ValueCheck }
export interface RefArgs { dataset: string; from: string; to: string }
