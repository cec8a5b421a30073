import 'reflect-metadata';
import { Arg, Ctx, Field, GraphQLISODateTime, InputType, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import {
  applyForGrant,
  issueGrant,
  listGrants,
  narrowGrant,
  renewGrant,
  revokeGrant,
  type GrantRecord,
} from '../../access/grantService';
import { hasRole } from '../../auth/Principal';
import { ForbiddenError, UnauthenticatedError } from '../../errors';
import type { FilterInput } from '../compileQuery';
import type { RequestContext } from '../../server/RequestContext';
import { GraphQLJSONObject } from './catalogTypes';
import { actorOf, catalogOf } from './actor';

@ObjectType({ description: '授权: fields of one dataset an agency may read, for one declared purpose, on some rows, for a period.' })
export class GrantInfo {
  @Field(() => Int) id!: number;
  @Field(() => String, { description: 'Grantee department code'  }) agency!: string;
  @Field(() => String, { description: '信息资源代码 of the dataset'  }) datasetCode!: string;
  @Field(() => String) kind!: string;
  @Field(() => [String], { description: 'Granted fields (the key fields always included)' }) fields!: string[];
  @Field(() => [String], { description: 'Masked fields the grantee reads in clear (R12)' }) clearFields!: string[];
  @Field(() => String, { description: 'Send it as the X-Purpose header with every query that uses this grant'  }) purposeCode!: string;
  @Field(() => String) purposeText!: string;
  @Field(() => String, { nullable: true }) legalBasis!: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Row restriction, in the dataset filter shape' }) rowFilter!: FilterInput | null;
  @Field(() => GraphQLISODateTime) validFrom!: Date;
  @Field(() => GraphQLISODateTime, { nullable: true }) validUntil!: Date | null;
  @Field(() => String, { description: 'ACTIVE or REVOKED'  }) status!: string;
  @Field(() => String, { description: 'UNCONDITIONAL (granted on application, R8) or ISSUED (by the source department, R9)'  }) basis!: string;
  @Field(() => String) issuedBy!: string;
  @Field(() => GraphQLISODateTime) issuedAt!: Date;
  @Field(() => String, { nullable: true }) revokedBy!: string | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) revokedAt!: Date | null;
  @Field(() => String, { nullable: true }) revokeReason!: string | null;
}

@InputType({ description: 'An application for UNCONDITIONAL fields of a dataset (granted at once, R8).' })
export class GrantApplicationInput {
  @Field(() => String, { description: '信息资源代码'  }) datasetCode!: string;
  @Field(() => [String]) fields!: string[];
  @Field(() => String, { description: 'Purpose code (letters, digits, . _ : -), sent as X-Purpose'  }) purposeCode!: string;
  @Field(() => String, { description: '用途: what the data is used for'  }) purposeText!: string;
  @Field(() => String, { nullable: true, description: 'Legal basis of the duty the data serves (PIPL art. 34)' }) legalBasis?: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Only these rows, e.g. {"district":{"eq":"惠城区"}}' }) rowFilter?: FilterInput | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) validFrom?: Date | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) validUntil?: Date | null;
}

@InputType({ description: 'A grant issued by the source department (any field but NOT_SHARED ones, R9).' })
export class GrantIssueInput extends GrantApplicationInput {
  @Field(() => String, { description: 'Grantee department code'  }) agency!: string;
  @Field(() => [String], { nullable: true, description: 'Masked fields the grantee may read in clear' }) clearFields?: string[] | null;
}

@InputType({ description: 'Narrows a grant: fewer fields, an added row restriction, an earlier end.' })
export class GrantNarrowInput {
  @Field(() => [String], { nullable: true }) fields?: string[] | null;
  @Field(() => [String], { nullable: true }) clearFields?: string[] | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Added to the current restriction (both hold)' }) rowFilter?: FilterInput | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) validUntil?: Date | null;
  @Field(() => String, { description: 'Why; the grantee is told'  }) reason!: string;
}

/**
 * Grants (R7–R10): agencies apply for UNCONDITIONAL fields (granted at once); source
 * departments issue, narrow and revoke grants on their datasets; everyone lists the grants
 * they hold or gave, the data authority all of them. Rules: access/grantService.ts.
 */
@Resolver()
export class GrantResolver {
  @Query(() => [GrantInfo], {
    description: 'Grants you hold, and grants on your department’s datasets (the data authority, with the authority role, sees all). Revoked ones only when asked.',
  })
  async grants(
    @Ctx() ctx: RequestContext,
    @Arg('datasetCode', () => String, { nullable: true }) datasetCode?: string | null,
    @Arg('agency', () => String, { nullable: true }) agency?: string | null,
    @Arg('purposeCode', () => String, { nullable: true }) purposeCode?: string | null,
    @Arg('includeRevoked', () => Boolean, { nullable: true }) includeRevoked?: boolean | null,
  ): Promise<GrantInfo[]> {
    const actor = actorOf(ctx, undefined, 'listing grants');
    return listGrants(ctx.services, catalogOf(ctx), { ...actor, roles: ctx.principal!.roles }, { datasetCode, agency, purposeCode, includeRevoked: !!includeRevoked });
  }

  @Mutation(() => GrantInfo, { description: 'Applies for UNCONDITIONAL fields of a dataset for a declared purpose: granted at once (R8). Needs the consumer role.' })
  async applyForGrant(@Ctx() ctx: RequestContext, @Arg('input', () => GrantApplicationInput) input: GrantApplicationInput): Promise<GrantInfo> {
    const actor = actorOf(ctx, 'consumer', 'applying for a grant');
    return applyForGrant(ctx.services, catalogOf(ctx), actor, input);
  }

  @Mutation(() => GrantInfo, {
    description: 'Issues a grant on one of your department’s datasets to another agency, CONDITIONAL fields included (R9); NOT_SHARED fields never. Needs the source_approver role.',
  })
  async issueGrant(@Ctx() ctx: RequestContext, @Arg('input', () => GrantIssueInput) input: GrantIssueInput): Promise<GrantInfo> {
    const actor = actorOf(ctx, 'source_approver', 'issuing a grant');
    return issueGrant(ctx.services, catalogOf(ctx), actor, input);
  }

  @Mutation(() => GrantInfo, { description: 'Narrows a grant on your department’s dataset; it applies at once on every gateway. Needs the source_approver role.' })
  async narrowGrant(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => Int) id: number,
    @Arg('change', () => GrantNarrowInput) change: GrantNarrowInput,
  ): Promise<GrantInfo> {
    const actor = actorOf(ctx, 'source_approver', 'narrowing a grant');
    return narrowGrant(ctx.services, catalogOf(ctx), actor, id, change);
  }

  @Mutation(() => GrantInfo, { description: 'Renews a grant (also an expired one) until a later date, with a reason. Needs the source_approver role.' })
  async renewGrant(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => Int) id: number,
    @Arg('validUntil', () => GraphQLISODateTime) validUntil: Date,
    @Arg('reason', () => String) reason: string,
  ): Promise<GrantInfo> {
    return renewGrant(ctx.services, actorOf(ctx, 'source_approver', 'renewing a grant'), id, validUntil, reason);
  }

  @Mutation(() => GrantInfo, {
    description: 'Revokes a grant with a reason; it stops at once on every gateway. The source department (source_approver role) or the data authority (authority role).',
  })
  async revokeGrant(@Ctx() ctx: RequestContext, @Arg('id', () => Int) id: number, @Arg('reason', () => String) reason: string): Promise<GrantInfo> {
    const p = ctx.principal;
    if (!p) throw new UnauthenticatedError('revoking a grant needs an identified caller');
    if (!hasRole(p, 'source_approver') && !hasRole(p, 'authority')) throw new ForbiddenError('revoking a grant needs the source_approver or authority role');
    return revokeGrant(ctx.services, catalogOf(ctx), { agency: p.agency, subject: p.subject, roles: p.roles }, id, reason);
  }
}

export type { GrantRecord };
