import 'reflect-metadata';
import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';

/** Arbitrary JSON object (one row of a delivery batch, keyed by field names). */
export const GraphQLJSONObject = new GraphQLScalarType({
  name: 'JSONObject',
  description: 'A JSON object, e.g. one row keyed by field names.',
  serialize: (v) => v,
  parseValue: (v) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new GraphQLError('JSONObject must be an object');
    return v;
  },
  parseLiteral: (ast, vars) => {
    if (ast.kind !== Kind.OBJECT) throw new GraphQLError('JSONObject must be an object', { nodes: ast });
    return literalValue(ast, vars ?? {});
  },
});

function literalValue(ast: ValueNode, vars: Record<string, unknown>): unknown {
  switch (ast.kind) {
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literalValue(f.value, vars)]));
    case Kind.LIST:
      return ast.values.map((v) => literalValue(v, vars));
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.STRING:
    case Kind.ENUM:
      return ast.value;
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.NULL:
      return null;
    case Kind.VARIABLE:
      return vars[ast.name.value];
  }
}

export enum DatasetStatusGql {
  DRAFT = 'DRAFT',
  IN_REVIEW = 'IN_REVIEW',
  PUBLISHED = 'PUBLISHED',
  RETIRED = 'RETIRED',
  REJECTED = 'REJECTED',
  SUPERSEDED = 'SUPERSEDED',
}
registerEnumType(DatasetStatusGql, { name: 'DatasetStatus', description: 'Lifecycle of a catalog entry version (R1, R4).' });

@ObjectType({ description: '公共管理和服务机构: a department that supplies and consumes data.' })
export class DepartmentInfo {
  @Field(() => String) code!: string;
  @Field(() => String, { description: '名称' }) name!: string;
  @Field(() => String, { description: '统一社会信用代码' }) uscc!: string;
  @Field(() => String, { description: 'CITY or DISTRICT' }) level!: string;
  @Field(() => String, { nullable: true }) district?: string | null;
  @Field(() => Boolean, { description: 'The data authority (公共数据主管部门).' }) isAuthority!: boolean;
}

@ObjectType({ description: '信息项: one catalogued field, with its sharing terms (never a value).' })
export class FieldInfo {
  @Field(() => String) name!: string;
  @Field(() => String, { description: '中文名称' }) label!: string;
  @Field(() => String) dataType!: string;
  @Field(() => Boolean) required!: boolean;
  @Field(() => Boolean) isKey!: boolean;
  @Field(() => String, { description: '共享属性: UNCONDITIONAL / CONDITIONAL / NOT_SHARED' }) shareClass!: string;
  @Field(() => String, { description: '开放属性' }) openType!: string;
  @Field(() => String, { description: '分级 (GB/T 43697-2024)' }) grade!: string;
  @Field(() => Boolean, { description: 'Personal information' }) personal!: boolean;
  @Field(() => String, { nullable: true, description: 'Masking rule applied when masked' }) maskRule?: string | null;
  @Field(() => Boolean, { description: 'Filterable and sortable in lists' }) filterable!: boolean;
  @Field(() => String, { nullable: true }) description?: string | null;
}

@ObjectType({ description: 'A reference from one dataset to rows of another.' })
export class ReferenceInfo {
  @Field(() => String) name!: string;
  @Field(() => String) label!: string;
  @Field(() => String, { description: 'Resource code of the referenced dataset' }) targetDataset!: string;
  @Field(() => Boolean) many!: boolean;
}

@ObjectType({ description: '公共数据资源目录 entry (the published version unless stated).' })
export class DatasetInfo {
  @Field(() => String, { description: '信息资源代码' }) code!: string;
  @Field(() => String, { description: 'GraphQL type serving its rows' }) typeName!: string;
  @Field(() => String, { description: '信息资源名称' }) name!: string;
  @Field(() => String, { description: '信息资源摘要' }) summary!: string;
  @Field(() => String, { description: '数源部门 code' }) departmentCode!: string;
  @Field(() => String, { nullable: true, description: '职能数据清单 item' }) functionCode?: string | null;
  @Field(() => String) format!: string;
  @Field(() => String, { description: '更新周期' }) updateCycle!: string;
  @Field(() => String, { description: '共享方式' }) shareMode!: string;
  @Field(() => String, { description: '开放属性' }) openType!: string;
  @Field(() => String, { nullable: true, description: '共享条件' }) shareCondition?: string | null;
  @Field(() => [FieldInfo]) fields!: FieldInfo[];
  @Field(() => [ReferenceInfo]) references!: ReferenceInfo[];
  @Field(() => Int, { nullable: true, description: 'Published version number' }) version?: number | null;
  @Field(() => String, { nullable: true, description: 'Last accepted delivery (ISO 8601)' }) lastDeliveredAt?: string | null;
  @Field(() => String, { nullable: true, description: 'When the next delivery is due by the update cycle (R3)' }) dueAt?: string | null;
  @Field(() => Boolean, { description: 'Past its update cycle without a delivery (R3)' }) late!: boolean;
}

@ObjectType({ description: 'A version of a catalog entry in the review workflow.' })
export class DatasetVersionInfo {
  @Field(() => String) code!: string;
  @Field(() => Int) version!: number;
  @Field(() => DatasetStatusGql) status!: DatasetStatusGql;
  @Field(() => String) name!: string;
  @Field(() => String) createdBy!: string;
  @Field(() => String) createdAt!: string;
  @Field(() => String, { nullable: true }) submittedBy?: string | null;
  @Field(() => String, { nullable: true }) reviewedBy?: string | null;
  @Field(() => String, { nullable: true }) reviewComment?: string | null;
  @Field(() => String, { nullable: true }) publishedAt?: string | null;
}

@ObjectType({ description: 'A problem of one delivered row. Values are never echoed.' })
export class RowProblemInfo {
  @Field(() => Int, { description: '1-based data row number' }) row!: number;
  @Field(() => String, { nullable: true }) field?: string | null;
  @Field(() => String) reason!: string;
}

@ObjectType({ description: 'Outcome of one delivery (汇聚, R5): accepted whole or rejected whole.' })
export class DeliveryResultInfo {
  @Field(() => String) deliveryId!: string;
  @Field(() => String, { description: 'ACCEPTED or REJECTED' }) status!: string;
  @Field(() => Int) rowCount!: number;
  @Field(() => Int) inserted!: number;
  @Field(() => Int) updated!: number;
  @Field(() => String, { description: 'sha256 of the delivered content' }) checksum!: string;
  @Field(() => Int) problemCount!: number;
  @Field(() => [RowProblemInfo]) problems!: RowProblemInfo[];
}

@ObjectType({ description: 'A recorded delivery.' })
export class DeliveryRecordInfo {
  @Field(() => String) id!: string;
  @Field(() => String) datasetCode!: string;
  @Field(() => String) deliveredBy!: string;
  @Field(() => String) channel!: string;
  @Field(() => String) status!: string;
  @Field(() => Int) rowCount!: number;
  @Field(() => Int) inserted!: number;
  @Field(() => Int) updated!: number;
  @Field(() => String) checksum!: string;
  @Field(() => String) finishedAt!: string;
}
