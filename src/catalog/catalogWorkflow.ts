/**
 * The catalog edited through the API (R1, R4): a source department (数源部门) drafts a
 * version of one of its catalog entries and submits it; the data authority (公共数据主管部门)
 * approves it, which publishes it for the whole city, or rejects it with a reason; the
 * authority may also retire a published entry. Every version is kept: a state change only
 * moves a version's status forward and records who did it and when; content is never
 * overwritten in place.
 *
 *   DRAFT ─submit→ IN_REVIEW ─approve→ PUBLISHED ─(next approval)→ SUPERSEDED
 *                            └reject→  REJECTED  └retire→ RETIRED
 *
 * Publishing and retiring create a CatalogVersion (origin GRAPHQL) and notify every gateway
 * (NOTIFY on CATALOG_CHANNEL, inside the transaction, so it is sent only on commit). Each
 * transition is a conditional update on the expected status, so of two concurrent reviewers
 * exactly one wins and the other gets a ConflictError.
 */
import { isDeepStrictEqual } from 'node:util';
import { GraphQLError, Kind, Source, getLocation, parse, print } from 'graphql';
import type { ASTNode, DocumentNode, ObjectTypeDefinitionNode } from 'graphql';
import type { Prisma } from '../db/createPrisma';
import type { Sql } from '../db/createSql';
import { RowTableChangeError, ensureRowTables } from '../db/rowTables';
import { ConflictError, ForbiddenError, NotFoundError, UserInputError } from '../errors';
import type { DatasetStatus, Prisma as PrismaNamespace } from '../generated/prisma/client';
import { tableName } from '../graphql/naming';
import { formatProblem } from './Catalog';
import type { Catalog, CatalogDataset, CatalogProblem } from './Catalog';
import {
  CATALOG_CHANNEL,
  CATALOG_LOCK_KEY,
  datasetVersionData,
  loadPublishedCatalog,
  normaliseDataset,
} from './catalogStore';
import { parseCatalogSdl } from './parseCatalogSdl';
import type { ParseCatalogSdlOptions } from './parseCatalogSdl';
import { printCatalogSdl } from './printCatalogSdl';

/** What the workflow needs: Prisma for the catalog tables, postgres.js for the row tables. */
export interface CatalogWorkflowDeps {
  prisma: Prisma;
  sql: Sql;
}

/** Who acts: the agency (department code) and the person or system within it. */
export interface CatalogActor {
  agency: string;
  subject: string;
}

export type ReviewDecision = 'APPROVE' | 'REJECT';

export interface CatalogWorkflowOptions extends ParseCatalogSdlOptions {
  /**
   * Throws when a catalog that passed parseCatalogSdl still cannot be served (say, a type
   * name that clashes with the gateway's built-in API). Called on the catalog as it would be
   * published, before anything is stored; the error message becomes a UserInputError.
   */
  assertServable?: (catalog: Catalog) => void;
}

/** One stored version of a catalog entry with its history (who and when at each step). */
export interface DatasetVersionRecord {
  code: string;
  version: number;
  status: DatasetStatus;
  name: string;
  createdBy: string;
  createdAt: Date;
  submittedBy: string | null;
  submittedAt: Date | null;
  reviewedBy: string | null;
  reviewedAt: Date | null;
  reviewComment: string | null;
  publishedAt: Date | null;
  /** The CatalogVersion that published this version. */
  catalogVersionId: number | null;
  /** Set once the version was retired (recorded on the retiring CatalogVersion). */
  retiredBy: string | null;
  retiredAt: Date | null;
  retireReason: string | null;
  definition: CatalogDataset;
}

/** Display name of the SDL a department submits, in problem locations (`draft.graphql:3:5 …`). */
export const DRAFT_FILE = 'draft.graphql';
/** Folder prefix of the published catalog printed for validation, in problem locations. */
export const PUBLISHED_DIR = 'published';

type Tx = PrismaNamespace.TransactionClient;

const TX_OPTIONS = { maxWait: 10_000, timeout: 60_000 } as const;
const OPEN_STATUSES: DatasetStatus[] = ['DRAFT', 'IN_REVIEW'];

/**
 * Drafts a new version of one catalog entry of the actor's department (R1, R4).
 *
 * `sdl` holds exactly one dataset type (`type X @dataset(...) { ... }`) in the catalog
 * directives; it belongs to `actor.agency` (no `extend schema` needed). It is checked in
 * context: `publishedCatalog` is printed (`printCatalogSdl`), the entry with the same resource
 * code is replaced by the draft (or the draft added), and every file is parsed with
 * `parseCatalogSdl`, so references, function items and names are checked against the whole
 * catalog. An existing dataset keeps its type name (it names the row table).
 *
 * Creates the Dataset (when new) and a DatasetVersion with status DRAFT, version = last + 1,
 * its definition and DatasetField rows, created by the actor.
 *
 * @throws UserInputError listing every problem (`file:line:column message`, also in
 *   `extensions.problems`); problems in the draft are located in DRAFT_FILE, problems it
 *   causes elsewhere in `published/<department>.graphql`. Also when the draft equals the
 *   published version, or `options.assertServable` refuses the catalog it would make.
 * @throws ForbiddenError when the actor's agency is not a department of the catalog or the
 *   dataset belongs to another department (only the source department drafts its entries).
 * @throws ConflictError when the dataset already has an open (DRAFT or IN_REVIEW) version.
 */
export async function draftDatasetVersion(
  deps: CatalogWorkflowDeps,
  actor: CatalogActor,
  sdl: string,
  publishedCatalog: Catalog,
  options: CatalogWorkflowOptions = {},
): Promise<DatasetVersionRecord> {
  const { prisma } = deps;
  const typeNode = parseDraftType(sdl);
  if (!publishedCatalog.departments.some((d) => d.code === actor.agency)) {
    throw new ForbiddenError(`agency ${actor.agency} is not a department of the catalog and holds no catalog entries`);
  }
  const code = datasetCodeOf(typeNode);
  const existing = code ? await prisma.dataset.findUnique({ where: { code }, include: { department: true } }) : null;
  const publishedOwner = publishedCatalog.datasets.find((d) => d.code === code)?.departmentCode;
  const owner = existing?.department.code ?? publishedOwner;
  if (owner !== undefined && owner !== actor.agency) {
    throw new ForbiddenError(`dataset ${code} belongs to ${owner}; only its source department drafts its catalog entry`);
  }

  const files = [
    ...printCatalogSdl(
      { ...publishedCatalog, datasets: publishedCatalog.datasets.filter((d) => d.code !== code) },
      // References to the replaced entry name the draft's type, so they are checked against it.
      { dir: PUBLISHED_DIR, externalTypeNames: new Map(code ? [[code, typeNode.name.value]] : []) },
    ),
    // @source goes after the type so the draft's lines and columns are those the department sent.
    { file: DRAFT_FILE, source: `${sdl}\n\nextend schema @source(department: ${print({ kind: Kind.STRING, value: actor.agency })})\n` },
  ];
  const { catalog, problems } = parseCatalogSdl(files, options);
  const ds = catalog.datasets.find((d) => d.loc?.file === DRAFT_FILE);
  if (ds && existing && ds.typeName !== existing.typeName) {
    problems.push({
      message: `Dataset "${ds.code}" keeps its type name "${existing.typeName}" (its rows are in ${existing.tableName}); a new type name is a new dataset with a new resource code.`,
      loc: ds.loc,
    });
  }
  if (ds && !existing) {
    const clash = await prisma.dataset.findFirst({
      where: { OR: [{ typeName: ds.typeName }, { tableName: tableName(ds) }] },
      select: { code: true, typeName: true },
    });
    if (clash) {
      problems.push({
        message: `Type name "${ds.typeName}" (row table ${tableName(ds)}) is already taken by dataset "${clash.code}" (type "${clash.typeName}"), which may be retired or not yet published.`,
        loc: ds.loc,
      });
    }
  }
  if (problems.length > 0) throw problemsError('The draft has problems', problems);
  if (!ds) throw new Error('draft parsed without problems but produced no dataset');
  assertServable(options, catalog, `the draft of ${ds.code}`);

  try {
    return await prisma.$transaction(async (tx) => {
      const dataset =
        existing ??
        (await tx.dataset.create({
          data: { code: ds.code, departmentId: await departmentId(tx, actor.agency), typeName: ds.typeName, tableName: tableName(ds) },
          include: { department: true },
        }));
      // One open version per dataset: the row lock makes a concurrent draft wait, then see ours.
      await tx.$queryRaw`SELECT id FROM dataset WHERE id = ${dataset.id} FOR UPDATE`;
      const open = await tx.datasetVersion.findFirst({ where: { datasetId: dataset.id, status: { in: OPEN_STATUSES } } });
      if (open) {
        throw new ConflictError(
          `dataset ${ds.code} already has version ${open.version} open (${open.status}); it must be reviewed before another version is drafted`,
        );
      }
      const published = await tx.datasetVersion.findFirst({ where: { datasetId: dataset.id, status: 'PUBLISHED' } });
      if (published && isDeepStrictEqual(published.definition, normaliseDataset(ds))) {
        throw new UserInputError(`the draft equals the published version ${published.version} of ${ds.code}; there is nothing to review`);
      }
      const last = await tx.datasetVersion.findFirst({ where: { datasetId: dataset.id }, orderBy: { version: 'desc' } });
      const created = await tx.datasetVersion.create({
        data: {
          datasetId: dataset.id,
          version: (last?.version ?? 0) + 1,
          status: 'DRAFT',
          ...datasetVersionData(ds),
          createdBy: actorName(actor),
        },
        include: { dataset: { select: { code: true } } },
      });
      return toRecord(created);
    }, TX_OPTIONS);
  } catch (err) {
    // A concurrent draft of the same new dataset (or the same type name) won the insert.
    if (isUniqueViolation(err)) {
      throw new ConflictError(`dataset ${ds.code} (type ${ds.typeName}) was drafted concurrently; list its versions and try again`);
    }
    throw err;
  }
}

/**
 * Submits a DRAFT version for review by the data authority: DRAFT → IN_REVIEW, recording
 * submittedBy/submittedAt (R1: entries are reviewed before they are published).
 *
 * @throws NotFoundError for an unknown dataset or version; ForbiddenError unless the actor
 *   is the source department; ConflictError (naming the current status) unless it is a DRAFT.
 */
export async function submitDatasetVersion(
  deps: CatalogWorkflowDeps,
  actor: CatalogActor,
  code: string,
  version: number,
): Promise<DatasetVersionRecord> {
  const { prisma } = deps;
  const row = await findVersion(prisma, code, version);
  if (row.dataset.department.code !== actor.agency) {
    throw new ForbiddenError(`dataset ${code} belongs to ${row.dataset.department.code}; only its source department submits its versions`);
  }
  const { count } = await prisma.datasetVersion.updateMany({
    where: { id: row.id, status: 'DRAFT' },
    data: { status: 'IN_REVIEW', submittedBy: actorName(actor), submittedAt: new Date() },
  });
  if (count === 0) throw await transitionConflict(prisma, row.id, 'submitted', ['DRAFT']);
  return recordOf(prisma, row.id);
}

/**
 * The data authority's decision on a version IN_REVIEW (R1), recording reviewedBy,
 * reviewedAt and the comment.
 *
 * REJECT: IN_REVIEW → REJECTED; the comment (the reason the department is told) is required.
 *
 * APPROVE: IN_REVIEW → PUBLISHED, under the catalog publication lock: the version is checked
 * again against the catalog published now (it may have changed since the draft); the row
 * tables of the merged catalog are created or extended first (ensureRowTables), so a refused
 * change (key or type of an existing column) publishes nothing; the previous PUBLISHED
 * version becomes SUPERSEDED (kept, R4); Dataset.publishedVersion moves; a CatalogVersion
 * (origin GRAPHQL, created by the reviewer) is created and gateways are notified on commit.
 * Callers in a gateway should refresh their catalog runtime afterwards.
 *
 * @throws ForbiddenError unless the actor's department is the data authority.
 * @throws NotFoundError for an unknown dataset or version.
 * @throws UserInputError when rejecting without a comment, when the version no longer fits
 *   the published catalog (every problem listed), `options.assertServable` refuses the
 *   merged catalog, or its row table cannot take it (RowTableChangeError: key or type change).
 * @throws ConflictError (naming the current status) unless the version is IN_REVIEW, also when
 *   another reviewer decided first.
 */
export async function reviewDatasetVersion(
  deps: CatalogWorkflowDeps,
  actor: CatalogActor,
  code: string,
  version: number,
  decision: ReviewDecision,
  comment?: string | null,
  options: CatalogWorkflowOptions = {},
): Promise<DatasetVersionRecord> {
  const { prisma, sql } = deps;
  await assertAuthority(prisma, actor);
  const row = await findVersion(prisma, code, version);
  const reviewComment = comment?.trim() ? comment.trim() : null;

  if (decision === 'REJECT') {
    if (!reviewComment) throw new UserInputError('a rejection needs a comment: the source department must be told why');
    const { count } = await prisma.datasetVersion.updateMany({
      where: { id: row.id, status: 'IN_REVIEW' },
      data: { status: 'REJECTED', reviewedBy: actorName(actor), reviewedAt: new Date(), reviewComment },
    });
    if (count === 0) throw await transitionConflict(prisma, row.id, 'rejected', ['IN_REVIEW']);
    return recordOf(prisma, row.id);
  }
  if (decision !== 'APPROVE') throw new UserInputError(`unknown review decision ${String(decision)}; use APPROVE or REJECT`);
  if (row.status !== 'IN_REVIEW') throw await transitionConflict(prisma, row.id, 'approved', ['IN_REVIEW']);

  await prisma.$transaction(async (tx) => {
    await lockCatalog(tx);
    // Under the lock: a reviewer who waited for a concurrent approval sees its outcome here.
    const current = await tx.datasetVersion.findUniqueOrThrow({ where: { id: row.id } });
    if (current.status !== 'IN_REVIEW') throw conflict(code, version, current.status, 'approved', ['IN_REVIEW']);

    const definition = row.definition as unknown as CatalogDataset;
    const published = (await loadPublishedCatalog(tx as unknown as Prisma)).catalog;
    const merged: Catalog = { ...published, datasets: [...published.datasets.filter((d) => d.code !== code), definition] };
    const { problems } = parseCatalogSdl(printCatalogSdl(merged, { dir: PUBLISHED_DIR }), options);
    if (problems.length > 0) {
      throw problemsError(`version ${version} of ${code} no longer fits the published catalog; draft a new version`, problems);
    }
    assertServable(options, merged, `version ${version} of ${code}`);
    try {
      // Its own transaction: a refused change rolls back every table change, and this one too.
      await sql.begin((rowTx) => ensureRowTables(rowTx as unknown as Sql, merged));
    } catch (err) {
      if (err instanceof RowTableChangeError) throw new UserInputError(`version ${version} of ${code} cannot be published: ${err.message}`);
      throw err;
    }

    const now = new Date();
    const by = actorName(actor);
    const catalogVersion = await tx.catalogVersion.create({
      data: { origin: 'GRAPHQL', createdBy: by, note: `published ${code} v${version}` },
    });
    await tx.datasetVersion.updateMany({ where: { datasetId: row.datasetId, status: 'PUBLISHED' }, data: { status: 'SUPERSEDED' } });
    const { count } = await tx.datasetVersion.updateMany({
      where: { id: row.id, status: 'IN_REVIEW' },
      data: { status: 'PUBLISHED', reviewedBy: by, reviewedAt: now, reviewComment, publishedAt: now, catalogVersionId: catalogVersion.id },
    });
    if (count === 0) throw conflict(code, version, (await tx.datasetVersion.findUniqueOrThrow({ where: { id: row.id } })).status, 'approved', ['IN_REVIEW']);
    await tx.dataset.update({ where: { id: row.datasetId }, data: { publishedVersion: version } });
    await notifyCatalog(tx, catalogVersion.id);
  }, TX_OPTIONS);
  return recordOf(prisma, row.id);
}

/**
 * Retires a published catalog entry (R4): its PUBLISHED version becomes RETIRED, so the
 * dataset leaves the served schema; its rows stay in their table. Creates a CatalogVersion
 * (origin GRAPHQL) that records who retired it, when and why, and notifies gateways on
 * commit. A later draft, once approved, publishes the dataset again.
 *
 * @throws ForbiddenError unless the actor's department is the data authority.
 * @throws UserInputError without a reason, or when published datasets still reference it
 *   (every problem listed).
 * @throws NotFoundError for an unknown dataset; ConflictError when it has no published version.
 */
export async function retireDataset(
  deps: CatalogWorkflowDeps,
  actor: CatalogActor,
  code: string,
  reason: string,
  options: CatalogWorkflowOptions = {},
): Promise<DatasetVersionRecord> {
  const { prisma } = deps;
  await assertAuthority(prisma, actor);
  if (!reason?.trim()) throw new UserInputError('retiring a catalog entry needs a reason');
  const dataset = await prisma.dataset.findUnique({ where: { code } });
  if (!dataset) throw new NotFoundError(`no dataset has resource code ${code}`);

  const id = await prisma.$transaction(async (tx) => {
    await lockCatalog(tx);
    const published = await tx.datasetVersion.findFirst({ where: { datasetId: dataset.id, status: 'PUBLISHED' } });
    if (!published) {
      const latest = await tx.datasetVersion.findFirst({ where: { datasetId: dataset.id }, orderBy: { version: 'desc' } });
      throw new ConflictError(
        `dataset ${code} has no published version to retire${latest ? ` (its latest, version ${latest.version}, is ${latest.status})` : ''}`,
      );
    }
    const catalog = (await loadPublishedCatalog(tx as unknown as Prisma)).catalog;
    const remaining: Catalog = { ...catalog, datasets: catalog.datasets.filter((d) => d.code !== code) };
    const { problems } = parseCatalogSdl(printCatalogSdl(remaining, { dir: PUBLISHED_DIR }), options);
    if (problems.length > 0) throw problemsError(`dataset ${code} is still needed by the published catalog`, problems);

    const by = actorName(actor);
    const catalogVersion = await tx.catalogVersion.create({
      data: { origin: 'GRAPHQL', createdBy: by, note: retireNote(code, published.version, reason.trim()) },
    });
    const { count } = await tx.datasetVersion.updateMany({ where: { id: published.id, status: 'PUBLISHED' }, data: { status: 'RETIRED' } });
    if (count === 0) throw conflict(code, published.version, 'RETIRED', 'retired', ['PUBLISHED']);
    await tx.dataset.update({ where: { id: dataset.id }, data: { publishedVersion: null } });
    await notifyCatalog(tx, catalogVersion.id);
    return published.id;
  }, TX_OPTIONS);
  return recordOf(prisma, id);
}

/**
 * Every stored version of a dataset's catalog entry, oldest first, with its status and who
 * did what when (R4: the catalog keeps its history).
 * @throws NotFoundError for an unknown dataset.
 */
export async function listDatasetVersions(deps: Pick<CatalogWorkflowDeps, 'prisma'>, code: string): Promise<DatasetVersionRecord[]> {
  const { prisma } = deps;
  const dataset = await prisma.dataset.findUnique({
    where: { code },
    include: { versions: { orderBy: { version: 'asc' } } },
  });
  if (!dataset) throw new NotFoundError(`no dataset has resource code ${code}`);
  const retirements = await retirementsOf(prisma, code);
  return dataset.versions.map((v) => toRecord({ ...v, dataset: { code } }, retirements.get(v.version)));
}

// ---------------------------------------------------------------------------------------------

type VersionRow = Awaited<ReturnType<Prisma['datasetVersion']['findUniqueOrThrow']>>;
interface Retirement {
  by: string;
  at: Date;
  reason: string;
}

function actorName(actor: CatalogActor): string {
  return `${actor.agency}/${actor.subject}`;
}

function toRecord(v: VersionRow & { dataset: { code: string } }, retired?: Retirement): DatasetVersionRecord {
  return {
    code: v.dataset.code,
    version: v.version,
    status: v.status,
    name: v.name,
    createdBy: v.createdBy,
    createdAt: v.createdAt,
    submittedBy: v.submittedBy,
    submittedAt: v.submittedAt,
    reviewedBy: v.reviewedBy,
    reviewedAt: v.reviewedAt,
    reviewComment: v.reviewComment,
    publishedAt: v.publishedAt,
    catalogVersionId: v.catalogVersionId,
    retiredBy: retired?.by ?? null,
    retiredAt: retired?.at ?? null,
    retireReason: retired?.reason ?? null,
    definition: v.definition as unknown as CatalogDataset,
  };
}

async function recordOf(prisma: Prisma, id: number): Promise<DatasetVersionRecord> {
  const v = await prisma.datasetVersion.findUniqueOrThrow({ where: { id }, include: { dataset: { select: { code: true } } } });
  const retired = v.status === 'RETIRED' ? (await retirementsOf(prisma, v.dataset.code)).get(v.version) : undefined;
  return toRecord(v, retired);
}

// A retirement is recorded on its CatalogVersion (note `retired <code> v<n>: <reason>`), since
// the version row has no retirement columns and its review record must stay as it was.
function retireNote(code: string, version: number, reason: string): string {
  return `retired ${code} v${version}: ${reason}`;
}

async function retirementsOf(prisma: Prisma, code: string): Promise<Map<number, Retirement>> {
  const prefix = `retired ${code} v`;
  const rows = await prisma.catalogVersion.findMany({
    where: { origin: 'GRAPHQL', note: { startsWith: prefix } },
    orderBy: { id: 'asc' },
  });
  const out = new Map<number, Retirement>();
  for (const r of rows) {
    const m = /^v?(\d+): ([\s\S]*)$/.exec(r.note!.slice(prefix.length));
    if (m) out.set(Number(m[1]), { by: r.createdBy, at: r.createdAt, reason: m[2] });
  }
  return out;
}

async function findVersion(prisma: Prisma, code: string, version: number) {
  const row = await prisma.datasetVersion.findFirst({
    where: { version, dataset: { code } },
    include: { dataset: { include: { department: true } } },
  });
  if (!row) throw new NotFoundError(`dataset ${code} has no version ${version}`);
  return row;
}

async function departmentId(tx: Tx, code: string): Promise<number> {
  const d = await tx.department.findUnique({ where: { code }, select: { id: true } });
  if (!d) throw new ForbiddenError(`agency ${code} is not a registered department`);
  return d.id;
}

/** R1: catalog entries are reviewed and approved by the data authority (政务服务数据管理局). */
async function assertAuthority(prisma: Prisma, actor: CatalogActor): Promise<void> {
  const d = await prisma.department.findUnique({ where: { code: actor.agency }, select: { isAuthority: true } });
  if (!d?.isAuthority) throw new ForbiddenError(`only the data authority reviews, publishes and retires catalog entries; ${actor.agency} is not it`);
}

async function lockCatalog(tx: Tx): Promise<void> {
  // The same lock as publishSdlCatalog: publications (SDL or API) run one at a time.
  await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${CATALOG_LOCK_KEY})`);
}

async function notifyCatalog(tx: Tx, catalogVersionId: number): Promise<void> {
  await tx.$executeRaw`SELECT pg_notify(${CATALOG_CHANNEL}, ${String(catalogVersionId)})`;
}

function conflict(code: string, version: number, status: DatasetStatus, verb: string, from: DatasetStatus[]): ConflictError {
  return new ConflictError(
    `version ${version} of ${code} is ${status}; only a version that is ${from.join(' or ')} can be ${verb}`,
    { extensions: { status } },
  );
}

async function transitionConflict(prisma: Prisma, id: number, verb: string, from: DatasetStatus[]): Promise<ConflictError> {
  const v = await prisma.datasetVersion.findUniqueOrThrow({ where: { id }, include: { dataset: { select: { code: true } } } });
  return conflict(v.dataset.code, v.version, v.status, verb, from);
}

function assertServable(options: CatalogWorkflowOptions, catalog: Catalog, what: string): void {
  if (!options.assertServable) return;
  try {
    options.assertServable(catalog);
  } catch (err) {
    throw new UserInputError(`${what} cannot be served: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function problemsError(intro: string, problems: readonly CatalogProblem[]): UserInputError {
  return new UserInputError(`${intro} (${problems.length}):\n${problems.map(formatProblem).join('\n')}`, {
    extensions: { problems: problems.map((p) => ({ message: p.message, ...(p.loc ?? {}) })) },
  });
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'P2002';
}

/**
 * The one object type of a draft. A syntax error, any other definition, or no type at all is
 * reported as a problem located in DRAFT_FILE.
 * @throws UserInputError
 */
function parseDraftType(sdl: string): ObjectTypeDefinitionNode {
  const source = new Source(sdl, DRAFT_FILE);
  let doc: DocumentNode;
  try {
    doc = parse(source);
  } catch (err) {
    if (!(err instanceof GraphQLError)) throw err;
    const at = err.locations?.[0] ?? { line: 1, column: 1 };
    throw problemsError('The draft has problems', [{ message: err.message, loc: { file: DRAFT_FILE, line: at.line, column: at.column } }]);
  }
  const types = doc.definitions.filter((d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION);
  const problems: CatalogProblem[] = doc.definitions
    .filter((d) => d.kind !== Kind.OBJECT_TYPE_DEFINITION)
    .map((d) => ({
      message: `A draft holds one dataset type only (found ${d.kind}); the department is the caller's and function items are published with the catalog.`,
      loc: locOf(source, d),
    }));
  for (const extra of types.slice(1)) {
    problems.push({ message: `A draft holds one dataset type only; draft "${extra.name.value}" separately.`, loc: locOf(source, extra.name) });
  }
  if (types.length === 0) problems.push({ message: 'The draft holds no dataset type (`type X @dataset(...) { ... }`).', loc: { file: DRAFT_FILE, line: 1, column: 1 } });
  if (problems.length > 0) throw problemsError('The draft has problems', problems);
  return types[0];
}

/** The resource code given in the type's @dataset, when it is a string literal. */
function datasetCodeOf(type: ObjectTypeDefinitionNode): string | undefined {
  const directive = type.directives?.find((d) => d.name.value === 'dataset');
  const value = directive?.arguments?.find((a) => a.name.value === 'code')?.value;
  return value?.kind === Kind.STRING ? value.value : undefined;
}

function locOf(source: Source, node: ASTNode) {
  const { line, column } = getLocation(source, node.loc?.start ?? 0);
  return { file: DRAFT_FILE, line, column };
}
