import 'reflect-metadata';
import { Arg, Ctx, Field, GraphQLISODateTime, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { ForbiddenError } from '../../errors';
import { answerDataDemand, answerPublicRequest, fileCorrection, fileDataDemand, filePublicRequest, resolveCorrection } from '../../workflow/dataIssues';
import type { RequestContext } from '../../server/RequestContext';
import { GraphQLJSONObject } from './catalogTypes';
import { actorOf, callerActsAsAuthority, catalogOf } from './actor';

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
    const all = callerActsAsAuthority(ctx);
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
    const all = callerActsAsAuthority(ctx);
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
    const all = callerActsAsAuthority(ctx) || ctx.principal!.roles.includes('sync_job');
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
