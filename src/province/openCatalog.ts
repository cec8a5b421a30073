/**
 * The open catalog (开放目录, R14): an agency proposes to open one of its own datasets — only
 * fields whose open attribute allows it — and the data authority reviews the proposal. Every
 * version is kept (a published one supersedes the previous). Data an agency obtained through
 * sharing is another department's: it can never appear in that agency's open catalog.
 */
import type { Catalog } from '../catalog/Catalog';
import type { Prisma } from '../db/createPrisma';
import { ConflictError, ForbiddenError, NotFoundError, UserInputError } from '../errors';

interface Actor {
  agency: string;
  subject: string;
}

export async function proposeOpenCatalogEntry(prisma: Prisma, catalog: Catalog, actor: Actor, datasetCode: string, fields: string[]) {
  const ds = catalog.datasets.find((d) => d.code === datasetCode);
  if (!ds) throw new NotFoundError(`no published dataset has resource code ${datasetCode}`);
  if (ds.departmentCode !== actor.agency) {
    throw new ForbiddenError(
      `${ds.code} (${ds.name}) belongs to ${ds.departmentCode}: data ${actor.agency} obtained through sharing can never be in its open catalog (R14); only the source department opens it`,
    );
  }
  if (ds.openType === 'NOT_OPEN') throw new UserInputError(`${ds.code} is NOT_OPEN in the resource catalog: change its open attribute through the catalog review first`);
  if (!fields.length) throw new UserInputError('fields: name the fields to open');
  const bad = fields.filter((n) => {
    const f = ds.fields.find((x) => x.name === n);
    return !f || f.openType === 'NOT_OPEN' || f.shareClass === 'NOT_SHARED';
  });
  if (bad.length) throw new UserInputError(`fields: ${bad.join(', ')} cannot be opened (unknown, NOT_OPEN or NOT_SHARED in the resource catalog)`);
  const last = await prisma.openCatalogEntry.findFirst({ where: { datasetCode }, orderBy: { version: 'desc' } });
  if (last?.status === 'IN_REVIEW') throw new ConflictError(`version ${last.version} of ${datasetCode} is still in review`);
  return prisma.openCatalogEntry.create({
    data: { agency: actor.agency, datasetCode, version: (last?.version ?? 0) + 1, fields: ds.fields.filter((f) => fields.includes(f.name)).map((f) => f.name), status: 'IN_REVIEW', proposedBy: `${actor.agency}/${actor.subject}` },
  });
}

export async function reviewOpenCatalogEntry(prisma: Prisma, actor: Actor, id: number, approve: boolean, comment?: string | null) {
  if (!approve && !comment?.trim()) throw new UserInputError('comment: say why the entry is rejected; the agency is told');
  return prisma.$transaction(async (tx) => {
    const e = await tx.openCatalogEntry.findUnique({ where: { id } });
    if (!e) throw new NotFoundError(`no open catalog entry has id ${id}`);
    const { count } = await tx.openCatalogEntry.updateMany({
      where: { id, status: 'IN_REVIEW' },
      data: { status: approve ? 'PUBLISHED' : 'REJECTED', reviewedBy: `${actor.agency}/${actor.subject}`, reviewedAt: new Date(), comment: comment?.trim() || null },
    });
    if (!count) throw new ConflictError(`open catalog entry ${id} is ${e.status}, not IN_REVIEW`);
    if (approve) await tx.openCatalogEntry.updateMany({ where: { datasetCode: e.datasetCode, status: 'PUBLISHED', id: { not: id } }, data: { status: 'SUPERSEDED' } });
    return tx.openCatalogEntry.findUniqueOrThrow({ where: { id } });
  });
}

export interface PlanItem {
  datasetCode?: string | null;
  title: string;
  plannedDate?: string | null;
}

/** R13: an agency drafts (or redrafts) its plan for a year; a filed or published plan no longer changes. */
export async function draftOpenPlan(prisma: Prisma, catalog: Catalog, actor: Actor, year: number, items: PlanItem[]) {
  if (!Number.isInteger(year) || year < 2000 || year > 2100) throw new UserInputError('year: a year from 2000 to 2100');
  if (!Array.isArray(items) || !items.length) throw new UserInputError('items: at least one planned opening');
  items.forEach((it, i) => {
    if (!it?.title?.trim()) throw new UserInputError(`items[${i}].title: what is to be opened`);
    if (it.datasetCode) {
      const ds = catalog.datasets.find((d) => d.code === it.datasetCode);
      if (!ds) throw new UserInputError(`items[${i}].datasetCode: ${it.datasetCode} is not a published dataset`);
      if (ds.departmentCode !== actor.agency) throw new ForbiddenError(`items[${i}].datasetCode: ${ds.code} belongs to ${ds.departmentCode}; a plan opens the agency's own data only (R14)`);
    }
    if (it.plannedDate && !/^\d{4}-\d{2}-\d{2}$/.test(it.plannedDate)) throw new UserInputError(`items[${i}].plannedDate: YYYY-MM-DD`);
  });
  const clean = items.map((it) => ({ datasetCode: it.datasetCode ?? null, title: it.title.trim(), plannedDate: it.plannedDate ?? null }));
  const existing = await prisma.openPlan.findUnique({ where: { agency_year: { agency: actor.agency, year } } });
  if (existing && existing.status !== 'DRAFT') throw new ConflictError(`the ${year} plan of ${actor.agency} is ${existing.status}; it no longer changes`);
  return prisma.openPlan.upsert({
    where: { agency_year: { agency: actor.agency, year } },
    create: { agency: actor.agency, year, items: clean, status: 'DRAFT', draftedBy: `${actor.agency}/${actor.subject}` },
    update: { items: clean, draftedBy: `${actor.agency}/${actor.subject}`, updatedAt: new Date() },
  });
}

/** R13: the agency files its draft with the data authority. */
export async function fileOpenPlan(prisma: Prisma, actor: Actor, year: number) {
  const { count } = await prisma.openPlan.updateMany({ where: { agency: actor.agency, year, status: 'DRAFT' }, data: { status: 'FILED', filedAt: new Date() } });
  if (!count) throw new ConflictError(`${actor.agency} has no draft plan for ${year} to file`);
  return prisma.openPlan.findUniqueOrThrow({ where: { agency_year: { agency: actor.agency, year } } });
}

/**
 * R13: the data authority publishes the filed plans of a year and forwards them upward (when a
 * provincial platform is configured; `forwardedAt` says when it acknowledged).
 */
export async function publishOpenPlans(prisma: Prisma, year: number, forward?: (plans: unknown[]) => Promise<void>) {
  await prisma.openPlan.updateMany({ where: { year, status: 'FILED' }, data: { status: 'PUBLISHED', publishedAt: new Date() } });
  const plans = await prisma.openPlan.findMany({ where: { year, status: 'PUBLISHED' }, orderBy: { agency: 'asc' } });
  if (!plans.length) throw new UserInputError(`no filed plan for ${year} to publish`);
  if (forward) {
    await forward(plans.map((p) => ({ agency: p.agency, year: p.year, items: p.items })));
    await prisma.openPlan.updateMany({ where: { year, status: 'PUBLISHED' }, data: { forwardedAt: new Date() } });
  }
  return prisma.openPlan.findMany({ where: { year, status: 'PUBLISHED' }, orderBy: { agency: 'asc' } });
}

/** The published plans of a year as CSV (one line per planned item). */
export function plansCsv(plans: { agency: string; year: number; items: unknown }[]): string {
  const cell = (v: unknown) => {
    const t = v === null || v === undefined ? '' : String(v);
    return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
  };
  const lines = ['agency,year,datasetCode,title,plannedDate'];
  for (const p of plans) for (const it of p.items as PlanItem[]) lines.push([p.agency, p.year, it.datasetCode, it.title, it.plannedDate].map(cell).join(','));
  return lines.join('\n') + '\n';
}
