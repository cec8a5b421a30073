/**
 * Obligations besides share requests, each with its working-day deadline (惠州细则):
 * - demands for uncatalogued data (R11): the department expected to hold the data answers within
 *   5 working days, by cataloguing it (CATALOGUED, naming the published dataset; the entry goes
 *   through the catalog review) or by explaining why not (DECLINED);
 * - error reports by agencies (R17) and data subjects' objections or requests to view, copy,
 *   correct or delete (R18, filed by the data authority, which answers data subjects): the
 *   source department resolves them within 10 working days and the result is told to the filer.
 *   While one is open the record is `underVerification` for consumers, whose queries keep
 *   working (R19).
 * Transitions are conditional updates on the expected status (one of concurrent answers wins).
 */
import type { Catalog, CatalogDataset } from '../catalog/Catalog';
import { isAuthority, keyFields } from '../catalog/Catalog';
import { addWorkingDays, type WorkingDayCalendar } from '../calendar/workingDays';
import type { Prisma } from '../db/createPrisma';
import type { Sql } from '../db/createSql';
import { PG_TYPES, quoteIdent } from '../db/rowTables';
import { ConflictError, ForbiddenError, NotFoundError, UserInputError } from '../errors';
import { columnName, ROWS_SCHEMA, tableName } from '../graphql/naming';
import type { GrantActor } from '../access/grantService';
import type { GrantStore } from '../access/grantStore';
import { isValidAt } from '../access/grantStore';
import { filtersCondition, Params, type FilterInput } from '../graphql/compileQuery';

export const DEMAND_WORKING_DAYS = 5;
export const CORRECTION_WORKING_DAYS = 10;
export const SUBJECT_REQUEST_TYPES = ['OBJECTION', 'VIEW', 'COPY', 'CORRECT', 'DELETE'] as const;
export const CORRECTION_OUTCOMES = ['CORRECTED', 'CONFIRMED', 'REJECTED'] as const;

export interface IssueDeps {
  prisma: Prisma;
  sql: Sql;
  calendar: WorkingDayCalendar;
  /** Grants in force (an error report needs a READ grant covering the record). */
  grants?: GrantStore;
  now?: () => Date;
}

const by = (a: GrantActor) => `${a.agency}/${a.subject}`;

/** R11: an agency files a demand for data not in the catalog. */
export async function fileDataDemand(deps: IssueDeps, catalog: Catalog, actor: GrantActor, input: { department: string; description: string; purposeText: string; legalBasis: string }) {
  if (!catalog.departments.some((d) => d.code === input.department)) throw new NotFoundError(`no department has code ${input.department}`);
  if (input.department === actor.agency) throw new UserInputError('department: name the department expected to hold the data, not your own');
  for (const k of ['description', 'purposeText', 'legalBasis'] as const) if (!input[k]?.trim()) throw new UserInputError(`${k}: required`);
  const now = deps.now?.() ?? new Date();
  const due = addWorkingDays(now, DEMAND_WORKING_DAYS, deps.calendar);
  return deps.prisma.dataDemand.create({
    data: {
      agency: actor.agency,
      department: input.department,
      description: input.description.trim(),
      purposeText: input.purposeText.trim(),
      legalBasis: input.legalBasis.trim(),
      status: 'OPEN',
      filedBy: by(actor),
      filedAt: now,
      dueAt: due.due,
      dueProvisional: due.provisional,
    },
  });
}

/** R11: the addressed department answers: a published dataset of its own, or an explanation. */
export async function answerDataDemand(deps: IssueDeps, catalog: Catalog, actor: GrantActor, id: number, answer: { datasetCode?: string | null; explanation?: string | null }) {
  const d = await deps.prisma.dataDemand.findUnique({ where: { id } });
  if (!d) throw new NotFoundError(`no data demand has id ${id}`);
  if (d.department !== actor.agency) throw new ForbiddenError(`only ${d.department} answers demand ${id}`);
  if (!!answer.datasetCode === !!answer.explanation?.trim()) {
    throw new UserInputError('answer with datasetCode (the catalog entry published for it) or with an explanation of why the data cannot be provided — one of them');
  }
  if (answer.datasetCode) {
    const ds = catalog.datasets.find((x) => x.code === answer.datasetCode);
    if (!ds) throw new UserInputError(`datasetCode: ${answer.datasetCode} is not a published dataset; publish the entry through the catalog review first (draftDatasetVersion → submitDatasetVersion → review)`);
    if (ds.departmentCode !== actor.agency) throw new UserInputError(`datasetCode: ${ds.code} belongs to ${ds.departmentCode}, not to your department`);
  }
  const { count } = await deps.prisma.dataDemand.updateMany({
    where: { id, status: 'OPEN' },
    data: {
      status: answer.datasetCode ? 'CATALOGUED' : 'DECLINED',
      datasetCode: answer.datasetCode ?? null,
      explanation: answer.explanation?.trim() || null,
      answeredBy: by(actor),
      answeredAt: deps.now?.() ?? new Date(),
    },
  });
  if (!count) throw new ConflictError(`data demand ${id} was answered already (${(await deps.prisma.dataDemand.findUnique({ where: { id } }))?.status})`);
  return deps.prisma.dataDemand.findUniqueOrThrow({ where: { id } });
}

function recordKeyText(ds: CatalogDataset, key: Record<string, unknown>): string {
  const keys = keyFields(ds);
  const unknown = Object.keys(key).filter((k) => !keys.some((f) => f.name === k));
  const missing = keys.filter((f) => key[f.name] === undefined || key[f.name] === null);
  if (unknown.length || missing.length) throw new UserInputError(`key: give exactly the key field(s) of ${ds.code}: ${keys.map((f) => f.name).join(', ')}`);
  return keys.map((f) => String(key[f.name])).join('\u001f');
}

/**
 * The record must exist among the rows the filer may see (`rowFilters` null = all rows); its
 * values are not read. Missing and out-of-reach records get the same answer.
 */
async function assertRecordExists(sql: Sql, ds: CatalogDataset, key: Record<string, unknown>, rowFilters: FilterInput[] | null): Promise<void> {
  const keys = keyFields(ds);
  const params = new Params();
  const conds = keys.map((f) => `t0.${quoteIdent(columnName(f.name))} = ${params.add(key[f.name], PG_TYPES[f.type])}`);
  const allowed = filtersCondition(ds, rowFilters, 't0', params);
  if (allowed) conds.push(allowed);
  let rows: unknown[];
  try {
    rows = await sql.unsafe(`SELECT 1 FROM ${quoteIdent(ROWS_SCHEMA)}.${quoteIdent(tableName(ds))} t0 WHERE ${conds.join(' AND ')}`, params.values as never[]);
  } catch {
    throw new UserInputError('key: a value does not fit its field type');
  }
  if (!rows.length) throw new NotFoundError(`${ds.code} has no record with this key among the rows shared with you`);
}

/**
 * Which rows a filer may report on: the source department and the data authority all of them;
 * an agency the rows of its READ grants on the dataset (any purpose) valid now.
 * @throws ForbiddenError without such a grant.
 */
async function reportableRows(deps: IssueDeps, catalog: Catalog, actor: GrantActor, ds: CatalogDataset): Promise<FilterInput[] | null> {
  if (ds.departmentCode === actor.agency || isAuthority(catalog, actor.agency)) return null;
  const now = new Date();
  const grants = ((await deps.grants?.agencyGrants(actor.agency)) ?? []).filter((g) => g.kind === 'READ' && g.datasetCode === ds.code && isValidAt(g, now));
  if (!grants.length) throw new ForbiddenError(`errors are reported on data shared with you: ${actor.agency} holds no grant on ${ds.code}`);
  return grants.some((g) => !g.rowFilter) ? null : grants.map((g) => g.rowFilter!);
}

/**
 * R17 (an agency reports doubtful data, kind ERROR_REPORT) or R18 (the data authority files a data
 * subject's objection or request, kind SUBJECT_REQUEST): due in 10 working days at the source
 * department.
 */
export async function fileCorrection(
  deps: IssueDeps,
  catalog: Catalog,
  actor: GrantActor,
  input: { kind: 'ERROR_REPORT' | 'SUBJECT_REQUEST'; requestType?: string | null; datasetCode: string; key: Record<string, unknown>; fields?: string[] | null; description: string; reference?: string | null },
) {
  const ds = catalog.datasets.find((x) => x.code === input.datasetCode);
  if (!ds) throw new NotFoundError(`no published dataset has resource code ${input.datasetCode}`);
  if (input.kind === 'SUBJECT_REQUEST') {
    if (!isAuthority(catalog, actor.agency)) throw new ForbiddenError('data subjects’ requests are filed by the data authority, which answers data subjects (R18)');
    if (!SUBJECT_REQUEST_TYPES.includes(input.requestType as never)) throw new UserInputError(`requestType: one of ${SUBJECT_REQUEST_TYPES.join(', ')}`);
  } else if (input.kind !== 'ERROR_REPORT') {
    throw new UserInputError('kind: ERROR_REPORT or SUBJECT_REQUEST');
  }
  const fields = input.fields ?? [];
  const unknown = fields.filter((n) => !ds.fields.some((f) => f.name === n));
  if (unknown.length) throw new UserInputError(`fields: ${ds.code} has no field ${unknown.join(', ')}`);
  if (!input.description?.trim()) throw new UserInputError('description: say what is wrong or what is asked');
  const recordKey = recordKeyText(ds, input.key);
  await assertRecordExists(deps.sql, ds, input.key, input.kind === 'ERROR_REPORT' ? await reportableRows(deps, catalog, actor, ds) : null);
  const now = deps.now?.() ?? new Date();
  const due = addWorkingDays(now, CORRECTION_WORKING_DAYS, deps.calendar);
  const dataset = await deps.prisma.dataset.findUniqueOrThrow({ where: { code: ds.code }, select: { id: true } });
  return deps.prisma.dataCorrection.create({
    data: {
      kind: input.kind,
      requestType: input.kind === 'SUBJECT_REQUEST' ? input.requestType! : null,
      datasetId: dataset.id,
      recordKey,
      fields,
      description: input.description.trim(),
      reference: input.reference?.trim() || null,
      agency: actor.agency,
      filedBy: by(actor),
      filedAt: now,
      dueAt: due.due,
      dueProvisional: due.provisional,
      status: 'OPEN',
    },
  });
}

/** The source department resolves an open report or request; the filer sees the outcome. */
export async function resolveCorrection(deps: IssueDeps, actor: GrantActor, id: number, outcome: string, resolution: string) {
  const c = await deps.prisma.dataCorrection.findUnique({ where: { id } });
  if (!c) throw new NotFoundError(`no correction has id ${id}`);
  const ds = await deps.prisma.dataset.findUniqueOrThrow({ where: { id: c.datasetId }, select: { code: true, department: { select: { code: true } } } });
  if (ds.department.code !== actor.agency) throw new ForbiddenError(`only the source department ${ds.department.code} resolves reports on ${ds.code}`);
  if (!CORRECTION_OUTCOMES.includes(outcome as never)) throw new UserInputError(`outcome: one of ${CORRECTION_OUTCOMES.join(', ')}`);
  if (!resolution?.trim()) throw new UserInputError('resolution: what was found and done; the filer is told');
  const { count } = await deps.prisma.dataCorrection.updateMany({
    where: { id, status: 'OPEN' },
    data: { status: 'RESOLVED', outcome, resolution: resolution.trim(), resolvedBy: by(actor), resolvedAt: deps.now?.() ?? new Date() },
  });
  if (!count) throw new ConflictError(`correction ${id} is resolved already`);
  return deps.prisma.dataCorrection.findUniqueOrThrow({ where: { id } });
}

export const PUBLIC_REQUEST_WORKING_DAYS = 20;

/**
 * R16: a request from the public for data outside the open catalog, filed by the portal
 * (`sync_job`) or the data authority; the agency answers within 20 working days.
 */
export async function filePublicRequest(
  deps: IssueDeps,
  catalog: Catalog,
  actor: GrantActor,
  input: { department: string; requesterRef: string; datasetCode?: string | null; description: string; purpose: string; scenario: string; safeguards: string; periodFrom?: Date | null; periodUntil?: Date | null },
) {
  if (!catalog.departments.some((d) => d.code === input.department)) throw new NotFoundError(`no department has code ${input.department}`);
  if (input.datasetCode) {
    const ds = catalog.datasets.find((d) => d.code === input.datasetCode);
    if (!ds) throw new NotFoundError(`no published dataset has resource code ${input.datasetCode}`);
    if (ds.departmentCode !== input.department) throw new UserInputError(`datasetCode: ${ds.code} belongs to ${ds.departmentCode}, not ${input.department}`);
  }
  const missing = (['requesterRef', 'description', 'purpose', 'scenario', 'safeguards'] as const).filter((k) => !input[k]?.trim());
  if (missing.length) throw new UserInputError(`required: ${missing.join(', ')} (purpose, usage scenario, safeguards and period are stated with every request, R16)`);
  if (input.periodFrom && input.periodUntil && input.periodUntil <= input.periodFrom) throw new UserInputError('periodUntil: must be after periodFrom');
  const now = deps.now?.() ?? new Date();
  const due = addWorkingDays(now, PUBLIC_REQUEST_WORKING_DAYS, deps.calendar);
  return deps.prisma.publicRequest.create({
    data: {
      department: input.department,
      requesterRef: input.requesterRef.trim(),
      datasetCode: input.datasetCode ?? null,
      description: input.description.trim(),
      purpose: input.purpose.trim(),
      scenario: input.scenario.trim(),
      safeguards: input.safeguards.trim(),
      periodFrom: input.periodFrom ?? null,
      periodUntil: input.periodUntil ?? null,
      status: 'OPEN',
      filedBy: by(actor),
      filedAt: now,
      dueAt: due.due,
      dueProvisional: due.provisional,
    },
  });
}

/** The agency answers a public request: granted (how the data is provided) or refused (why). */
export async function answerPublicRequest(deps: IssueDeps, actor: GrantActor, id: number, grant: boolean, answer: string) {
  const r = await deps.prisma.publicRequest.findUnique({ where: { id } });
  if (!r) throw new NotFoundError(`no public request has id ${id}`);
  if (r.department !== actor.agency) throw new ForbiddenError(`only ${r.department} answers public request ${id}`);
  if (!answer?.trim()) throw new UserInputError('answer: how the data is provided, or why it is not (the requester is told)');
  const { count } = await deps.prisma.publicRequest.updateMany({
    where: { id, status: 'OPEN' },
    data: { status: grant ? 'GRANTED' : 'REFUSED', answer: answer.trim(), answeredBy: by(actor), answeredAt: deps.now?.() ?? new Date() },
  });
  if (!count) throw new ConflictError(`public request ${id} was answered already`);
  return deps.prisma.publicRequest.findUniqueOrThrow({ where: { id } });
}
