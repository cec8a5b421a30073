import 'reflect-metadata';
import { Arg, Ctx, Field, GraphQLISODateTime, InputType, Int, ObjectType, Query, registerEnumType, Resolver } from 'type-graphql';
import { normaliseIdentifier } from '../../audit/auditKeys';
import type { AccessRecordInput } from '../../audit/AccessRecord';
import { hasRole, type Principal } from '../../auth/Principal';
import { ForbiddenError, UnauthenticatedError, UserInputError } from '../../errors';
import type { RequestContext } from '../../server/RequestContext';
import { isValidIdNumber, isValidUscc } from '../../validation/checksums';
import { GraphQLJSONObject } from './catalogTypes';

/**
 * Querying the access record (使用记录, R7/R18). Who sees what:
 * - the data authority (a department marked `authority` in the catalog, caller with the
 *   `authority` role) sees every record;
 * - any other identified caller sees the records its own agency made, and the records that
 *   touch datasets its department is the source of. A record visible only for the latter reason
 *   is cut down to those datasets (their fields, masking and grants), and its row count is
 *   withheld when the operation also read other departments' datasets;
 * - the data-subject access report (who read rows about an ID number or credit code) is the
 *   data authority's alone: it answers data subjects' requests.
 * No hash (row keys, subjects, operation) is ever returned. See src/audit/README.md.
 */

export enum AccessOutcomeGql {
  OK = 'OK',
  PARTIAL = 'PARTIAL',
  DENIED = 'DENIED',
  FAILED = 'FAILED',
}
registerEnumType(AccessOutcomeGql, {
  name: 'AccessOutcome',
  description: 'How an operation ended: OK, PARTIAL (some fields or datasets refused), DENIED (nothing returned), FAILED (another error).',
});

export enum SubjectIdentifierType {
  ID_NUMBER = 'ID_NUMBER',
  USCC = 'USCC',
}
registerEnumType(SubjectIdentifierType, { name: 'SubjectIdentifierType', description: '公民身份号码 (GB 11643) or 统一社会信用代码 (GB 32100).' });

@InputType({ description: 'Conditions on access records; all given conditions must hold.' })
export class AccessRecordFilter {
  @Field(() => String, { nullable: true, description: '信息资源代码: records that asked for this dataset (another department’s dataset: among your agency’s own records only)' }) datasetCode?: string | null;
  @Field(() => String, { nullable: true, description: 'A field of `datasetCode` (required with it) that was returned or refused' }) field?: string | null;
  @Field(() => String, { nullable: true, description: 'Department code of the agency that made the request' }) agency?: string | null;
  @Field(() => String, { nullable: true, description: 'Declared purpose code' }) purposeCode?: string | null;
  @Field(() => AccessOutcomeGql, { nullable: true }) outcome?: AccessOutcomeGql | null;
  @Field(() => GraphQLISODateTime, { nullable: true, description: 'Made at or after this instant' }) from?: Date | null;
  @Field(() => GraphQLISODateTime, { nullable: true, description: 'Made before this instant (exclusive)' }) to?: Date | null;
}

@ObjectType('AccessRecord', { description: '使用记录: one operation of an identified caller. Holds no data value.' })
export class AccessRecordInfo {
  @Field(() => String, { description: 'Position in the chain (decimal)' }) seq!: string;
  @Field(() => GraphQLISODateTime) at!: Date;
  @Field(() => String) requestId!: string;
  @Field(() => String, { description: 'Department code of the caller' }) agency!: string;
  @Field(() => String, { description: 'The person or system acting (token subject)' }) subject!: string;
  @Field(() => String, { nullable: true }) purposeCode!: string | null;
  @Field(() => String, { nullable: true }) purposeText!: string | null;
  @Field(() => String, { nullable: true, description: 'query / mutation / subscription / upload' }) operationType!: string | null;
  @Field(() => String, { nullable: true }) operationName!: string | null;
  @Field(() => [Int], { description: 'Grants the operation used' }) grantIds!: number[];
  @Field(() => [String], { description: 'Resource codes of the datasets asked for' }) datasets!: string[];
  @Field(() => [String], { description: '"<resource code>#<field>" returned' }) fieldsReturned!: string[];
  @Field(() => [String], { description: '"<resource code>#<field>" asked for and refused' }) fieldsDenied!: string[];
  @Field(() => GraphQLJSONObject, { description: '{"<resource code>#<field>": "<mask rule>"} applied to returned values' }) masking!: Record<string, string>;
  @Field(() => Int, { nullable: true, description: 'Rows returned; null when shown restricted and the operation also read other departments’ datasets' })
  rowCount!: number | null;
  @Field(() => AccessOutcomeGql) outcome!: AccessOutcomeGql;
  @Field(() => [String]) errorCodes!: string[];
  @Field(() => Boolean, { description: 'True when another agency’s record is shown only in the part that concerns your department’s datasets' })
  restricted!: boolean;
}

@ObjectType({ description: 'Where a page of access records ends.' })
export class AccessRecordPageInfo {
  @Field(() => Boolean) hasNextPage!: boolean;
  @Field(() => String, { nullable: true, description: 'Pass as `after` to get the next page.' }) endCursor!: string | null;
}

@ObjectType({ description: 'A page of access records, newest first.' })
export class AccessRecordPage {
  @Field(() => [AccessRecordInfo]) items!: AccessRecordInfo[];
  @Field(() => AccessRecordPageInfo) pageInfo!: AccessRecordPageInfo;
}

@ObjectType({ description: 'One read of rows about the data subject.' })
export class SubjectAccessEntry {
  @Field(() => String, { description: 'Position of the access record in the chain' }) seq!: string;
  @Field(() => GraphQLISODateTime) at!: Date;
  @Field(() => String, { description: 'Department code of the agency that read' }) agency!: string;
  @Field(() => String, { description: 'The person or system acting' }) subject!: string;
  @Field(() => String, { nullable: true }) purposeCode!: string | null;
  @Field(() => String, { nullable: true }) purposeText!: string | null;
  @Field(() => [String]) datasets!: string[];
  @Field(() => [String]) fieldsReturned!: string[];
  @Field(() => [Int]) grantIds!: number[];
  @Field(() => AccessOutcomeGql) outcome!: AccessOutcomeGql;
}

@ObjectType({ description: 'Who read rows about one data subject, when and for what purpose (R18), newest first.' })
export class SubjectAccessReport {
  @Field(() => SubjectIdentifierType) identifierType!: SubjectIdentifierType;
  @Field(() => [SubjectAccessEntry]) entries!: SubjectAccessEntry[];
  @Field(() => Boolean, { description: 'True when there were more than 1000 entries (only the newest 1000 are listed): narrow the period with from / to' }) truncated!: boolean;
}

export const ACCESS_RECORDS_DEFAULT_PAGE = 50;
export const ACCESS_RECORDS_MAX_PAGE = 500;
export const SUBJECT_REPORT_MAX_ENTRIES = 1000;

/** A stored record as the query reads it: `seq` and `at` as text, no hashes. */
type RecordRow = Omit<AccessRecordInput, 'at' | 'outcome' | 'rowKeyHashes' | 'subjectHashes'> & { seq: string; at: string; outcome: AccessOutcomeGql };

@Resolver()
export class AccessRecordResolver {
  @Query(() => AccessRecordPage, {
    description:
      '使用记录 (R7): your agency’s own records and who read your department’s datasets (by field, agency, purpose, period); the data authority sees all. Newest first.',
  })
  async accessRecords(
    @Ctx() ctx: RequestContext,
    @Arg('filter', () => AccessRecordFilter, { nullable: true }) filter?: AccessRecordFilter | null,
    @Arg('first', () => Int, { defaultValue: ACCESS_RECORDS_DEFAULT_PAGE }) first: number = ACCESS_RECORDS_DEFAULT_PAGE,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<AccessRecordPage> {
    const p = principalOf(ctx, 'the access record is shown to an identified caller');
    if (!Number.isInteger(first) || first < 1 || first > ACCESS_RECORDS_MAX_PAGE) {
      throw new UserInputError(`first must be between 1 and ${ACCESS_RECORDS_MAX_PAGE}`);
    }
    const f = filter ?? {};
    if (f.field && !f.datasetCode) throw new UserInputError('filter.field needs filter.datasetCode (the dataset the field belongs to)');
    checkPeriod(f.from, f.to);
    const afterSeq = after == null ? null : decodeCursor(after);

    const { sql } = ctx.services;
    const { authority, ownDatasets } = await callerScope(ctx, p);
    const conds = [];
    if (!authority) {
      conds.push(ownDatasets.length ? sql`(agency = ${p.agency} OR datasets && ${ownDatasets}::text[])` : sql`agency = ${p.agency}`);
    }
    if (f.datasetCode) {
      conds.push(sql`datasets @> ARRAY[${f.datasetCode}]::text[]`);
      // Other agencies' records are shown cut down to the caller's datasets: filtering them by
      // another department's dataset would reveal what else they read. That filter selects
      // among the caller's own records only.
      if (!authority && !ownDatasets.includes(f.datasetCode)) conds.push(sql`agency = ${p.agency}`);
    }
    if (f.field) {
      const key = `${f.datasetCode}#${f.field}`;
      conds.push(sql`(fields_returned @> ARRAY[${key}]::text[] OR fields_denied @> ARRAY[${key}]::text[])`);
    }
    if (f.agency) conds.push(sql`agency = ${f.agency}`);
    if (f.purposeCode) conds.push(sql`purpose_code = ${f.purposeCode}`);
    if (f.outcome) conds.push(sql`outcome = ${f.outcome}::"AccessOutcome"`);
    if (f.from) conds.push(sql`at >= ${f.from.toISOString()}::timestamptz`);
    if (f.to) conds.push(sql`at < ${f.to.toISOString()}::timestamptz`);
    if (afterSeq) conds.push(sql`seq < ${afterSeq}::bigint`);
    const where = conds.length ? conds.reduce((acc, c) => sql`${acc} AND ${c}`) : sql`TRUE`;

    const rows = await sql<RecordRow[]>`
      SELECT seq::text AS seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, request_id AS "requestId", agency, subject,
             purpose_code AS "purposeCode", purpose_text AS "purposeText",
             operation_type AS "operationType", operation_name AS "operationName",
             grant_ids AS "grantIds", datasets, fields_returned AS "fieldsReturned", fields_denied AS "fieldsDenied",
             masking, row_count AS "rowCount", outcome::text AS outcome, error_codes AS "errorCodes"
        FROM access_record
       WHERE ${where}
       ORDER BY seq DESC
       LIMIT ${first + 1}`;
    const hasNextPage = rows.length > first;
    const page = rows.slice(0, first);

    const own = new Set(ownDatasets);
    const foreign = authority ? [] : page.filter((r) => r.agency !== p.agency);
    const ownGrants = await grantsOnDatasets(ctx, foreign.flatMap((r) => r.grantIds), ownDatasets);
    const items = page.map((r): AccessRecordInfo => {
      const base = { ...r, at: new Date(r.at), grantIds: [...r.grantIds], masking: r.masking ?? {}, restricted: false };
      if (authority || r.agency === p.agency) return base;
      // Another agency's record, visible because it touches our datasets: only that part.
      const mine = (key: string) => own.has(key.slice(0, key.lastIndexOf('#')));
      return {
        ...base,
        grantIds: r.grantIds.filter((id) => ownGrants.has(id)),
        datasets: r.datasets.filter((d) => own.has(d)),
        fieldsReturned: r.fieldsReturned.filter(mine),
        fieldsDenied: r.fieldsDenied.filter(mine),
        masking: Object.fromEntries(Object.entries(base.masking).filter(([k]) => mine(k))),
        rowCount: r.datasets.every((d) => own.has(d)) ? r.rowCount : null,
        restricted: true,
      };
    });
    return {
      items,
      pageInfo: { hasNextPage, endCursor: page.length ? encodeCursor(page[page.length - 1].seq) : null },
    };
  }

  @Query(() => SubjectAccessReport, {
    description:
      'Data-subject access report (R18): who read rows about an ID number or credit code, when and for what purpose, newest first. Exactly one of idNumber / uscc. The data authority only (authority role).',
  })
  async subjectAccessReport(
    @Ctx() ctx: RequestContext,
    @Arg('idNumber', () => String, { nullable: true, description: '公民身份号码 (18 characters, GB 11643)' }) idNumber?: string | null,
    @Arg('uscc', () => String, { nullable: true, description: '统一社会信用代码 (GB 32100)' }) uscc?: string | null,
    @Arg('from', () => GraphQLISODateTime, { nullable: true, description: 'Reads at or after this instant' }) from?: Date | null,
    @Arg('to', () => GraphQLISODateTime, { nullable: true, description: 'Reads before this instant (exclusive)' }) to?: Date | null,
  ): Promise<SubjectAccessReport> {
    const p = principalOf(ctx, 'the data-subject access report is shown to an identified caller');
    const { authority } = await callerScope(ctx, p);
    if (!authority) {
      throw new ForbiddenError('the data-subject access report is answered by the data authority only (its department, with the authority role)');
    }
    const given = [idNumber, uscc].filter((v) => v != null);
    if (given.length !== 1) throw new UserInputError('give exactly one of idNumber and uscc');
    checkPeriod(from, to);
    // Never echo the identifier: messages name its kind only.
    let identifierType: SubjectIdentifierType;
    let value: string;
    if (idNumber != null) {
      value = normaliseIdentifier(idNumber);
      if (!isValidIdNumber(value)) throw new UserInputError('idNumber is not a valid citizen ID number (GB 11643-1999 length, birth date or check digit)');
      identifierType = SubjectIdentifierType.ID_NUMBER;
    } else {
      value = normaliseIdentifier(uscc!);
      if (!isValidUscc(value)) throw new UserInputError('uscc is not a valid unified social credit code (GB 32100-2015 alphabet or check character)');
      identifierType = SubjectIdentifierType.USCC;
    }
    const hash = ctx.services.auditKeys.subjectHash(value);
    const { sql } = ctx.services;
    const limit = SUBJECT_REPORT_MAX_ENTRIES + 1;
    // A record holds its rows' subject hashes itself, or names a row set that holds them (many
    // rows; audit/rowSet.ts): both are searched, each through its GIN index, newest first. The
    // plan is pinned: ordered by seq, PostgreSQL would walk the whole record backwards for a
    // subject read rarely or never (25 s on 2M records instead of 70 ms), and on a small row-set
    // table it would scan and detoast every set rather than use the index.
    const rows = await sql.begin(async (tx) => {
      await tx`SET LOCAL enable_seqscan = off`;
      const period = [
        ...(from ? [tx`r.at >= ${from.toISOString()}::timestamptz`] : []),
        ...(to ? [tx`r.at < ${to.toISOString()}::timestamptz`] : []),
      ].reduce((acc, c) => tx`${acc} AND ${c}`, tx`TRUE`);
      return tx<(Omit<SubjectAccessEntry, 'at'> & { at: string })[]>`
        SELECT seq::text AS seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, agency, subject, purpose_code AS "purposeCode", purpose_text AS "purposeText",
               datasets, fields_returned AS "fieldsReturned", grant_ids AS "grantIds", outcome::text AS outcome
          FROM ((SELECT r.* FROM access_record r
                  WHERE r.subject_hashes @> ARRAY[${hash}]::text[] AND ${period}
                  ORDER BY r.seq + 0 DESC LIMIT ${limit})
                UNION ALL
                (SELECT r.* FROM access_record r
                  WHERE r.row_set = ANY(ARRAY(SELECT s.digest FROM access_row_set s WHERE s.subject_hashes @> ARRAY[${hash}]::text[])) AND ${period}
                  ORDER BY r.seq + 0 DESC LIMIT ${limit})) AS found
         ORDER BY found.seq DESC
         LIMIT ${limit}`;
    });
    return {
      identifierType,
      truncated: rows.length > SUBJECT_REPORT_MAX_ENTRIES,
      entries: rows.slice(0, SUBJECT_REPORT_MAX_ENTRIES).map((r) => ({ ...r, at: new Date(r.at), grantIds: [...r.grantIds] })),
    };
  }
}

function principalOf(ctx: RequestContext, what: string): Principal {
  if (!ctx.principal) throw new UnauthenticatedError(`${what}: send Authorization: Bearer <token>`);
  return ctx.principal;
}

/** Whether the caller is the data authority, and the resource codes of its department's datasets. */
async function callerScope(ctx: RequestContext, p: Principal): Promise<{ authority: boolean; ownDatasets: string[] }> {
  const [row] = await ctx.services.sql<{ isAuthority: boolean; codes: string[] }[]>`
    SELECT p.is_authority AS "isAuthority",
           coalesce(array_agg(d.code ORDER BY d.code) FILTER (WHERE d.code IS NOT NULL), '{}')::text[] AS codes
      FROM department p LEFT JOIN dataset d ON d.department_id = p.id
     WHERE p.code = ${p.agency}
     GROUP BY p.is_authority`;
  if (!row) return { authority: false, ownDatasets: [] };
  return { authority: row.isAuthority && hasRole(p, 'authority'), ownDatasets: row.codes };
}

/** Of these grant ids, those on one of the given datasets. */
async function grantsOnDatasets(ctx: RequestContext, ids: number[], datasetCodes: string[]): Promise<Set<number>> {
  const unique = [...new Set(ids)];
  if (!unique.length || !datasetCodes.length) return new Set();
  const rows = await ctx.services.sql<{ id: number }[]>`
    SELECT g.id FROM access_grant g JOIN dataset d ON d.id = g.dataset_id
     WHERE g.id = ANY(${unique}::int[]) AND d.code = ANY(${datasetCodes}::text[])`;
  return new Set(rows.map((r) => r.id));
}

function checkPeriod(from?: Date | null, to?: Date | null): void {
  if (from && to && from.getTime() > to.getTime()) throw new UserInputError('from must not be after to');
}

const CURSOR_PREFIX = 'ar:';

function encodeCursor(seq: string): string {
  return Buffer.from(CURSOR_PREFIX + seq, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const m = /^ar:([1-9][0-9]{0,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new UserInputError('after is not a cursor of accessRecords');
  return m[1];
}
