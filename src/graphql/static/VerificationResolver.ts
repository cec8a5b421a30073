import 'reflect-metadata';
import { Arg, Ctx, Field, ObjectType, Query, Resolver } from 'type-graphql';
import { verifyRecord } from '../../workflow/verification';
import type { RequestContext } from '../../server/RequestContext';
import { GraphQLJSONObject } from './catalogTypes';

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
