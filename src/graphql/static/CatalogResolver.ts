import 'reflect-metadata';
import { Arg, Ctx, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { CatalogDataset } from '../../catalog/Catalog';
import { deliverRecords } from '../../delivery/deliverRows';
import { dueAt } from '../../delivery/freshness';
import { ForbiddenError, NotFoundError, UnauthenticatedError, UserInputError } from '../../errors';
import type { RequestContext } from '../../server/RequestContext';
import { filterableFields } from '../buildDatasetSchema';
import {
  DatasetInfo,
  DeliveryRecordInfo,
  DeliveryResultInfo,
  DepartmentInfo,
  GraphQLJSONObject,
} from './catalogTypes';

function snapshot(ctx: RequestContext) {
  const s = ctx.services.catalog.current();
  if (!s) throw new Error('catalog not loaded');
  return s;
}

async function datasetInfos(ctx: RequestContext, datasets: CatalogDataset[]): Promise<DatasetInfo[]> {
  const rows = await ctx.services.prisma.dataset.findMany({
    where: { code: { in: datasets.map((d) => d.code) } },
    include: { versions: { where: { status: 'PUBLISHED' }, select: { version: true, publishedAt: true } } },
  });
  const byCode = new Map(rows.map((r) => [r.code, r]));
  const now = new Date();
  return datasets.map((ds) => {
    const row = byCode.get(ds.code);
    const published = row?.versions[0];
    const due = published?.publishedAt ? dueAt(ds.updateCycle, row?.lastDeliveredAt ?? null, published.publishedAt) : null;
    return {
      code: ds.code,
      typeName: ds.typeName,
      name: ds.name,
      summary: ds.summary,
      departmentCode: ds.departmentCode,
      functionCode: ds.functionCode ?? null,
      format: ds.format,
      updateCycle: ds.updateCycle,
      shareMode: ds.shareMode,
      openType: ds.openType,
      shareCondition: ds.shareCondition ?? null,
      fields: ds.fields.map((f) => ({
        name: f.name,
        label: f.label,
        dataType: f.type,
        required: f.required,
        isKey: f.isKey,
        shareClass: f.shareClass,
        openType: f.openType,
        grade: f.grade,
        personal: f.personal,
        maskRule: f.mask ?? null,
        filterable: filterableFields(ds).includes(f),
        description: f.description ?? null,
      })),
      references: ds.references.map((r) => ({ name: r.name, label: r.label, targetDataset: r.targetDataset, many: r.many })),
      version: published?.version ?? null,
      lastDeliveredAt: row?.lastDeliveredAt?.toISOString() ?? null,
      dueAt: due?.toISOString() ?? null,
      late: !!due && due.getTime() < now.getTime(),
    };
  });
}

/** Catalog browsing (names, classes, grades, labels — never values) and delivery by batch. */
@Resolver()
export class CatalogResolver {
  @Query(() => [DepartmentInfo], { description: 'Departments (公共管理和服务机构) known to the platform.' })
  departments(@Ctx() ctx: RequestContext): DepartmentInfo[] {
    return snapshot(ctx).catalog.departments.map((d) => ({ ...d, district: d.district ?? null }));
  }

  @Query(() => [DatasetInfo], { description: 'Published catalog entries, optionally of one source department.' })
  async datasets(
    @Ctx() ctx: RequestContext,
    @Arg('department', () => String, { nullable: true, description: 'Source department code' }) department?: string | null,
  ): Promise<DatasetInfo[]> {
    const all = snapshot(ctx).catalog.datasets;
    return datasetInfos(ctx, department ? all.filter((d) => d.departmentCode === department) : all);
  }

  @Query(() => DatasetInfo, { nullable: true, description: 'One published catalog entry by resource code.' })
  async dataset(@Ctx() ctx: RequestContext, @Arg('code', () => String) code: string): Promise<DatasetInfo | null> {
    const ds = snapshot(ctx).catalog.datasets.find((d) => d.code === code);
    return ds ? (await datasetInfos(ctx, [ds]))[0] : null;
  }

  @Query(() => [DatasetInfo], { description: 'Datasets past their update cycle without a delivery (R3).' })
  async lateDatasets(@Ctx() ctx: RequestContext): Promise<DatasetInfo[]> {
    return (await datasetInfos(ctx, snapshot(ctx).catalog.datasets)).filter((d) => d.late);
  }

  @Query(() => [DeliveryRecordInfo], { description: 'Recorded deliveries of a dataset, newest first.' })
  async deliveries(
    @Ctx() ctx: RequestContext,
    @Arg('dataset', () => String) code: string,
    @Arg('last', () => Int, { defaultValue: 20 }) last: number,
  ): Promise<DeliveryRecordInfo[]> {
    if (last < 1 || last > 500) throw new UserInputError('last must be between 1 and 500');
    const rows = await ctx.services.prisma.delivery.findMany({
      where: { dataset: { code } },
      orderBy: { id: 'desc' },
      take: last,
    });
    return rows.map((r) => ({
      id: r.id.toString(),
      datasetCode: code,
      deliveredBy: r.deliveredBy,
      channel: r.channel,
      status: r.status,
      rowCount: r.rowCount,
      inserted: r.insertedCount,
      updated: r.updatedCount,
      checksum: r.checksum,
      finishedAt: r.finishedAt.toISOString(),
    }));
  }

  @Mutation(() => DeliveryResultInfo, {
    description:
      'Delivers a batch of rows (汇聚, R5) as the source department: accepted whole (upsert by key) or rejected whole with every row problem. Large deliveries: POST /datasets/{code}/deliveries with CSV or NDJSON.',
  })
  async deliverRows(
    @Ctx() ctx: RequestContext,
    @Arg('dataset', () => String, { description: 'Resource code' }) code: string,
    @Arg('rows', () => [GraphQLJSONObject]) rows: Record<string, unknown>[],
  ): Promise<DeliveryResultInfo> {
    const target = await resolveDeliveryTarget(ctx, code);
    const limits = ctx.services.config.limits;
    if (rows.length > limits.maxBatchRows) {
      throw new UserInputError(`a batch holds at most ${limits.maxBatchRows} rows; upload larger deliveries as CSV or NDJSON`);
    }
    return deliverRecords(ctx.services.sql, target, { deliveredBy: `${ctx.principal!.agency}/${ctx.principal!.subject}`, requestId: ctx.requestId, channel: 'GRAPHQL' }, rows, {
      maxReportedProblems: limits.maxReportedProblems,
      rowAudit: ctx.services.rowAudit,
    });
  }
}

/**
 * Only the source department (数源部门) of a dataset delivers its rows.
 * @throws UnauthenticatedError without a principal, ForbiddenError for another agency, NotFoundError for an unknown dataset.
 */
export async function resolveDeliveryTarget(ctx: RequestContext, code: string) {
  if (!ctx.principal) throw new UnauthenticatedError('deliveries need an identified caller');
  const s = snapshot(ctx);
  const dataset = s.catalog.datasets.find((d) => d.code === code);
  if (!dataset) throw new NotFoundError(`no published dataset has resource code ${code}`);
  if (dataset.departmentCode !== ctx.principal.agency) {
    throw new ForbiddenError(`only the source department ${dataset.departmentCode} delivers rows of ${code}`);
  }
  const row = await ctx.services.prisma.dataset.findUnique({ where: { code }, select: { id: true, departmentId: true } });
  if (!row) throw new NotFoundError(`no published dataset has resource code ${code}`);
  return { catalog: s.catalog, dataset, datasetId: row.id, departmentId: row.departmentId };
}
