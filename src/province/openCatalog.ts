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
