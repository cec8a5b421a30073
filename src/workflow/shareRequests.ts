/**
 * Share requests (共享申请, R8, R9) with statutory working-day deadlines (惠州细则):
 *
 *   requestShare ─ UNCONDITIONAL fields only ─→ GRANTED (grant usable at once, R8)
 *                └ any CONDITIONAL field ─────→ PENDING (answer due: 2 working days)
 *   PENDING ─approve→ FULFILLED  when the dataset already has rows in the platform: the grant is
 *                                usable at once (sharing through the platform needs no transfer)
 *           ─approve→ APPROVED   when it has none yet: sharing due within 3 working days; the
 *                                grant is created when the source department marks it fulfilled
 *           ─refuse→  REFUSED    citing a law, regulation or rule (R9); the requester sees it
 *   PENDING | APPROVED ─withdraw→ WITHDRAWN (by the requester)
 *   APPROVED ─fulfil→ FULFILLED
 *
 * The approval may narrow fields, rows or period. Every state change is one conditional update
 * on the expected status (so of two concurrent deciders exactly one wins; the other gets
 * CONFLICT) plus a ShareRequestEvent with who, when and why, in one transaction. NOT_SHARED
 * fields are refused at once (verification only, R10). Deadlines are the end of the Nth working
 * day after the event, Asia/Shanghai (src/calendar); a deadline resting on a year whose schedule
 * is not loaded is marked provisional.
 */
import { actsAsAuthority, type Catalog } from '../catalog/Catalog';
import { WorkingDayCalendar, addWorkingDays } from '../calendar/workingDays';
import { ConflictError, ForbiddenError, NotFoundError, UserInputError } from '../errors';
import type { Prisma as PrismaNamespace, ShareRequestStatus } from '../generated/prisma/client';
import type { FilterInput } from '../graphql/compileQuery';
import {
  checkedFields,
  checkGrantInput,
  checkPurpose,
  datasetId,
  datasetOf,
  departmentId,
  insertGrant,
  type GrantActor,
  type GrantDeps,
  type GrantInput,
} from '../access/grantService';

/** Working days the source department has to answer a CONDITIONAL request (惠州细则). */
export const ANSWER_WORKING_DAYS = 2;
/** Working days to complete the sharing after approval (惠州细则). */
export const FULFIL_WORKING_DAYS = 3;

export interface ShareRequestInput extends GrantInput {
  /** READ (default): share the fields; VERIFY: only verify claimed values against them (R10). */
  kind?: 'READ' | 'VERIFY' | null;
  /** 使用场景 */
  scenario: string;
  legalBasis: string;
}

export interface ApprovalChange {
  fields?: string[] | null;
  rowFilter?: FilterInput | null;
  validUntil?: Date | null;
  comment?: string | null;
}

export interface ShareRequestRecord {
  id: number;
  agency: string;
  datasetCode: string;
  kind: 'READ' | 'VERIFY';
  fields: string[];
  purposeCode: string;
  purposeText: string;
  scenario: string;
  legalBasis: string;
  rowFilter: FilterInput | null;
  validFrom: Date | null;
  validUntil: Date | null;
  status: ShareRequestStatus;
  requestedBy: string;
  requestedAt: Date;
  answerDueAt: Date | null;
  fulfilDueAt: Date | null;
  dueProvisional: boolean;
  decidedBy: string | null;
  decidedAt: Date | null;
  refusalBasis: string | null;
  refusalReason: string | null;
  grantId: number | null;
  events: { action: string; fromStatus: string | null; toStatus: string; actor: string; reason: string | null; at: Date }[];
}

export interface WorkflowDeps extends GrantDeps {
  calendar: WorkingDayCalendar;
  /** Clock (tests). */
  now?: () => Date;
}

const include = {
  agency: { select: { code: true } },
  dataset: { select: { code: true, lastDeliveredAt: true, department: { select: { code: true } } } },
  events: { orderBy: { id: 'asc' } },
} as const;
type Row = PrismaNamespace.ShareRequestGetPayload<{ include: typeof include }>;

function toRecord(r: Row): ShareRequestRecord {
  return {
    id: r.id,
    agency: r.agency.code,
    datasetCode: r.dataset.code,
    kind: r.kind,
    fields: r.fields,
    purposeCode: r.purposeCode,
    purposeText: r.purposeText,
    scenario: r.scenario,
    legalBasis: r.legalBasis,
    rowFilter: (r.rowFilter as FilterInput | null) ?? null,
    validFrom: r.validFrom,
    validUntil: r.validUntil,
    status: r.status,
    requestedBy: r.requestedBy,
    requestedAt: r.requestedAt,
    answerDueAt: r.answerDueAt,
    fulfilDueAt: r.fulfilDueAt,
    dueProvisional: r.dueProvisional,
    decidedBy: r.decidedBy,
    decidedAt: r.decidedAt,
    refusalBasis: r.refusalBasis,
    refusalReason: r.refusalReason,
    grantId: r.grantId,
    events: r.events.map((e) => ({ action: e.action, fromStatus: e.fromStatus, toStatus: e.toStatus, actor: e.actor, reason: e.reason, at: e.at })),
  };
}

const by = (a: GrantActor) => `${a.agency}/${a.subject}`;

/**
 * An agency applies (R8, R9). UNCONDITIONAL fields only → granted at once; otherwise pending at
 * the source department with its answer due in 2 working days.
 * @throws ForbiddenError for NOT_SHARED fields (verification only) or the agency's own dataset.
 */
export async function requestShare(deps: WorkflowDeps, catalog: Catalog, actor: GrantActor, input: ShareRequestInput): Promise<ShareRequestRecord> {
  const ds = datasetOf(catalog, input.datasetCode);
  if (ds.departmentCode === actor.agency) throw new UserInputError(`${ds.code} is your own department's dataset: you read it without a request`);
  checkPurpose(input.purposeCode, input.purposeText);
  if (!input.scenario?.trim()) throw new UserInputError('scenario: describe the usage scenario (使用场景)');
  if (!input.legalBasis?.trim()) throw new UserInputError('legalBasis: cite the legal basis of the duty the data serves (PIPL art. 34)');
  const kind = input.kind ?? 'READ';
  if (kind !== 'READ' && kind !== 'VERIFY') throw new UserInputError('kind: READ (share the fields) or VERIFY (verify claimed values only)');
  const fields = checkedFields(ds, input.fields, kind);
  await checkGrantInput(deps, ds, input);
  const unconditional = ds.fields.filter((f) => fields.includes(f.name)).every((f) => f.shareClass === 'UNCONDITIONAL');
  const now = deps.now?.() ?? new Date();
  const [agencyId, dsId] = await Promise.all([departmentId(deps.prisma, actor.agency), datasetId(deps.prisma, ds.code)]);
  const due = unconditional ? null : addWorkingDays(now, ANSWER_WORKING_DAYS, deps.calendar);
  const id = await deps.prisma.$transaction(async (tx) => {
    const r = await tx.shareRequest.create({
      data: {
        agencyId,
        datasetId: dsId,
        kind,
        fields,
        purposeCode: input.purposeCode,
        purposeText: input.purposeText.trim(),
        scenario: input.scenario.trim(),
        legalBasis: input.legalBasis.trim(),
        rowFilter: (input.rowFilter ?? undefined) as PrismaNamespace.InputJsonValue | undefined,
        validFrom: input.validFrom ?? null,
        validUntil: input.validUntil ?? null,
        status: unconditional ? 'GRANTED' : 'PENDING',
        requestedBy: by(actor),
        requestedAt: now,
        answerDueAt: due?.due ?? null,
        dueProvisional: due?.provisional ?? false,
      },
    });
    await tx.shareRequestEvent.create({ data: { shareRequestId: r.id, action: 'REQUESTED', toStatus: 'PENDING', actor: by(actor), at: now } });
    if (unconditional) {
      const g = await insertGrant(tx, { agencyId, datasetId: dsId }, by(actor), { agency: actor.agency, ds, fields, clearFields: [], input, basis: 'UNCONDITIONAL', kind }, 'GRANTED_ON_APPLICATION');
      await tx.shareRequest.update({ where: { id: r.id }, data: { grantId: g.id, decidedAt: now, decidedBy: 'platform (R8: unconditional)' } });
      await tx.shareRequestEvent.create({
        data: { shareRequestId: r.id, action: 'GRANTED', fromStatus: 'PENDING', toStatus: 'GRANTED', actor: 'platform', reason: 'UNCONDITIONAL fields are granted on application (R8)', at: now },
      });
    }
    return r.id;
  });
  return get(deps, id);
}

async function get(deps: Pick<GrantDeps, 'prisma'>, id: number): Promise<ShareRequestRecord> {
  const r = await deps.prisma.shareRequest.findUnique({ where: { id }, include });
  if (!r) throw new NotFoundError(`no share request has id ${id}`);
  return toRecord(r);
}

/**
 * Moves a request from one of `from` to `to` if it is still there (one conditional UPDATE: of two
 * concurrent callers exactly one wins), and records the event; all in the caller's transaction.
 * @throws ConflictError naming the request's actual status.
 */
async function transition(
  tx: PrismaNamespace.TransactionClient,
  id: number,
  from: ShareRequestStatus[],
  to: ShareRequestStatus,
  data: PrismaNamespace.ShareRequestUpdateManyMutationInput,
  event: { action: string; actor: string; reason?: string | null; at: Date },
): Promise<void> {
  const { count } = await tx.shareRequest.updateMany({ where: { id, status: { in: from } }, data: { ...data, status: to } });
  if (count === 0) {
    const now = await tx.shareRequest.findUnique({ where: { id }, select: { status: true } });
    if (!now) throw new NotFoundError(`no share request has id ${id}`);
    throw new ConflictError(`share request ${id} is ${now.status}; ${event.action.toLowerCase()} needs it ${from.join(' or ')}`);
  }
  await tx.shareRequestEvent.create({
    data: { shareRequestId: id, action: event.action, fromStatus: from.length === 1 ? from[0] : null, toStatus: to, actor: event.actor, reason: event.reason ?? null, at: event.at },
  });
}

async function forSourceDepartment(deps: WorkflowDeps, actor: GrantActor, id: number): Promise<Row> {
  const r = await deps.prisma.shareRequest.findUnique({ where: { id }, include });
  if (!r) throw new NotFoundError(`no share request has id ${id}`);
  if (r.dataset.department.code !== actor.agency) throw new ForbiddenError(`only the source department ${r.dataset.department.code} decides on requests for ${r.dataset.code}`);
  return r;
}

/**
 * The source department approves, possibly narrowing fields, rows or period. With rows already
 * in the platform the grant is usable at once (FULFILLED); otherwise the request is APPROVED and
 * the sharing is due within 3 working days.
 */
export async function approveShareRequest(deps: WorkflowDeps, catalog: Catalog, actor: GrantActor, id: number, change: ApprovalChange = {}): Promise<ShareRequestRecord> {
  const r = await forSourceDepartment(deps, actor, id);
  const ds = datasetOf(catalog, r.dataset.code);
  let fields = r.fields;
  if (change.fields) {
    const narrowed = checkedFields(ds, change.fields, r.kind);
    const wider = narrowed.filter((n) => !r.fields.includes(n));
    if (wider.length) throw new UserInputError(`fields: ${wider.join(', ')} were not requested; an approval can only narrow`);
    fields = narrowed;
  }
  const rowFilter = change.rowFilter ? (r.rowFilter ? { and: [r.rowFilter as FilterInput, change.rowFilter] } : change.rowFilter) : ((r.rowFilter as FilterInput | null) ?? null);
  let validUntil = r.validUntil;
  if (change.validUntil) {
    if (r.validUntil && change.validUntil > r.validUntil) throw new UserInputError('validUntil: an approval can only shorten the requested period');
    validUntil = change.validUntil;
  }
  const input: GrantInput = {
    datasetCode: ds.code,
    fields,
    purposeCode: r.purposeCode,
    purposeText: r.purposeText,
    legalBasis: r.legalBasis,
    rowFilter,
    validFrom: r.validFrom,
    validUntil,
  };
  await checkGrantInput(deps, ds, input);
  const now = deps.now?.() ?? new Date();
  const inPlatform = r.dataset.lastDeliveredAt !== null;
  const fulfilDue = inPlatform ? null : addWorkingDays(now, FULFIL_WORKING_DAYS, deps.calendar);
  await deps.prisma.$transaction(async (tx) => {
    const decided = { decidedBy: by(actor), decidedAt: now, fields, rowFilter: (rowFilter ?? undefined) as PrismaNamespace.InputJsonValue | undefined, validUntil };
    if (inPlatform) {
      await transition(tx, id, ['PENDING'], 'FULFILLED', decided, { action: 'APPROVED', actor: by(actor), reason: change.comment, at: now });
      const g = await insertGrant(tx, { agencyId: r.agencyId, datasetId: r.datasetId }, by(actor), { agency: r.agency.code, ds, fields, clearFields: [], input, basis: 'ISSUED', kind: r.kind }, 'ISSUED_ON_REQUEST');
      await tx.shareRequest.update({ where: { id }, data: { grantId: g.id } });
    } else {
      await transition(tx, id, ['PENDING'], 'APPROVED', { ...decided, fulfilDueAt: fulfilDue!.due, dueProvisional: r.dueProvisional || fulfilDue!.provisional }, {
        action: 'APPROVED',
        actor: by(actor),
        reason: change.comment,
        at: now,
      });
    }
  });
  return get(deps, id);
}

/** The source department marks an APPROVED request's sharing completed: the grant becomes usable. */
export async function fulfilShareRequest(deps: WorkflowDeps, catalog: Catalog, actor: GrantActor, id: number): Promise<ShareRequestRecord> {
  const r = await forSourceDepartment(deps, actor, id);
  const ds = datasetOf(catalog, r.dataset.code);
  const now = deps.now?.() ?? new Date();
  await deps.prisma.$transaction(async (tx) => {
    await transition(tx, id, ['APPROVED'], 'FULFILLED', {}, { action: 'FULFILLED', actor: by(actor), at: now });
    const input: GrantInput = {
      datasetCode: ds.code,
      fields: r.fields,
      purposeCode: r.purposeCode,
      purposeText: r.purposeText,
      legalBasis: r.legalBasis,
      rowFilter: (r.rowFilter as FilterInput | null) ?? null,
      validFrom: r.validFrom,
      validUntil: r.validUntil,
    };
    const g = await insertGrant(tx, { agencyId: r.agencyId, datasetId: r.datasetId }, by(actor), { agency: r.agency.code, ds, fields: r.fields, clearFields: [], input, basis: 'ISSUED', kind: r.kind }, 'ISSUED_ON_REQUEST');
    await tx.shareRequest.update({ where: { id }, data: { grantId: g.id } });
  });
  return get(deps, id);
}

/** The source department refuses, citing a law, regulation or rule (R9); the requester sees both. */
export async function refuseShareRequest(deps: WorkflowDeps, actor: GrantActor, id: number, basis: string, reason: string): Promise<ShareRequestRecord> {
  if (!basis?.trim()) throw new UserInputError('basis: a refusal must cite the law, regulation or rule it rests on (R9)');
  if (!reason?.trim()) throw new UserInputError('reason: explain the refusal to the requesting agency');
  await forSourceDepartment(deps, actor, id);
  const now = deps.now?.() ?? new Date();
  await deps.prisma.$transaction((tx) =>
    transition(tx, id, ['PENDING'], 'REFUSED', { decidedBy: by(actor), decidedAt: now, refusalBasis: basis.trim(), refusalReason: reason.trim() }, {
      action: 'REFUSED',
      actor: by(actor),
      reason: `${basis.trim()}: ${reason.trim()}`,
      at: now,
    }),
  );
  return get(deps, id);
}

/** The requesting agency withdraws a request not yet fulfilled. */
export async function withdrawShareRequest(deps: WorkflowDeps, actor: GrantActor, id: number, reason?: string | null): Promise<ShareRequestRecord> {
  const r = await deps.prisma.shareRequest.findUnique({ where: { id }, include: { agency: { select: { code: true } } } });
  if (!r) throw new NotFoundError(`no share request has id ${id}`);
  if (r.agency.code !== actor.agency) throw new ForbiddenError(`only the requesting agency ${r.agency.code} withdraws request ${id}`);
  const now = deps.now?.() ?? new Date();
  await deps.prisma.$transaction((tx) => transition(tx, id, ['PENDING', 'APPROVED'], 'WITHDRAWN', {}, { action: 'WITHDRAWN', actor: by(actor), reason, at: now }));
  return get(deps, id);
}

/** Requests the actor made, and requests for its datasets (the data authority: all). */
export async function listShareRequests(
  deps: Pick<GrantDeps, 'prisma'>,
  catalog: Catalog,
  actor: GrantActor & { roles: readonly string[] },
  q: { status?: ShareRequestStatus | null; datasetCode?: string | null },
): Promise<ShareRequestRecord[]> {
  const where: PrismaNamespace.ShareRequestWhereInput = {};
  if (!actsAsAuthority(catalog, actor)) where.OR = [{ agency: { code: actor.agency } }, { dataset: { department: { code: actor.agency } } }];
  if (q.status) where.status = q.status;
  if (q.datasetCode) where.dataset = { code: q.datasetCode };
  const rows = await deps.prisma.shareRequest.findMany({ where, include, orderBy: { id: 'asc' }, take: 1000 });
  return rows.map(toRecord);
}
