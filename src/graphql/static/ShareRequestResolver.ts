import 'reflect-metadata';
import { Arg, Ctx, Field, GraphQLISODateTime, InputType, Int, Mutation, ObjectType, Query, registerEnumType, Resolver } from 'type-graphql';
import { ForbiddenError } from '../../errors';
import {
  approveShareRequest,
  fulfilShareRequest,
  listShareRequests,
  refuseShareRequest,
  requestShare,
  withdrawShareRequest,
  type ShareRequestRecord,
  type WorkflowDeps,
} from '../../workflow/shareRequests';
import { verifyRecord } from '../../workflow/verification';
import { calendarGap, deadlineOverview } from '../../workflow/deadlines';
import { saveHolidayYear } from '../../workflow/calendarStore';
import { answerDataDemand, answerPublicRequest, fileCorrection, fileDataDemand, filePublicRequest, resolveCorrection } from '../../workflow/dataIssues';
import { retryProvinceSync } from '../../province/pushOpenData';
import { draftOpenPlan, fileOpenPlan, proposeOpenCatalogEntry, publishOpenPlans, reviewOpenCatalogEntry } from '../../province/openCatalog';
import { quoteIdent, UPDATED_AT_COLUMN } from '../../db/rowTables';
import { ROWS_SCHEMA, tableName } from '../naming';
import type { RequestContext } from '../../server/RequestContext';
import type { FilterInput } from '../compileQuery';
import { GraphQLJSONObject } from './catalogTypes';
import { actorOf, catalogOf } from './actor';

export enum ShareRequestStatusGql {
  GRANTED = 'GRANTED',
  PENDING = 'PENDING',
  APPROVED = 'APPROVED',
  FULFILLED = 'FULFILLED',
  REFUSED = 'REFUSED',
  WITHDRAWN = 'WITHDRAWN',
}
registerEnumType(ShareRequestStatusGql, { name: 'ShareRequestStatus', description: 'State of a share request (R8, R9).' });

@ObjectType({ description: 'One state change of a share request.' })
class ShareRequestEventInfo {
  @Field(() => String) action!: string;
  @Field(() => String, { nullable: true }) fromStatus!: string | null;
  @Field(() => String) toStatus!: string;
  @Field(() => String) actor!: string;
  @Field(() => String, { nullable: true }) reason!: string | null;
  @Field(() => GraphQLISODateTime) at!: Date;
}

@ObjectType({ description: '共享申请: fields of a dataset asked for a purpose, scenario and legal basis (R8, R9).' })
export class ShareRequestInfo {
  @Field(() => Int) id!: number;
  @Field(() => String, { description: 'Requesting department' }) agency!: string;
  @Field(() => String) datasetCode!: string;
  @Field(() => String, { description: 'READ or VERIFY' }) kind!: string;
  @Field(() => [String]) fields!: string[];
  @Field(() => String) purposeCode!: string;
  @Field(() => String) purposeText!: string;
  @Field(() => String) scenario!: string;
  @Field(() => String) legalBasis!: string;
  @Field(() => GraphQLJSONObject, { nullable: true }) rowFilter!: FilterInput | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) validFrom!: Date | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) validUntil!: Date | null;
  @Field(() => ShareRequestStatusGql) status!: ShareRequestStatusGql;
  @Field(() => String) requestedBy!: string;
  @Field(() => GraphQLISODateTime) requestedAt!: Date;
  @Field(() => GraphQLISODateTime, { nullable: true, description: 'End of the 2nd working day after the request (Asia/Shanghai)' }) answerDueAt!: Date | null;
  @Field(() => GraphQLISODateTime, { nullable: true, description: 'End of the 3rd working day after approval, while APPROVED' }) fulfilDueAt!: Date | null;
  @Field(() => Boolean, { description: 'A due date rests on a year whose holiday schedule is not loaded' }) dueProvisional!: boolean;
  @Field(() => String, { nullable: true }) decidedBy!: string | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) decidedAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'The law, regulation or rule a refusal cites' }) refusalBasis!: string | null;
  @Field(() => String, { nullable: true }) refusalReason!: string | null;
  @Field(() => Int, { nullable: true, description: 'The grant created for the request' }) grantId!: number | null;
  @Field(() => [ShareRequestEventInfo]) events!: ShareRequestEventInfo[];
}

@InputType({ description: 'A share request: UNCONDITIONAL fields are granted at once, CONDITIONAL ones go to the source department.' })
export class ShareRequestInput {
  @Field(() => String, { description: '信息资源代码' }) datasetCode!: string;
  @Field(() => String, { nullable: true, description: 'READ (default): share the fields; VERIFY: verify claimed values only (核实比对, R10), NOT_SHARED fields included' })
  kind?: 'READ' | 'VERIFY' | null;
  @Field(() => [String]) fields!: string[];
  @Field(() => String, { description: 'Purpose code (letters, digits, . _ : -), sent as X-Purpose when the grant is used' }) purposeCode!: string;
  @Field(() => String, { description: '用途: what the data is used for' }) purposeText!: string;
  @Field(() => String, { description: '使用场景: the usage scenario' }) scenario!: string;
  @Field(() => String, { description: 'Legal basis of the duty the data serves (PIPL art. 34)' }) legalBasis!: string;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Only these rows, e.g. {"district":{"eq":"惠城区"}}' }) rowFilter?: FilterInput | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) validFrom?: Date | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) validUntil?: Date | null;
}

@InputType({ description: 'An approval may narrow what was asked.' })
export class ShareApprovalInput {
  @Field(() => [String], { nullable: true }) fields?: string[] | null;
  @Field(() => GraphQLJSONObject, { nullable: true }) rowFilter?: FilterInput | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) validUntil?: Date | null;
  @Field(() => String, { nullable: true }) comment?: string | null;
}

/** Share requests (R8, R9): rules and deadlines in workflow/shareRequests.ts. */
@Resolver()
export class ShareRequestResolver {
  @Query(() => [ShareRequestInfo], { description: 'Requests you made and requests for your department’s datasets (the data authority: all).' })
  async shareRequests(
    @Ctx() ctx: RequestContext,
    @Arg('status', () => ShareRequestStatusGql, { nullable: true }) status?: ShareRequestStatusGql | null,
    @Arg('datasetCode', () => String, { nullable: true }) datasetCode?: string | null,
  ): Promise<ShareRequestInfo[]> {
    return (await listShareRequests(ctx.services, catalogOf(ctx), actorOf(ctx), { status, datasetCode })).map(toInfo);
  }

  @Mutation(() => ShareRequestInfo, { description: 'Applies for fields of a dataset (R8, R9). Needs the consumer role.' })
  async requestShare(@Ctx() ctx: RequestContext, @Arg('input', () => ShareRequestInput) input: ShareRequestInput): Promise<ShareRequestInfo> {
    return toInfo(await requestShare(deps(ctx), catalogOf(ctx), actorOf(ctx, 'consumer'), input));
  }

  @Mutation(() => ShareRequestInfo, { description: 'The source department approves a PENDING request, possibly narrowing it. Needs the source_approver role.' })
  async approveShareRequest(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => Int) id: number,
    @Arg('change', () => ShareApprovalInput, { nullable: true }) change?: ShareApprovalInput | null,
  ): Promise<ShareRequestInfo> {
    return toInfo(await approveShareRequest(deps(ctx), catalogOf(ctx), actorOf(ctx, 'source_approver'), id, change ?? {}));
  }

  @Mutation(() => ShareRequestInfo, { description: 'The source department refuses a PENDING request, citing its legal basis (R9). Needs the source_approver role.' })
  async refuseShareRequest(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => Int) id: number,
    @Arg('basis', () => String, { description: 'The law, regulation or rule the refusal rests on' }) basis: string,
    @Arg('reason', () => String) reason: string,
  ): Promise<ShareRequestInfo> {
    return toInfo(await refuseShareRequest(deps(ctx), actorOf(ctx, 'source_approver'), id, basis, reason));
  }

  @Mutation(() => ShareRequestInfo, { description: 'The source department marks an APPROVED request’s sharing completed: its grant becomes usable. Needs the source_approver role.' })
  async fulfilShareRequest(@Ctx() ctx: RequestContext, @Arg('id', () => Int) id: number): Promise<ShareRequestInfo> {
    return toInfo(await fulfilShareRequest(deps(ctx), catalogOf(ctx), actorOf(ctx, 'source_approver'), id));
  }

  @Mutation(() => ShareRequestInfo, { description: 'The requesting agency withdraws a PENDING or APPROVED request.' })
  async withdrawShareRequest(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => Int) id: number,
    @Arg('reason', () => String, { nullable: true }) reason?: string | null,
  ): Promise<ShareRequestInfo> {
    return toInfo(await withdrawShareRequest(deps(ctx), actorOf(ctx), id, reason));
  }
}

function deps(ctx: RequestContext): WorkflowDeps {
  return { prisma: ctx.services.prisma, sql: ctx.services.sql, calendar: ctx.services.calendar };
}

function toInfo(r: ShareRequestRecord): ShareRequestInfo {
  return { ...r, status: ShareRequestStatusGql[r.status] };
}

@ObjectType({ description: 'The answer for one claimed value: MATCH or NO_MATCH, never the value.' })
class ClaimResultInfo {
  @Field(() => String) field!: string;
  @Field(() => String, { description: 'MATCH or NO_MATCH' }) result!: string;
}

@ObjectType({ description: '核实比对 (R10): whether the record exists and, per claim, whether it matches.' })
class VerificationResultInfo {
  @Field(() => String, { description: 'FOUND or NOT_FOUND' }) record!: string;
  @Field(() => [ClaimResultInfo], { description: 'Empty when the record is NOT_FOUND' }) results!: ClaimResultInfo[];
}

/** Verification of claimed values (R10): workflow/verification.ts. */
@Resolver()
export class VerificationResolver {
  @Query(() => VerificationResultInfo, {
    nullable: true,
    description:
      'Verifies claimed values of one record against the dataset (核实比对, R10), e.g. NOT_SHARED identity fields: MATCH / NO_MATCH per claim, or NOT_FOUND; never a value. Needs a VERIFY grant for the purpose in X-Purpose.',
  })
  async verify(
    @Ctx() ctx: RequestContext,
    @Arg('datasetCode', () => String) datasetCode: string,
    @Arg('key', () => GraphQLJSONObject, { description: 'The record key, e.g. {"recordNo": "…"}' }) key: Record<string, unknown>,
    @Arg('claims', () => GraphQLJSONObject, { description: 'Field → claimed value, e.g. {"idNumber": "…", "name": "…"}' }) claims: Record<string, unknown>,
  ): Promise<VerificationResultInfo> {
    const r = await verifyRecord(ctx, datasetCode, key, claims);
    return { record: r.found ? 'FOUND' : 'NOT_FOUND', results: r.results };
  }
}

@ObjectType({ description: 'A message to your department: a deadline reminder or escalation.' })
class NotificationInfo {
  @Field(() => String) id!: string;
  @Field(() => String, { description: 'REMINDER or ESCALATION' }) kind!: string;
  @Field(() => String) subjectType!: string;
  @Field(() => Int) subjectId!: number;
  @Field(() => GraphQLISODateTime) dueAt!: Date;
  @Field(() => String) message!: string;
  @Field(() => GraphQLISODateTime) createdAt!: Date;
}

@ObjectType({ description: 'What one department owes: open obligations, due within 24 h, overdue.' })
class DepartmentDeadlinesInfo {
  @Field(() => String) department!: string;
  @Field(() => Int) open!: number;
  @Field(() => Int) dueSoon!: number;
  @Field(() => Int) overdue!: number;
  @Field(() => GraphQLISODateTime, { nullable: true }) nextDue!: Date | null;
}

/** Deadlines (issue 4, item 6): workflow/deadlines.ts, run by jobs/createJobs.ts. */
@Resolver()
export class DeadlineResolver {
  @Query(() => [NotificationInfo], { description: 'Reminders and escalations addressed to your department, newest first.' })
  async notifications(@Ctx() ctx: RequestContext, @Arg('limit', () => Int, { nullable: true }) limit?: number | null): Promise<NotificationInfo[]> {
    const a = actorOf(ctx);
    const rows = await ctx.services.prisma.notification.findMany({ where: { department: a.agency }, orderBy: { id: 'desc' }, take: Math.min(Math.max(limit ?? 100, 1), 1000) });
    return rows.map((n) => ({ ...n, id: n.id.toString() }));
  }

  @Query(() => [DepartmentDeadlinesInfo], { description: 'The data authority’s overview of everything due and overdue, by department. Needs the authority role.' })
  async deadlineOverview(@Ctx() ctx: RequestContext): Promise<DepartmentDeadlinesInfo[]> {
    const a = actorOf(ctx, 'authority');
    if (!catalogOf(ctx).departments.some((d) => d.code === a.agency && d.isAuthority)) throw new ForbiddenError('the deadline overview is for the data authority');
    return deadlineOverview(ctx.services.sql);
  }
}

@ObjectType({ description: 'The working-day calendar in force.' })
class CalendarStatusInfo {
  @Field(() => [Int], { description: 'Years whose holiday schedule is loaded' }) years!: number[];
  @Field(() => String, { nullable: true, description: 'Set when a schedule the deadlines need is missing (deadlines are then provisional)' }) warning!: string | null;
}

@ObjectType()
class HolidayYearLoadedInfo {
  @Field(() => Int) year!: number;
  @Field(() => Int, { description: 'Open deadlines whose due date changed' }) recomputed!: number;
}

/** The working-day calendar (issue 4, item 1): workflow/calendarStore.ts. */
@Resolver()
export class CalendarResolver {
  @Query(() => CalendarStatusInfo, { description: 'Loaded holiday schedules, and a warning when one that deadlines need is missing.' })
  calendarStatus(@Ctx() ctx: RequestContext): CalendarStatusInfo {
    const gap = calendarGap(ctx.services.calendar, new Date());
    return { years: ctx.services.calendar.years, warning: gap?.message ?? null };
  }

  @Mutation(() => HolidayYearLoadedInfo, {
    description:
      'The data authority loads (or replaces) a newly announced year’s schedule (国务院办公厅 notice, holiday-cn format: { year, papers, days: [{ name, date, isOffDay }] }); open deadlines are recomputed at once, on every gateway. Needs the authority role.',
  })
  async loadHolidayYear(@Ctx() ctx: RequestContext, @Arg('schedule', () => GraphQLJSONObject) schedule: Record<string, unknown>): Promise<HolidayYearLoadedInfo> {
    const a = actorOf(ctx, 'authority');
    if (!catalogOf(ctx).departments.some((d) => d.code === a.agency && d.isAuthority)) throw new ForbiddenError('holiday schedules are loaded by the data authority');
    const r = await saveHolidayYear(ctx.services.sql, ctx.services.calendar, schedule, `${a.agency}/${a.subject}`);
    ctx.services.calendar = r.calendar;
    return { year: Number(schedule.year), recomputed: r.recomputed };
  }
}

@ObjectType({ description: '未编目数据需求 (R11): data an agency needs that is not in the catalog.' })
class DataDemandInfo {
  @Field(() => Int) id!: number;
  @Field(() => String) agency!: string;
  @Field(() => String, { description: 'Department expected to hold the data' }) department!: string;
  @Field(() => String) description!: string;
  @Field(() => String) purposeText!: string;
  @Field(() => String) legalBasis!: string;
  @Field(() => String, { description: 'OPEN, CATALOGUED or DECLINED' }) status!: string;
  @Field(() => GraphQLISODateTime) filedAt!: Date;
  @Field(() => GraphQLISODateTime, { description: 'End of the 5th working day after filing' }) dueAt!: Date;
  @Field(() => Boolean) dueProvisional!: boolean;
  @Field(() => String, { nullable: true }) answeredBy!: string | null;
  @Field(() => String, { nullable: true, description: 'The catalog entry published for it' }) datasetCode!: string | null;
  @Field(() => String, { nullable: true, description: 'Why the data cannot be provided' }) explanation!: string | null;
}

@ObjectType({ description: '纠错与异议 (R17–R19): an error report, or a data subject’s objection or request.' })
class CorrectionInfo {
  @Field(() => Int) id!: number;
  @Field(() => String, { description: 'ERROR_REPORT or SUBJECT_REQUEST' }) kind!: string;
  @Field(() => String, { nullable: true }) requestType!: string | null;
  @Field(() => [String]) fields!: string[];
  @Field(() => String) description!: string;
  @Field(() => String, { nullable: true }) reference!: string | null;
  @Field(() => String) agency!: string;
  @Field(() => GraphQLISODateTime) filedAt!: Date;
  @Field(() => GraphQLISODateTime, { description: 'End of the 10th working day after filing' }) dueAt!: Date;
  @Field(() => String, { description: 'OPEN or RESOLVED' }) status!: string;
  @Field(() => String, { nullable: true, description: 'CORRECTED, CONFIRMED or REJECTED' }) outcome!: string | null;
  @Field(() => String, { nullable: true, description: 'The result, told to the filer' }) resolution!: string | null;
  @Field(() => String, { nullable: true }) resolvedBy!: string | null;
}

/** Demands for uncatalogued data, error reports and data subjects' requests: workflow/dataIssues.ts. */
@Resolver()
export class DataIssueResolver {
  @Query(() => [DataDemandInfo], { description: 'Demands you filed or that are addressed to your department (the data authority: all).' })
  async dataDemands(@Ctx() ctx: RequestContext): Promise<DataDemandInfo[]> {
    const a = actorOf(ctx);
    const all = catalogOf(ctx).departments.some((d) => d.code === a.agency && d.isAuthority);
    return ctx.services.prisma.dataDemand.findMany({ where: all ? {} : { OR: [{ agency: a.agency }, { department: a.agency }] }, orderBy: { id: 'asc' }, take: 1000 });
  }

  @Mutation(() => DataDemandInfo, { description: 'Files a demand for data not in the catalog with the department expected to hold it (R11); its answer is due in 5 working days.' })
  async fileDataDemand(
    @Ctx() ctx: RequestContext,
    @Arg('department', () => String) department: string,
    @Arg('description', () => String) description: string,
    @Arg('purposeText', () => String) purposeText: string,
    @Arg('legalBasis', () => String) legalBasis: string,
  ): Promise<DataDemandInfo> {
    return fileDataDemand(issueDeps(ctx), catalogOf(ctx), actorOf(ctx, 'consumer'), { department, description, purposeText, legalBasis });
  }

  @Mutation(() => DataDemandInfo, { description: 'Answers a demand addressed to your department: the published dataset, or an explanation. Needs the source_approver role.' })
  async answerDataDemand(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => Int) id: number,
    @Arg('datasetCode', () => String, { nullable: true }) datasetCode?: string | null,
    @Arg('explanation', () => String, { nullable: true }) explanation?: string | null,
  ): Promise<DataDemandInfo> {
    return answerDataDemand(issueDeps(ctx), catalogOf(ctx), actorOf(ctx, 'source_approver'), id, { datasetCode, explanation });
  }

  @Query(() => [CorrectionInfo], { description: 'Error reports and data subjects’ requests you filed or that concern your department’s datasets (the data authority: all).' })
  async corrections(@Ctx() ctx: RequestContext): Promise<CorrectionInfo[]> {
    const a = actorOf(ctx);
    const catalog = catalogOf(ctx);
    const all = catalog.departments.some((d) => d.code === a.agency && d.isAuthority);
    return ctx.services.prisma.dataCorrection.findMany({
      where: all ? {} : { OR: [{ agency: a.agency }, { datasetId: { in: (await ctx.services.prisma.dataset.findMany({ where: { department: { code: a.agency } }, select: { id: true } })).map((d) => d.id) } }] },
      orderBy: { id: 'asc' },
      take: 1000,
    });
  }

  @Mutation(() => CorrectionInfo, { description: 'Reports doubtful shared data to its source department (R17); it is handled within 10 working days and the record is flagged underVerification meanwhile.' })
  async reportDataError(
    @Ctx() ctx: RequestContext,
    @Arg('datasetCode', () => String) datasetCode: string,
    @Arg('key', () => GraphQLJSONObject) key: Record<string, unknown>,
    @Arg('description', () => String) description: string,
    @Arg('fields', () => [String], { nullable: true }) fields?: string[] | null,
  ): Promise<CorrectionInfo> {
    ctx.audit.datasets.add(datasetCode);
    return fileCorrection(issueDeps(ctx), catalogOf(ctx), actorOf(ctx), { kind: 'ERROR_REPORT', datasetCode, key, fields, description });
  }

  @Mutation(() => CorrectionInfo, {
    description: 'The data authority files a data subject’s objection or request to view, copy, correct or delete (R18); handled within 10 working days. `reference` is the authority’s case number (no personal data).',
  })
  async fileSubjectRequest(
    @Ctx() ctx: RequestContext,
    @Arg('datasetCode', () => String) datasetCode: string,
    @Arg('key', () => GraphQLJSONObject) key: Record<string, unknown>,
    @Arg('requestType', () => String, { description: 'OBJECTION, VIEW, COPY, CORRECT or DELETE' }) requestType: string,
    @Arg('description', () => String) description: string,
    @Arg('reference', () => String, { nullable: true }) reference?: string | null,
    @Arg('fields', () => [String], { nullable: true }) fields?: string[] | null,
  ): Promise<CorrectionInfo> {
    ctx.audit.datasets.add(datasetCode);
    return fileCorrection(issueDeps(ctx), catalogOf(ctx), actorOf(ctx, 'authority'), { kind: 'SUBJECT_REQUEST', requestType, datasetCode, key, fields, description, reference });
  }

  @Mutation(() => CorrectionInfo, { description: 'The source department resolves a report or request (CORRECTED, CONFIRMED, REJECTED) and says what it found; the filer sees it. Needs the source_approver role.' })
  async resolveCorrection(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => Int) id: number,
    @Arg('outcome', () => String) outcome: string,
    @Arg('resolution', () => String) resolution: string,
  ): Promise<CorrectionInfo> {
    return resolveCorrection(issueDeps(ctx), actorOf(ctx, 'source_approver'), id, outcome, resolution);
  }
}

function issueDeps(ctx: RequestContext) {
  return { prisma: ctx.services.prisma, sql: ctx.services.sql, calendar: ctx.services.calendar, grants: ctx.services.grants };
}

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

@ObjectType({ description: '公众数据开放申请 (R16): a request from the public for data outside the open catalog.' })
class PublicRequestInfo {
  @Field(() => Int) id!: number;
  @Field(() => String) department!: string;
  @Field(() => String, { description: 'The portal’s reference of the requester' }) requesterRef!: string;
  @Field(() => String, { nullable: true }) datasetCode!: string | null;
  @Field(() => String) description!: string;
  @Field(() => String) purpose!: string;
  @Field(() => String) scenario!: string;
  @Field(() => String) safeguards!: string;
  @Field(() => String, { description: 'OPEN, GRANTED or REFUSED' }) status!: string;
  @Field(() => GraphQLISODateTime, { description: 'End of the 20th working day after filing' }) dueAt!: Date;
  @Field(() => Boolean) dueProvisional!: boolean;
  @Field(() => String, { nullable: true }) answer!: string | null;
}

/** Requests from the public (R16): workflow/dataIssues.ts. */
@Resolver()
export class PublicRequestResolver {
  @Query(() => [PublicRequestInfo], { description: 'Public requests addressed to your department (the data authority: all).' })
  async publicRequests(@Ctx() ctx: RequestContext): Promise<PublicRequestInfo[]> {
    const a = actorOf(ctx);
    const all = catalogOf(ctx).departments.some((d) => d.code === a.agency && d.isAuthority) || ctx.principal!.roles.includes('sync_job');
    return ctx.services.prisma.publicRequest.findMany({ where: all ? {} : { department: a.agency }, orderBy: { id: 'asc' }, take: 1000 });
  }

  @Mutation(() => PublicRequestInfo, { description: 'Files a request from the public (purpose, scenario, safeguards, period); answer due in 20 working days. Needs the sync_job (portal) or authority role.' })
  async filePublicRequest(
    @Ctx() ctx: RequestContext,
    @Arg('department', () => String) department: string,
    @Arg('requesterRef', () => String) requesterRef: string,
    @Arg('description', () => String) description: string,
    @Arg('purpose', () => String) purpose: string,
    @Arg('scenario', () => String) scenario: string,
    @Arg('safeguards', () => String) safeguards: string,
    @Arg('datasetCode', () => String, { nullable: true }) datasetCode?: string | null,
    @Arg('periodFrom', () => GraphQLISODateTime, { nullable: true }) periodFrom?: Date | null,
    @Arg('periodUntil', () => GraphQLISODateTime, { nullable: true }) periodUntil?: Date | null,
  ): Promise<PublicRequestInfo> {
    const a = actorOf(ctx);
    if (!ctx.principal!.roles.some((r) => r === 'sync_job' || r === 'authority')) throw new ForbiddenError('public requests are filed by the portal (sync_job role) or the data authority');
    return filePublicRequest(issueDeps(ctx), catalogOf(ctx), a, { department, requesterRef, datasetCode, description, purpose, scenario, safeguards, periodFrom, periodUntil });
  }

  @Mutation(() => PublicRequestInfo, { description: 'Answers a public request addressed to your department: granted (how) or refused (why). Needs the source_approver role.' })
  async answerPublicRequest(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => Int) id: number,
    @Arg('grant', () => Boolean) grant: boolean,
    @Arg('answer', () => String) answer: string,
  ): Promise<PublicRequestInfo> {
    return answerPublicRequest(issueDeps(ctx), actorOf(ctx, 'source_approver'), id, grant, answer);
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
    const a = actorOf(ctx, 'authority', 'reviewing the open catalog');
    if (!catalogOf(ctx).departments.some((d) => d.code === a.agency && d.isAuthority)) throw new ForbiddenError('the open catalog is reviewed by the data authority');
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
    const a = actorOf(ctx, 'authority', 'publishing the opening plans');
    if (!catalogOf(ctx).departments.some((d) => d.code === a.agency && d.isAuthority)) throw new ForbiddenError('the opening plans are published by the data authority');
    const client = ctx.services.province;
    const rows = await publishOpenPlans(ctx.services.prisma, year, client ? (plans) => client.pushPlans(`plans-${year}-${Date.now()}`, year, plans) : undefined);
    return rows.map((p) => ({ ...p, items: p.items as Record<string, unknown>[] }));
  }
}
