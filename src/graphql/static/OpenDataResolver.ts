import 'reflect-metadata';
import { Arg, Ctx, Field, GraphQLISODateTime, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { ForbiddenError } from '../../errors';
import { retryProvinceSync } from '../../province/pushOpenData';
import { draftOpenPlan, fileOpenPlan, proposeOpenCatalogEntry, publishOpenPlans, reviewOpenCatalogEntry } from '../../province/openCatalog';
import { quoteIdent, UPDATED_AT_COLUMN } from '../../db/rowTables';
import { ROWS_SCHEMA, tableName } from '../naming';
import type { RequestContext } from '../../server/RequestContext';
import { GraphQLJSONObject } from './catalogTypes';
import { actorOf, authorityOf, catalogOf } from './actor';

@ObjectType({ description: 'Push of one open dataset to the provincial platform (R15).' })
class ProvinceSyncInfo {
  @Field(() => String) datasetCode!: string;
  @Field(() => String, { description: 'OK, FAILED (a chunk is dead-lettered)' }) status!: string;
  @Field(() => String, { nullable: true, description: 'Last version (row change time) the province acknowledged' }) ackedVersion!: string | null;
  @Field(() => Int, { description: 'Rows changed since, not yet acknowledged' }) lag!: number;
  @Field(() => Int) failures!: number;
  @Field(() => Int) deadChunks!: number;
  @Field(() => String, { nullable: true }) lastError!: string | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) lastAckAt!: Date | null;
}

/** Open data pushed to the province (issue 5): province/pushOpenData.ts. */
@Resolver()
export class ProvinceResolver {
  @Query(() => [ProvinceSyncInfo], { description: 'Per open dataset: last acknowledged version, lag, failures. Needs the authority or sync_job role.' })
  async provinceSyncStatus(@Ctx() ctx: RequestContext): Promise<ProvinceSyncInfo[]> {
    const a = actorOf(ctx);
    if (!ctx.principal!.roles.some((r) => r === 'authority' || r === 'sync_job')) throw new ForbiddenError('the push status is for the data authority and sync jobs');
    void a;
    const catalog = catalogOf(ctx);
    const rows = await ctx.services.sql<{ dataset_code: string; status: string; acked_at: string | null; failures: number; last_error: string | null; last_ack_at: string | null; dead: number }[]>`
      SELECT s.dataset_code, s.status, s.acked_at, s.failures, s.last_error, to_json(s.last_ack_at)#>>'{}' AS last_ack_at,
             (SELECT count(*)::int FROM province_chunk c WHERE c.dataset_code = s.dataset_code AND c.state = 'DEAD') AS dead
        FROM province_sync s ORDER BY s.dataset_code`;
    const out: ProvinceSyncInfo[] = [];
    for (const r of rows) {
      const ds = catalog.datasets.find((d) => d.code === r.dataset_code);
      let lag = 0;
      if (ds) {
        const table = `${quoteIdent(ROWS_SCHEMA)}.${quoteIdent(tableName(ds))}`;
        const [{ n }] = await ctx.services.sql.unsafe<{ n: number }[]>(
          r.acked_at ? `SELECT count(*)::int AS n FROM ${table} WHERE ${quoteIdent(UPDATED_AT_COLUMN)} > $1::timestamptz` : `SELECT count(*)::int AS n FROM ${table}`,
          (r.acked_at ? [r.acked_at] : []) as never[],
        );
        lag = n;
      }
      out.push({ datasetCode: r.dataset_code, status: r.status, ackedVersion: r.acked_at, lag, failures: r.failures, deadChunks: r.dead, lastError: r.last_error, lastAckAt: r.last_ack_at ? new Date(r.last_ack_at) : null });
    }
    return out;
  }

  @Mutation(() => Boolean, { description: 'Lets a FAILED push go on: its dead-lettered chunk is sent again by the next run. Needs the authority role.' })
  async retryProvinceSync(@Ctx() ctx: RequestContext, @Arg('datasetCode', () => String) datasetCode: string): Promise<boolean> {
    actorOf(ctx, 'authority', 'retrying a provincial push');
    const ok = await retryProvinceSync(ctx.services.sql, datasetCode);
    if (ok) await ctx.services.jobs?.pushNow();
    return ok;
  }
}

@ObjectType({ description: '开放目录 entry (R14): fields of an agency’s own dataset opened to the public, reviewed by the data authority.' })
class OpenCatalogEntryInfo {
  @Field(() => Int) id!: number;
  @Field(() => String) agency!: string;
  @Field(() => String) datasetCode!: string;
  @Field(() => Int) version!: number;
  @Field(() => [String]) fields!: string[];
  @Field(() => String, { description: 'IN_REVIEW, PUBLISHED, SUPERSEDED or REJECTED' }) status!: string;
  @Field(() => String) proposedBy!: string;
  @Field(() => String, { nullable: true }) reviewedBy!: string | null;
  @Field(() => String, { nullable: true }) comment!: string | null;
}

/** The open catalog (R14): province/openCatalog.ts. */
@Resolver()
export class OpenCatalogResolver {
  @Query(() => [OpenCatalogEntryInfo], { description: 'The open catalog with its history (every version), optionally of one agency.' })
  async openCatalog(@Ctx() ctx: RequestContext, @Arg('agency', () => String, { nullable: true }) agency?: string | null): Promise<OpenCatalogEntryInfo[]> {
    return ctx.services.prisma.openCatalogEntry.findMany({ where: agency ? { agency } : {}, orderBy: [{ datasetCode: 'asc' }, { version: 'asc' }] });
  }

  @Mutation(() => OpenCatalogEntryInfo, { description: 'Proposes to open fields of one of your department’s datasets; the data authority reviews it. Needs the catalog_editor role.' })
  async proposeOpenCatalogEntry(
    @Ctx() ctx: RequestContext,
    @Arg('datasetCode', () => String) datasetCode: string,
    @Arg('fields', () => [String]) fields: string[],
  ): Promise<OpenCatalogEntryInfo> {
    return proposeOpenCatalogEntry(ctx.services.prisma, catalogOf(ctx), actorOf(ctx, 'catalog_editor', 'proposing an open catalog entry'), datasetCode, fields);
  }

  @Mutation(() => OpenCatalogEntryInfo, { description: 'The data authority publishes or rejects (with a comment) an open catalog entry in review. Needs the authority role.' })
  async reviewOpenCatalogEntry(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => Int) id: number,
    @Arg('approve', () => Boolean) approve: boolean,
    @Arg('comment', () => String, { nullable: true }) comment?: string | null,
  ): Promise<OpenCatalogEntryInfo> {
    const a = authorityOf(ctx, 'the open catalog is reviewed by the data authority', 'reviewing the open catalog');
    return reviewOpenCatalogEntry(ctx.services.prisma, a, id, approve, comment);
  }
}

@ObjectType({ description: '年度开放计划 (R13): what an agency opens in a year.' })
class OpenPlanInfo {
  @Field(() => Int) id!: number;
  @Field(() => String) agency!: string;
  @Field(() => Int) year!: number;
  @Field(() => [GraphQLJSONObject], { description: '[{ datasetCode, title, plannedDate }]' }) items!: Record<string, unknown>[];
  @Field(() => String, { description: 'DRAFT, FILED or PUBLISHED' }) status!: string;
  @Field(() => GraphQLISODateTime, { nullable: true }) publishedAt!: Date | null;
  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When the provincial platform acknowledged it' }) forwardedAt!: Date | null;
}

/** Annual opening plans (R13): province/openCatalog.ts; published plans also at GET /open-plans/{year}.csv|.json. */
@Resolver()
export class OpenPlanResolver {
  @Query(() => [OpenPlanInfo], { description: 'The published plans of a year (and your own draft or filed plan).' })
  async openPlans(@Ctx() ctx: RequestContext, @Arg('year', () => Int) year: number): Promise<OpenPlanInfo[]> {
    const own = ctx.principal?.agency;
    const rows = await ctx.services.prisma.openPlan.findMany({ where: { year, OR: [{ status: 'PUBLISHED' }, ...(own ? [{ agency: own }] : [])] }, orderBy: { agency: 'asc' } });
    return rows.map((p) => ({ ...p, items: p.items as Record<string, unknown>[] }));
  }

  @Mutation(() => OpenPlanInfo, { description: 'Drafts (or redrafts) your department’s opening plan for a year. Needs the catalog_editor role.' })
  async draftOpenPlan(
    @Ctx() ctx: RequestContext,
    @Arg('year', () => Int) year: number,
    @Arg('items', () => [GraphQLJSONObject]) items: Record<string, unknown>[],
  ): Promise<OpenPlanInfo> {
    const p = await draftOpenPlan(ctx.services.prisma, catalogOf(ctx), actorOf(ctx, 'catalog_editor', 'drafting an opening plan'), year, items as never);
    return { ...p, items: p.items as Record<string, unknown>[] };
  }

  @Mutation(() => OpenPlanInfo, { description: 'Files your draft plan with the data authority. Needs the catalog_editor role.' })
  async fileOpenPlan(@Ctx() ctx: RequestContext, @Arg('year', () => Int) year: number): Promise<OpenPlanInfo> {
    const p = await fileOpenPlan(ctx.services.prisma, actorOf(ctx, 'catalog_editor', 'filing an opening plan'), year);
    return { ...p, items: p.items as Record<string, unknown>[] };
  }

  @Mutation(() => [OpenPlanInfo], { description: 'The data authority publishes the filed plans of a year and forwards them to the provincial platform. Needs the authority role.' })
  async publishOpenPlans(@Ctx() ctx: RequestContext, @Arg('year', () => Int) year: number): Promise<OpenPlanInfo[]> {
    authorityOf(ctx, 'the opening plans are published by the data authority', 'publishing the opening plans');
    const client = ctx.services.province;
    const rows = await publishOpenPlans(ctx.services.prisma, year, client ? (plans) => client.pushPlans(`plans-${year}-${Date.now()}`, year, plans) : undefined);
    return rows.map((p) => ({ ...p, items: p.items as Record<string, unknown>[] }));
  }
}
