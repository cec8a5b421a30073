/**
 * Grants (授权) and their changes (R7–R10):
 * - an agency applies for UNCONDITIONAL fields of a dataset and is granted them at once (R8);
 * - the source department (数源部门, role source_approver) issues grants for any shareable field,
 *   CONDITIONAL ones included (R9; the request workflow with deadlines sits on top of this),
 *   narrows them (fewer fields, fewer rows, shorter period) and revokes them with a reason;
 * - a NOT_SHARED field is never granted for reading (R10): verification only.
 *
 * Every grant covers the dataset's key fields (a row is addressed by its key; cursors carry
 * it). Every change is a GrantEvent with who, when, why and the state before and after, written
 * in the same transaction as the change, which also notifies every gateway (GRANT_CHANNEL).
 * Concurrent changes of one grant are serialised by a row lock; a revoked grant cannot change.
 */
import type { Catalog, CatalogDataset } from '../catalog/Catalog';
import { actsAsAuthority, keyFields } from '../catalog/Catalog';
import type { Prisma } from '../db/createPrisma';
import type { Sql } from '../db/createSql';
import { ConflictError, ForbiddenError, NotFoundError, UserInputError } from '../errors';
import type { Prisma as PrismaNamespace } from '../generated/prisma/client';
import { filterableFields } from '../graphql/buildDatasetSchema';
import { compileFilter, Params, type FilterInput } from '../graphql/compileQuery';
import { quoteIdent } from '../db/rowTables';
import { ROWS_SCHEMA, tableName } from '../graphql/naming';
import { GRANT_CHANNEL } from './grantStore';

export interface GrantActor {
  agency: string;
  subject: string;
}

export interface GrantDeps {
  prisma: Prisma;
  sql: Sql;
}

/** Purpose codes are short identifiers sent in the X-Purpose header. */
export const PURPOSE_CODE = /^[A-Za-z0-9][A-Za-z0-9._:-]{1,63}$/;

export interface GrantInput {
  datasetCode: string;
  fields: string[];
  purposeCode: string;
  purposeText: string;
  legalBasis?: string | null;
  rowFilter?: FilterInput | null;
  validFrom?: Date | null;
  validUntil?: Date | null;
}

export interface IssueGrantInput extends GrantInput {
  agency: string;
  /** Masked fields the grantee may read in clear (R12). */
  clearFields?: string[] | null;
}

export interface NarrowGrantInput {
  fields?: string[] | null;
  clearFields?: string[] | null;
  /** Added to the grant's row restriction (both must hold). */
  rowFilter?: FilterInput | null;
  validUntil?: Date | null;
  reason: string;
}

export interface GrantRecord {
  id: number;
  agency: string;
  datasetCode: string;
  kind: 'READ' | 'VERIFY';
  fields: string[];
  clearFields: string[];
  purposeCode: string;
  purposeText: string;
  legalBasis: string | null;
  rowFilter: FilterInput | null;
  validFrom: Date;
  validUntil: Date | null;
  status: 'ACTIVE' | 'REVOKED';
  basis: 'UNCONDITIONAL' | 'ISSUED';
  issuedBy: string;
  issuedAt: Date;
  revokedBy: string | null;
  revokedAt: Date | null;
  revokeReason: string | null;
}

const grantInclude = { agency: { select: { code: true } }, dataset: { select: { code: true } } } as const;
type GrantWithCodes = PrismaNamespace.GrantGetPayload<{ include: typeof grantInclude }>;

function toRecord(g: GrantWithCodes): GrantRecord {
  return {
    id: g.id,
    agency: g.agency.code,
    datasetCode: g.dataset.code,
    kind: g.kind,
    fields: g.fields,
    clearFields: g.clearFields,
    purposeCode: g.purposeCode,
    purposeText: g.purposeText,
    legalBasis: g.legalBasis,
    rowFilter: (g.rowFilter as FilterInput | null) ?? null,
    validFrom: g.validFrom,
    validUntil: g.validUntil,
    status: g.status,
    basis: g.basis,
    issuedBy: g.issuedBy,
    issuedAt: g.issuedAt,
    revokedBy: g.revokedBy,
    revokedAt: g.revokedAt,
    revokeReason: g.revokeReason,
  };
}

function snapshotOf(r: GrantRecord) {
  return {
    fields: r.fields,
    clearFields: r.clearFields,
    rowFilter: r.rowFilter,
    validFrom: r.validFrom.toISOString(),
    validUntil: r.validUntil?.toISOString() ?? null,
    status: r.status,
  };
}

export function datasetOf(catalog: Catalog, code: string): CatalogDataset {
  const ds = catalog.datasets.find((d) => d.code === code);
  if (!ds) throw new NotFoundError(`no published dataset has resource code ${code}`);
  return ds;
}

/**
 * The fields a grant covers: the requested ones plus the key fields, each checked.
 * @throws UserInputError for an unknown field; ForbiddenError for a NOT_SHARED one.
 */
export function checkedFields(ds: CatalogDataset, requested: string[], kind: 'READ' | 'VERIFY' = 'READ'): string[] {
  if (!requested.length) throw new UserInputError('fields: name at least one field of the dataset');
  const unknown = requested.filter((n) => !ds.fields.some((f) => f.name === n));
  if (unknown.length) {
    throw new UserInputError(`fields: ${ds.code} (${ds.name}) has no field ${unknown.join(', ')}; its fields are ${ds.fields.map((f) => f.name).join(', ')}`);
  }
  // Verification never reads a value (R10): any field may be verified.
  const notShared = kind === 'VERIFY' ? [] : ds.fields.filter((f) => requested.includes(f.name) && f.shareClass === 'NOT_SHARED');
  if (notShared.length) {
    throw new ForbiddenError(
      `${notShared.map((f) => `${f.name} (${f.label})`).join(', ')} of ${ds.code} is NOT_SHARED (不予共享): it can never be granted for reading; ask the source department ${ds.departmentCode} for verification (核实比对) instead`,
    );
  }
  const names = new Set([...keyFields(ds).map((k) => k.name), ...requested]);
  // Catalog order, so grants read the same whoever wrote them.
  return ds.fields.filter((f) => names.has(f.name)).map((f) => f.name);
}

export function checkPurpose(code: string, text: string): void {
  if (!PURPOSE_CODE.test(code)) {
    throw new UserInputError('purposeCode: 2–64 letters, digits, ".", "_", ":" or "-", starting with a letter or digit (it is sent as the X-Purpose header)');
  }
  if (!text.trim()) throw new UserInputError('purposeText: describe the purpose of use (用途); minimum scope is judged against it');
}

/**
 * A row restriction is a filter over the dataset's key and indexed fields, in the shape of the
 * dataset's GraphQL filter input (e.g. {"district":{"eq":"惠城区"}}). It is checked by compiling
 * it and letting PostgreSQL plan it once, so a wrong value type is refused now, not at query time.
 */
async function checkRowFilter(sql: Sql, ds: CatalogDataset, filter: FilterInput): Promise<void> {
  const allowed = new Set(filterableFields(ds).map((f) => f.name));
  const ops = new Set(['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'isNull', 'startsWith']);
  const walk = (f: unknown, path: string): void => {
    if (typeof f !== 'object' || f === null || Array.isArray(f)) throw new UserInputError(`rowFilter${path}: must be an object`);
    for (const [k, v] of Object.entries(f)) {
      if (k === 'and' || k === 'or') {
        if (!Array.isArray(v) || !v.length) throw new UserInputError(`rowFilter${path}.${k}: must be a non-empty list of filters`);
        v.forEach((x, i) => walk(x, `${path}.${k}[${i}]`));
        continue;
      }
      if (!allowed.has(k)) {
        throw new UserInputError(`rowFilter${path}.${k}: rows can be restricted by the key and indexed fields only (${[...allowed].join(', ')})`);
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.keys(v).length) {
        throw new UserInputError(`rowFilter${path}.${k}: give conditions such as {"eq": …} or {"in": [...]}`);
      }
      for (const op of Object.keys(v)) if (!ops.has(op)) throw new UserInputError(`rowFilter${path}.${k}.${op}: unknown condition; use ${[...ops].join(', ')}`);
    }
  };
  walk(filter, '');
  const params = new Params();
  const cond = compileFilter(ds, filter, 't0', params);
  try {
    await sql.unsafe(`SELECT 1 FROM ${quoteIdent(ROWS_SCHEMA)}.${quoteIdent(tableName(ds))} t0 WHERE ${cond ?? 'true'} LIMIT 0`, params.values as never[]);
  } catch (err) {
    throw new UserInputError(`rowFilter: a value does not fit its field (${(err as Error).message})`);
  }
}

function checkPeriod(from: Date, until: Date | null | undefined): void {
  if (Number.isNaN(from.getTime())) throw new UserInputError('validFrom: not a valid instant');
  if (until && !(until.getTime() > from.getTime())) throw new UserInputError('validUntil: must be after validFrom');
}

export async function departmentId(prisma: Prisma, code: string): Promise<number> {
  const d = await prisma.department.findUnique({ where: { code }, select: { id: true } });
  if (!d) throw new NotFoundError(`no department has code ${code}`);
  return d.id;
}

export async function datasetId(prisma: Prisma, code: string): Promise<number> {
  const d = await prisma.dataset.findUnique({ where: { code }, select: { id: true } });
  if (!d) throw new NotFoundError(`no published dataset has resource code ${code}`);
  return d.id;
}

/** What a new grant holds, checked by the caller. */
export interface NewGrant {
  agency: string;
  ds: CatalogDataset;
  fields: string[];
  clearFields: string[];
  input: GrantInput;
  basis: 'UNCONDITIONAL' | 'ISSUED';
  /** READ (default) or VERIFY. */
  kind?: 'READ' | 'VERIFY';
}

/**
 * Inserts a grant and its first event inside the caller's transaction, and notifies every
 * gateway on commit (share requests create grants in the same transaction as their decision).
 */
export async function insertGrant(
  tx: PrismaNamespace.TransactionClient,
  ids: { agencyId: number; datasetId: number },
  by: string,
  data: NewGrant,
  action: string,
): Promise<GrantRecord> {
  const g = await tx.grant.create({
    data: {
      agencyId: ids.agencyId,
      datasetId: ids.datasetId,
      kind: data.kind ?? 'READ',
      fields: data.fields,
      clearFields: data.clearFields,
      purposeCode: data.input.purposeCode,
      purposeText: data.input.purposeText.trim(),
      legalBasis: data.input.legalBasis?.trim() || null,
      rowFilter: (data.input.rowFilter ?? undefined) as PrismaNamespace.InputJsonValue | undefined,
      validFrom: data.input.validFrom ?? new Date(),
      validUntil: data.input.validUntil ?? null,
      basis: data.basis,
      issuedBy: by,
    },
    include: grantInclude,
  });
  const record = toRecord(g);
  await tx.grantEvent.create({ data: { grantId: g.id, action, actor: by, after: snapshotOf(record) as never } });
  await tx.$executeRaw`SELECT pg_notify(${GRANT_CHANNEL}, ${data.agency})`;
  return record;
}

/** Checks a new grant's period and row restriction (against the database). */
export async function checkGrantInput(deps: GrantDeps, ds: CatalogDataset, input: GrantInput): Promise<void> {
  checkPeriod(input.validFrom ?? new Date(), input.validUntil);
  if (input.rowFilter) await checkRowFilter(deps.sql, ds, input.rowFilter);
}

async function createGrant(deps: GrantDeps, actor: GrantActor, data: NewGrant): Promise<GrantRecord> {
  await checkGrantInput(deps, data.ds, data.input);
  const [agencyId, dsId] = await Promise.all([departmentId(deps.prisma, data.agency), datasetId(deps.prisma, data.ds.code)]);
  const by = `${actor.agency}/${actor.subject}`;
  return deps.prisma.$transaction((tx) =>
    insertGrant(tx, { agencyId, datasetId: dsId }, by, data, data.basis === 'UNCONDITIONAL' ? 'GRANTED_ON_APPLICATION' : 'ISSUED'),
  );
}

/**
 * An agency applies for fields of a dataset (R8): UNCONDITIONAL fields are granted at once.
 * @throws ForbiddenError naming the CONDITIONAL fields (they need the source department) and NOT_SHARED ones.
 */
export async function applyForGrant(deps: GrantDeps, catalog: Catalog, actor: GrantActor, input: GrantInput): Promise<GrantRecord> {
  const ds = datasetOf(catalog, input.datasetCode);
  checkPurpose(input.purposeCode, input.purposeText);
  if (ds.departmentCode === actor.agency) throw new UserInputError(`${ds.code} is your own department's dataset: you read it without a grant`);
  const fields = checkedFields(ds, input.fields);
  const conditional = ds.fields.filter((f) => fields.includes(f.name) && f.shareClass !== 'UNCONDITIONAL');
  if (conditional.length) {
    throw new ForbiddenError(
      `${conditional.map((f) => `${f.name} (${f.label})`).join(', ')} of ${ds.code} is CONDITIONAL (有条件共享): it needs a grant issued by the source department ${ds.departmentCode} after review of your purpose (R9); apply for the UNCONDITIONAL fields alone to be granted at once`,
    );
  }
  return createGrant(deps, actor, { agency: actor.agency, ds, fields, clearFields: [], input, basis: 'UNCONDITIONAL' });
}

/**
 * The source department issues a grant to an agency, CONDITIONAL fields included (R9).
 * @throws ForbiddenError when the actor is not the dataset's source department.
 */
export async function issueGrant(deps: GrantDeps, catalog: Catalog, actor: GrantActor, input: IssueGrantInput): Promise<GrantRecord> {
  const ds = datasetOf(catalog, input.datasetCode);
  if (ds.departmentCode !== actor.agency) throw new ForbiddenError(`only the source department ${ds.departmentCode} issues grants on ${ds.code}`);
  if (!catalog.departments.some((d) => d.code === input.agency)) throw new NotFoundError(`no department has code ${input.agency}`);
  if (input.agency === ds.departmentCode) throw new UserInputError(`${input.agency} is the source department of ${ds.code}: it needs no grant`);
  checkPurpose(input.purposeCode, input.purposeText);
  const fields = checkedFields(ds, input.fields);
  const clearFields = checkedClearFields(ds, fields, input.clearFields ?? []);
  return createGrant(deps, actor, { agency: input.agency, ds, fields, clearFields, input, basis: 'ISSUED' });
}

function checkedClearFields(ds: CatalogDataset, fields: string[], clear: string[]): string[] {
  for (const n of clear) {
    if (!fields.includes(n)) throw new UserInputError(`clearFields: ${n} is not among the granted fields`);
    const f = ds.fields.find((x) => x.name === n)!;
    if (!f.mask) throw new UserInputError(`clearFields: ${n} has no masking rule in the catalog; it is always returned as stored`);
  }
  return ds.fields.filter((f) => clear.includes(f.name)).map((f) => f.name);
}

/** Locks the grant row for a change; only the source department (or the authority, to revoke) may change it. */
async function lockForChange(tx: PrismaNamespace.TransactionClient, id: number): Promise<GrantWithCodes> {
  await tx.$queryRaw`SELECT id FROM access_grant WHERE id = ${id} FOR UPDATE`;
  const g = await tx.grant.findUnique({ where: { id }, include: grantInclude });
  if (!g) throw new NotFoundError(`no grant has id ${id}`);
  if (g.status === 'REVOKED') throw new ConflictError(`grant ${id} was revoked on ${g.revokedAt?.toISOString()}; it cannot change any more`);
  return g;
}

async function sourceDepartmentOf(prisma: Prisma, grantId: number): Promise<{ department: string; datasetCode: string }> {
  const g = await prisma.grant.findUnique({ where: { id: grantId }, select: { dataset: { select: { code: true, department: { select: { code: true } } } } } });
  if (!g) throw new NotFoundError(`no grant has id ${grantId}`);
  return { department: g.dataset.department.code, datasetCode: g.dataset.code };
}

/**
 * The source department narrows a grant: fewer fields or clear fields, an added row
 * restriction, an earlier end. Widening needs a new grant.
 */
export async function narrowGrant(deps: GrantDeps, catalog: Catalog, actor: GrantActor, id: number, change: NarrowGrantInput): Promise<GrantRecord> {
  const owner = await sourceDepartmentOf(deps.prisma, id);
  if (owner.department !== actor.agency) throw new ForbiddenError(`only the source department ${owner.department} changes grants on ${owner.datasetCode}`);
  if (!change.reason?.trim()) throw new UserInputError('reason: say why the grant is narrowed; the grantee is told');
  const ds = datasetOf(catalog, owner.datasetCode);
  if (change.rowFilter) await checkRowFilter(deps.sql, ds, change.rowFilter);
  const by = `${actor.agency}/${actor.subject}`;
  return deps.prisma.$transaction(async (tx) => {
    const g = await lockForChange(tx, id);
    const before = toRecord(g);
    let fields = before.fields;
    if (change.fields) {
      const wanted = checkedFields(ds, change.fields);
      const wider = wanted.filter((n) => !before.fields.includes(n));
      if (wider.length) throw new UserInputError(`fields: ${wider.join(', ')} not in grant ${id}; narrowing cannot add fields (issue a new grant)`);
      fields = wanted;
    }
    let clearFields = before.clearFields.filter((n) => fields.includes(n));
    if (change.clearFields) {
      const wider = change.clearFields.filter((n) => !before.clearFields.includes(n));
      if (wider.length) throw new UserInputError(`clearFields: ${wider.join(', ')} not in clear under grant ${id}; narrowing cannot add clear fields`);
      clearFields = checkedClearFields(ds, fields, change.clearFields);
    }
    const rowFilter = change.rowFilter ? (before.rowFilter ? { and: [before.rowFilter, change.rowFilter] } : change.rowFilter) : before.rowFilter;
    let validUntil = before.validUntil;
    if (change.validUntil) {
      if (before.validUntil && change.validUntil.getTime() > before.validUntil.getTime()) {
        throw new UserInputError(`validUntil: grant ${id} ends ${before.validUntil.toISOString()}; narrowing cannot extend it`);
      }
      checkPeriod(before.validFrom, change.validUntil);
      validUntil = change.validUntil;
    }
    const g2 = await tx.grant.update({
      where: { id },
      data: { fields, clearFields, rowFilter: (rowFilter ?? undefined) as PrismaNamespace.InputJsonValue | undefined, validUntil },
      include: grantInclude,
    });
    const after = toRecord(g2);
    await tx.grantEvent.create({ data: { grantId: id, action: 'NARROWED', actor: by, reason: change.reason.trim(), before: snapshotOf(before) as never, after: snapshotOf(after) as never } });
    await tx.$executeRaw`SELECT pg_notify(${GRANT_CHANNEL}, ${after.agency})`;
    return after;
  });
}

/**
 * The source department renews a grant: a new end of validity, later than the current one (an
 * expired grant may be renewed; a revoked one may not). Nothing else changes.
 */
export async function renewGrant(deps: GrantDeps, actor: GrantActor, id: number, validUntil: Date, reason: string): Promise<GrantRecord> {
  const owner = await sourceDepartmentOf(deps.prisma, id);
  if (owner.department !== actor.agency) throw new ForbiddenError(`only the source department ${owner.department} renews grants on ${owner.datasetCode}`);
  if (!reason?.trim()) throw new UserInputError('reason: say why the grant is renewed');
  if (Number.isNaN(validUntil.getTime()) || validUntil.getTime() <= Date.now()) throw new UserInputError('validUntil: must be in the future');
  return deps.prisma.$transaction(async (tx) => {
    const before = toRecord(await lockForChange(tx, id));
    if (before.validUntil === null) throw new ConflictError(`grant ${id} has no end of validity; there is nothing to renew`);
    if (validUntil.getTime() <= before.validUntil.getTime()) throw new UserInputError(`validUntil: grant ${id} already runs until ${before.validUntil.toISOString()}; a renewal extends it`);
    const g = await tx.grant.update({ where: { id }, data: { validUntil }, include: grantInclude });
    const after = toRecord(g);
    await tx.grantEvent.create({ data: { grantId: id, action: 'RENEWED', actor: `${actor.agency}/${actor.subject}`, reason: reason.trim(), before: snapshotOf(before) as never, after: snapshotOf(after) as never } });
    await tx.$executeRaw`SELECT pg_notify(${GRANT_CHANNEL}, ${after.agency})`;
    return after;
  });
}

/** The source department (or the data authority) revokes a grant with a reason; it stops at once on every gateway. */
export async function revokeGrant(deps: GrantDeps, catalog: Catalog, actor: GrantActor & { roles?: readonly string[] }, id: number, reason: string): Promise<GrantRecord> {
  const owner = await sourceDepartmentOf(deps.prisma, id);
  const asAuthority = actsAsAuthority(catalog, { agency: actor.agency, roles: actor.roles ?? [] });
  if (!asAuthority && (owner.department !== actor.agency || !actor.roles?.includes('source_approver'))) {
    throw new ForbiddenError(`only the source department ${owner.department} (source_approver role) or the data authority (authority role) revokes grants on ${owner.datasetCode}`);
  }
  if (!reason?.trim()) throw new UserInputError('reason: say why the grant is revoked; the grantee is told');
  const by = `${actor.agency}/${actor.subject}`;
  return deps.prisma.$transaction(async (tx) => {
    const before = toRecord(await lockForChange(tx, id));
    const g = await tx.grant.update({
      where: { id },
      data: { status: 'REVOKED', revokedBy: by, revokedAt: new Date(), revokeReason: reason.trim() },
      include: grantInclude,
    });
    const after = toRecord(g);
    await tx.grantEvent.create({ data: { grantId: id, action: 'REVOKED', actor: by, reason: reason.trim(), before: snapshotOf(before) as never, after: snapshotOf(after) as never } });
    await tx.$executeRaw`SELECT pg_notify(${GRANT_CHANNEL}, ${after.agency})`;
    return after;
  });
}

export interface GrantQuery {
  agency?: string | null;
  datasetCode?: string | null;
  purposeCode?: string | null;
  includeRevoked?: boolean;
}

/**
 * Grants visible to the actor: its own (as grantee), those on its datasets (as source
 * department), or all (a person of the data authority with the authority role: a consumer of
 * the authority's own department sees only what any department sees).
 */
export async function listGrants(
  deps: Pick<GrantDeps, 'prisma'>,
  catalog: Catalog,
  actor: GrantActor & { roles: readonly string[] },
  q: GrantQuery,
): Promise<GrantRecord[]> {
  const where: PrismaNamespace.GrantWhereInput = {};
  if (!actsAsAuthority(catalog, actor)) where.OR = [{ agency: { code: actor.agency } }, { dataset: { department: { code: actor.agency } } }];
  if (q.agency) where.agency = { code: q.agency };
  if (q.datasetCode) where.dataset = { code: q.datasetCode };
  if (q.purposeCode) where.purposeCode = q.purposeCode;
  if (!q.includeRevoked) where.status = 'ACTIVE';
  const rows = await deps.prisma.grant.findMany({ where, include: grantInclude, orderBy: { id: 'asc' }, take: 1000 });
  return rows.map(toRecord);
}
