/**
 * The catalog in PostgreSQL (Prisma): departments, functional data list, and every version
 * of every dataset's entry. Published versions are never changed in place: a new version is
 * added and the previous one marked SUPERSEDED. Each publish creates a CatalogVersion row
 * and notifies every gateway on the database (LISTEN/NOTIFY on CATALOG_CHANNEL).
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Catalog, CatalogDataset, CatalogDepartment } from './Catalog';
import type { Prisma } from '../db/createPrisma';
import type { Sql } from '../db/createSql';
import { ensureRowTables } from '../db/rowTables';
import { tableName } from '../graphql/naming';

export const CATALOG_CHANNEL = 'hz_catalog_published';

/** Transaction-level advisory lock held by every catalog publication (publishSdlCatalog's literal), so publications run one at a time. */
export const CATALOG_LOCK_KEY = 7204519312;

export interface PublishedCatalog {
  catalog: Catalog;
  /** Id of the newest CatalogVersion (0 when none): gateways compare it to reload. */
  version: number;
}

export function hashSources(files: { file: string; source: string }[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => a.file.localeCompare(b.file))) h.update(f.file).update('\0').update(f.source).update('\0');
  return h.digest('hex');
}

/** Catalog entries without source locations, for storage and comparison. */
export function normaliseDataset(ds: CatalogDataset): CatalogDataset {
  return JSON.parse(JSON.stringify(ds, (k, v) => (k === 'loc' ? undefined : v)));
}

/**
 * The DatasetVersion columns and DatasetField rows (信息项) that describe a catalog entry,
 * shared by SDL publishing and the GraphQL review workflow (R1, R4) so both store a version
 * the same way. `definition` is the normalised entry from which the version is rebuilt.
 */
export function datasetVersionData(ds: CatalogDataset) {
  return {
    name: ds.name,
    summary: ds.summary,
    functionCode: ds.functionCode ?? null,
    format: ds.format,
    updateCycle: ds.updateCycle,
    shareMode: ds.shareMode,
    openType: ds.openType,
    shareCondition: ds.shareCondition ?? null,
    definition: normaliseDataset(ds) as object,
    fields: {
      create: ds.fields.map((f, position) => ({
        position,
        name: f.name,
        label: f.label,
        dataType: f.type,
        required: f.required,
        isKey: f.isKey,
        shareClass: f.shareClass,
        openType: f.openType,
        grade: f.grade,
        personal: f.personal,
        maskRule: f.mask ?? null,
        valueCheck: f.check ?? null,
        indexed: f.indexed,
        subjectId: f.subjectId,
        description: f.description ?? null,
      })),
    },
  };
}

/** Newest CatalogVersion id, cheap enough to poll. */
export async function currentCatalogVersion(sql: Sql): Promise<number> {
  const [row] = await sql<{ v: number | null }[]>`SELECT max(id) AS v FROM catalog_version`;
  return row.v ?? 0;
}

/** Reads the published catalog: departments, function items and each dataset's published version. */
export async function loadPublishedCatalog(prisma: Prisma): Promise<PublishedCatalog> {
  const [departments, functionItems, versions, latest] = await Promise.all([
    prisma.department.findMany({ orderBy: { code: 'asc' } }),
    prisma.functionItem.findMany({ include: { department: true }, orderBy: [{ departmentId: 'asc' }, { code: 'asc' }] }),
    prisma.datasetVersion.findMany({ where: { status: 'PUBLISHED' }, include: { dataset: true }, orderBy: { dataset: { code: 'asc' } } }),
    prisma.catalogVersion.findFirst({ orderBy: { id: 'desc' }, select: { id: true } }),
  ]);
  return {
    version: latest?.id ?? 0,
    catalog: {
      departments: departments.map((d) => ({
        code: d.code,
        name: d.name,
        uscc: d.uscc,
        level: d.level,
        district: d.district ?? undefined,
        isAuthority: d.isAuthority,
      })),
      functionItems: functionItems.map((f) => ({
        code: f.code,
        departmentCode: f.department.code,
        name: f.name,
        legalBasis: f.legalBasis ?? undefined,
      })),
      datasets: versions.map((v) => v.definition as unknown as CatalogDataset),
    },
  };
}

async function upsertDepartments(tx: Omit<Prisma, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>, catalog: Catalog): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (const d of catalog.departments as CatalogDepartment[]) {
    const data = { name: d.name, uscc: d.uscc, level: d.level, district: d.district ?? null, isAuthority: d.isAuthority };
    const row = await tx.department.upsert({ where: { code: d.code }, create: { code: d.code, ...data }, update: data });
    ids.set(d.code, row.id);
  }
  for (const f of catalog.functionItems) {
    const departmentId = ids.get(f.departmentCode);
    if (departmentId === undefined) continue;
    await tx.functionItem.upsert({
      where: { departmentId_code: { departmentId, code: f.code } },
      create: { departmentId, code: f.code, name: f.name, legalBasis: f.legalBasis ?? null },
      update: { name: f.name, legalBasis: f.legalBasis ?? null },
    });
  }
  return ids;
}

export interface SdlPublishResult {
  changed: boolean;
  catalogVersion: number;
  publishedDatasets: string[];
}

/**
 * Catalog as code: publishes the SDL catalog as a new catalog version when its files changed
 * since the last SDL load. Only datasets whose entry differs get a new version. Datasets that
 * exist only in the database (edited through GraphQL) are left as they are.
 * Row tables are created or extended first, so a refused change (key or type) publishes nothing.
 */
export async function publishSdlCatalog(
  prisma: Prisma,
  sql: Sql,
  catalog: Catalog,
  sourceHash: string,
  by = 'catalog-as-code',
): Promise<SdlPublishResult> {
  const last = await prisma.catalogVersion.findFirst({ where: { origin: 'SDL' }, orderBy: { id: 'desc' } });
  if (last?.sourceHash === sourceHash) {
    return { changed: false, catalogVersion: (await currentCatalogVersion(sql)), publishedDatasets: [] };
  }
  // Row tables for the union of what is published and what comes in (references may cross).
  const published = await loadPublishedCatalog(prisma);
  const merged: Catalog = {
    ...catalog,
    datasets: [...published.catalog.datasets.filter((d) => !catalog.datasets.some((n) => n.code === d.code)), ...catalog.datasets],
  };
  await sql.begin((tx) => ensureRowTables(tx as unknown as Sql, merged));

  return prisma.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(7204519312)`;
      const deptIds = await upsertDepartments(tx, catalog);
      const version = await tx.catalogVersion.create({
        data: { origin: 'SDL', sourceHash, createdBy: by, note: `${catalog.datasets.length} datasets from schema/` },
      });
      const publishedDatasets: string[] = [];
      for (const ds of catalog.datasets) {
        const definition = normaliseDataset(ds);
        const existing = await tx.dataset.findUnique({ where: { code: ds.code } });
        const current = existing
          ? await tx.datasetVersion.findFirst({ where: { datasetId: existing.id, status: 'PUBLISHED' } })
          : null;
        // jsonb reorders keys: compare structurally.
        if (current && isDeepStrictEqual(current.definition, definition)) continue;
        const dataset =
          existing ??
          (await tx.dataset.create({
            data: { code: ds.code, departmentId: deptIds.get(ds.departmentCode)!, typeName: ds.typeName, tableName: tableName(ds) },
          }));
        const lastVersion = await tx.datasetVersion.findFirst({ where: { datasetId: dataset.id }, orderBy: { version: 'desc' } });
        const next = (lastVersion?.version ?? 0) + 1;
        if (current) await tx.datasetVersion.update({ where: { id: current.id }, data: { status: 'SUPERSEDED' } });
        const now = new Date();
        await tx.datasetVersion.create({
          data: {
            datasetId: dataset.id,
            version: next,
            status: 'PUBLISHED',
            ...datasetVersionData(ds),
            catalogVersionId: version.id,
            createdBy: by,
            submittedBy: by,
            submittedAt: now,
            reviewedBy: by,
            reviewedAt: now,
            reviewComment: 'catalog as code: reviewed in the repository',
            publishedAt: now,
          },
        });
        await tx.dataset.update({ where: { id: dataset.id }, data: { publishedVersion: next } });
        publishedDatasets.push(ds.code);
      }
      await tx.$executeRaw`SELECT pg_notify(${CATALOG_CHANNEL}, ${String(version.id)})`;
      return { changed: true, catalogVersion: version.id, publishedDatasets };
    },
    { timeout: 60_000 },
  );
}
