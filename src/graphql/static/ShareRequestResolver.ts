import 'reflect-metadata';
import { Arg, Ctx, Field, GraphQLISODateTime, InputType, Int, Mutation, ObjectType, Query, registerEnumType, Resolver } from 'type-graphql';
import { approveShareRequest, fulfilShareRequest, listShareRequests, refuseShareRequest, requestShare, withdrawShareRequest, type ShareRequestRecord, type WorkflowDeps } from '../../workflow/shareRequests';
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
    return (await listShareRequests(ctx.services, catalogOf(ctx), { ...actorOf(ctx), roles: ctx.principal!.roles }, { status, datasetCode })).map(toInfo);
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
