import path from 'node:path';
import { GatewayError, GatewayErrorCode } from '../../errors';
import { useTestDatabase } from '../../__testUtils__/testDatabase';
import type { Catalog } from '../Catalog';
import { CATALOG_CHANNEL, hashSources, loadPublishedCatalog, publishSdlCatalog } from '../catalogStore';
import {
  draftDatasetVersion,
  listDatasetVersions,
  retireDataset,
  reviewDatasetVersion,
  submitDatasetVersion,
} from '../catalogWorkflow';
import type { CatalogActor } from '../catalogWorkflow';
import { loadCatalogFiles } from '../loadCatalogFiles';
import { parseCatalogSdl } from '../parseCatalogSdl';
import { printCatalogSdl } from '../printCatalogSdl';

const SCHEMA_DIR = path.resolve(__dirname, '../../../schema');
const STHJJ: CatalogActor = { agency: 'HZ-SSTHJJ', subject: 'editor-li' };
const GAJ: CatalogActor = { agency: 'HZ-GAJ', subject: 'editor-wang' };
const ZRZYJ: CatalogActor = { agency: 'HZ-ZRZYJ', subject: 'editor-zhao' };
const AUTHORITY: CatalogActor = { agency: 'HZ-ZSJ', subject: 'reviewer-chen' };
const AUTHORITY_2: CatalogActor = { agency: 'HZ-ZSJ', subject: 'reviewer-huang' };

const db = useTestDatabase();
const deps = () => ({ prisma: db.prisma, sql: db.sql });

beforeAll(async () => {
  const files = await loadCatalogFiles(SCHEMA_DIR);
  const { catalog, problems } = parseCatalogSdl(files);
  expect(problems).toEqual([]);
  await publishSdlCatalog(db.prisma, db.sql, catalog, hashSources(files));
});

async function published(): Promise<Catalog> {
  return (await loadPublishedCatalog(db.prisma)).catalog;
}

/** A new HZ-SSTHJJ dataset `typeName` with resource code 3.44.13.006/<seq>. */
function newDatasetSdl(typeName: string, seq: string, extraFields = ''): string {
  return `type ${typeName}
  @dataset(
    code: "3.44.13.006/${seq}"
    name: "${typeName} 监测数据"
    summary: "测试用的新数据集。"
    format: DATABASE
    updateCycle: DAILY
    open: UNCONDITIONAL
    function: "HZ-SSTHJJ-ZN01"
  ) {
  sectionCode: String! @key @label(zh: "断面编码") @share(class: UNCONDITIONAL) @open(type: UNCONDITIONAL)
  sampledOn: Date! @label(zh: "采样日期") @share(class: UNCONDITIONAL) @index
${extraFields}}
`;
}

/** The SDL of one published type, as printCatalogSdl prints it. */
async function publishedTypeSdl(typeName: string): Promise<string> {
  for (const f of printCatalogSdl(await published())) {
    const start = f.source.indexOf(`type ${typeName}\n`);
    if (start >= 0) return f.source.slice(start, f.source.indexOf('\n}', start) + 3);
  }
  throw new Error(`no published type ${typeName}`);
}

async function expectGatewayError(p: Promise<unknown>, code: GatewayErrorCode): Promise<GatewayError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  expect((err as GatewayError).code).toBe(code);
  return err as GatewayError;
}

async function inReview(actor: CatalogActor, sdl: string) {
  const draft = await draftDatasetVersion(deps(), actor, sdl, await published());
  return submitDatasetVersion(deps(), actor, draft.code, draft.version);
}

async function rowTableExists(table: string): Promise<boolean> {
  const [row] = await db.sql<{ t: string | null }[]>`SELECT to_regclass(${`ds.${table}`})::text AS t`;
  return row.t !== null;
}

describe('catalog review workflow (R1, R4)', () => {
  it('publishes a new dataset drafted by its source department once the data authority approves it', async () => {
    const versionsBefore = await db.prisma.catalogVersion.count();
    const draft = await draftDatasetVersion(deps(), STHJJ, newDatasetSdl('WaterQuality', '00000002'), await published());
    expect(draft).toMatchObject({ code: '3.44.13.006/00000002', version: 1, status: 'DRAFT', createdBy: 'HZ-SSTHJJ/editor-li' });
    expect((await published()).datasets.map((d) => d.code)).not.toContain(draft.code);

    const submitted = await submitDatasetVersion(deps(), STHJJ, draft.code, 1);
    expect(submitted).toMatchObject({ status: 'IN_REVIEW', submittedBy: 'HZ-SSTHJJ/editor-li' });
    expect(submitted.submittedAt).toBeInstanceOf(Date);

    const approved = await reviewDatasetVersion(deps(), AUTHORITY, draft.code, 1, 'APPROVE', '符合目录编制要求');
    expect(approved).toMatchObject({ status: 'PUBLISHED', reviewedBy: 'HZ-ZSJ/reviewer-chen', reviewComment: '符合目录编制要求' });
    expect(approved.publishedAt).toBeInstanceOf(Date);

    const ds = (await published()).datasets.find((d) => d.code === draft.code);
    expect(ds).toMatchObject({ typeName: 'WaterQuality', departmentCode: 'HZ-SSTHJJ', functionCode: 'HZ-SSTHJJ-ZN01' });
    expect(ds!.fields.map((f) => f.name)).toEqual(['sectionCode', 'sampledOn']);
    expect(await rowTableExists('water_quality')).toBe(true);
    expect(await db.prisma.catalogVersion.count()).toBe(versionsBefore + 1);
    const catalogVersion = await db.prisma.catalogVersion.findFirstOrThrow({ orderBy: { id: 'desc' } });
    expect(catalogVersion).toMatchObject({ origin: 'GRAPHQL', createdBy: 'HZ-ZSJ/reviewer-chen', id: approved.catalogVersionId });
    expect((await db.prisma.dataset.findUniqueOrThrow({ where: { code: draft.code } })).publishedVersion).toBe(1);
    expect(await db.prisma.datasetField.count({ where: { datasetVersion: { dataset: { code: draft.code } } } })).toBe(2);
    expect((await listDatasetVersions(deps(), draft.code)).map((v) => [v.version, v.status])).toEqual([[1, 'PUBLISHED']]);
  });

  it('supersedes the previous published version when a change is approved, keeping it stored', async () => {
    const sdl = (await publishedTypeSdl('AirQuality')).replace(
      /\n}\n$/,
      '\n  "微克/立方米。"\n  pm1: Float @label(zh: "PM1浓度") @share(class: UNCONDITIONAL) @open(type: UNCONDITIONAL)\n}\n',
    );
    const submitted = await inReview(STHJJ, sdl);
    expect(submitted.version).toBe(2);
    await reviewDatasetVersion(deps(), AUTHORITY, submitted.code, 2, 'APPROVE');

    const versions = await listDatasetVersions(deps(), submitted.code);
    expect(versions.map((v) => [v.version, v.status])).toEqual([
      [1, 'SUPERSEDED'],
      [2, 'PUBLISHED'],
    ]);
    expect(versions[0].definition.fields.map((f) => f.name)).not.toContain('pm1');
    expect(versions[0].reviewedBy).toBe('catalog-as-code');
    const air = (await published()).datasets.find((d) => d.code === submitted.code)!;
    expect(air.fields.map((f) => f.name)).toContain('pm1');
    const [col] = await db.sql`SELECT 1 FROM information_schema.columns WHERE table_schema = 'ds' AND table_name = 'air_quality' AND column_name = 'pm1'`;
    expect(col).toBeDefined();
  });

  it('notifies every gateway of the new catalog version when a version is published', async () => {
    const payloads: string[] = [];
    const listener = await db.sql.listen(CATALOG_CHANNEL, (payload) => payloads.push(payload));
    try {
      const v = await inReview(STHJJ, newDatasetSdl('Groundwater', '00000007'));
      const approved = await reviewDatasetVersion(deps(), AUTHORITY, v.code, 1, 'APPROVE');
      for (let i = 0; i < 50 && payloads.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(payloads).toEqual([String(approved.catalogVersionId)]);
    } finally {
      await listener.unlisten();
    }
  });

  it('lets only one of two concurrent drafts of the same new dataset through', async () => {
    const sdl = newDatasetSdl('Sediment', '00000008');
    const catalog = await published();
    const results = await Promise.allSettled([
      draftDatasetVersion(deps(), STHJJ, sdl, catalog),
      draftDatasetVersion(deps(), { ...STHJJ, subject: 'editor-sun' }, sdl, catalog),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const reason = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as GatewayError;
    expect(reason.code).toBe(GatewayErrorCode.CONFLICT);
    expect(await listDatasetVersions(deps(), '3.44.13.006/00000008')).toHaveLength(1);
  });

  it('refuses a draft that equals the published version', async () => {
    const err = await expectGatewayError(
      draftDatasetVersion(deps(), STHJJ, await publishedTypeSdl('AirQuality'), await published()),
      GatewayErrorCode.BAD_USER_INPUT,
    );
    expect(err.message).toContain('equals the published version');
  });

  it('refuses a draft with problems, listing every one with its location', async () => {
    const sdl = newDatasetSdl(
      'BadDraft',
      '00000009',
      '  noLabel: String\n  nullableKey: String @key @label(zh: "键")\n  other: Unknown @label(zh: "未知")\n',
    ).replace('HZ-SSTHJJ-ZN01', 'HZ-SSTHJJ-ZN99');
    const err = await expectGatewayError(draftDatasetVersion(deps(), STHJJ, sdl, await published()), GatewayErrorCode.BAD_USER_INPUT);
    const problems = err.extensions.problems as { message: string; file: string; line: number; column: number }[];
    expect(problems.map((p) => `${p.file}:${p.line}`)).toEqual([
      'draft.graphql:9', // function not in the 职能数据清单
      'draft.graphql:13', // no @label
      'draft.graphql:14', // nullable key
      'draft.graphql:15', // unknown type
    ]);
    for (const p of problems) expect(err.message).toContain(`${p.file}:${p.line}:${p.column} ${p.message}`);
    expect(await db.prisma.dataset.findUnique({ where: { code: '3.44.13.006/00000009' } })).toBeNull();
  });

  it('refuses a draft that holds more than one definition', async () => {
    const sdl = `${newDatasetSdl('OneType', '00000010')}\nextend schema @source(department: "HZ-GAJ")\n`;
    const err = await expectGatewayError(draftDatasetVersion(deps(), STHJJ, sdl, await published()), GatewayErrorCode.BAD_USER_INPUT);
    expect(err.extensions.problems).toHaveLength(1);
  });

  it('reports what a change breaks in other departments’ datasets', async () => {
    // Enterprise.uscc is the target of references from EnterpriseLicense and SocialInsurance.
    const sdl = (await publishedTypeSdl('Enterprise')).replace(/\n  uscc: [^\n]*(\n    [^\n]*)*/, '');
    const scjgj: CatalogActor = { agency: 'HZ-SCJGJ', subject: 'editor' };
    const err = await expectGatewayError(draftDatasetVersion(deps(), scjgj, sdl, await published()), GatewayErrorCode.BAD_USER_INPUT);
    const problems = err.extensions.problems as { file: string; message: string }[];
    expect(problems.map((p) => p.file)).toEqual(['draft.graphql', 'draft.graphql', 'published/hz-rsj.graphql', 'published/hz-scjgj.graphql']);
    expect(problems[0].message).toContain('no @key');
    expect(problems[1].message).toContain('from "uscc" is not a field');
    expect(problems[2].message).toContain('"SocialInsurance.employer"');
    expect(problems[3].message).toContain('"EnterpriseLicense.enterprise"');
  });

  it('lets only the source department draft a version of its dataset', async () => {
    const sdl = (await publishedTypeSdl('RealEstateRegistration')).replace('面积(平方米)', '建筑面积(平方米)');
    await expectGatewayError(draftDatasetVersion(deps(), GAJ, sdl, await published()), GatewayErrorCode.FORBIDDEN);
    expect(await db.prisma.datasetVersion.count({ where: { dataset: { code: '3.44.13.005/00000001' } } })).toBe(1);
  });

  it('keeps one open version per dataset', async () => {
    const sdl = newDatasetSdl('NoiseLevel', '00000003');
    await draftDatasetVersion(deps(), STHJJ, sdl, await published());
    const err = await expectGatewayError(
      draftDatasetVersion(deps(), STHJJ, sdl.replace('测试用的新数据集。', '改过的摘要。'), await published()),
      GatewayErrorCode.CONFLICT,
    );
    expect(err.message).toContain('DRAFT');
  });

  it('refuses invalid transitions with a ConflictError naming the current status', async () => {
    const air = '3.44.13.006/00000001';
    const e1 = await expectGatewayError(submitDatasetVersion(deps(), STHJJ, air, 1), GatewayErrorCode.CONFLICT);
    expect(e1.message).toContain('SUPERSEDED');
    const e2 = await expectGatewayError(submitDatasetVersion(deps(), STHJJ, air, 2), GatewayErrorCode.CONFLICT);
    expect(e2.message).toContain('PUBLISHED');

    const noise = '3.44.13.006/00000003'; // drafted above, still DRAFT
    const e3 = await expectGatewayError(reviewDatasetVersion(deps(), AUTHORITY, noise, 1, 'APPROVE'), GatewayErrorCode.CONFLICT);
    expect(e3.message).toContain('DRAFT');
    await submitDatasetVersion(deps(), STHJJ, noise, 1);
    await expectGatewayError(submitDatasetVersion(deps(), STHJJ, noise, 1), GatewayErrorCode.CONFLICT);
    await reviewDatasetVersion(deps(), AUTHORITY, noise, 1, 'APPROVE');
    const e4 = await expectGatewayError(reviewDatasetVersion(deps(), AUTHORITY, noise, 1, 'REJECT', '重复审核'), GatewayErrorCode.CONFLICT);
    expect(e4.message).toContain('PUBLISHED');
    await expectGatewayError(reviewDatasetVersion(deps(), AUTHORITY, noise, 1, 'APPROVE'), GatewayErrorCode.CONFLICT);
    await expectGatewayError(submitDatasetVersion(deps(), STHJJ, noise, 7), GatewayErrorCode.NOT_FOUND);
  });

  it('lets only the data authority review, and only the source department submit', async () => {
    const v = await draftDatasetVersion(deps(), STHJJ, newDatasetSdl('SoilSample', '00000004'), await published());
    await expectGatewayError(submitDatasetVersion(deps(), GAJ, v.code, 1), GatewayErrorCode.FORBIDDEN);
    await submitDatasetVersion(deps(), STHJJ, v.code, 1);
    await expectGatewayError(reviewDatasetVersion(deps(), STHJJ, v.code, 1, 'APPROVE'), GatewayErrorCode.FORBIDDEN);
    expect((await listDatasetVersions(deps(), v.code))[0].status).toBe('IN_REVIEW');
  });

  it('lets exactly one of two concurrent approvals win', async () => {
    const v = await inReview(STHJJ, newDatasetSdl('RadiationDose', '00000005'));
    const versionsBefore = await db.prisma.catalogVersion.count();
    const results = await Promise.allSettled([
      reviewDatasetVersion(deps(), AUTHORITY, v.code, 1, 'APPROVE'),
      reviewDatasetVersion(deps(), AUTHORITY_2, v.code, 1, 'APPROVE'),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0].reason).toBeInstanceOf(GatewayError);
    expect((rejected[0].reason as GatewayError).code).toBe(GatewayErrorCode.CONFLICT);
    expect(await db.prisma.catalogVersion.count()).toBe(versionsBefore + 1);
    expect((await listDatasetVersions(deps(), v.code)).map((x) => x.status)).toEqual(['PUBLISHED']);
  });

  it('requires a comment to reject, and keeps the rejected version', async () => {
    const v = await inReview(STHJJ, newDatasetSdl('WasteWater', '00000006'));
    await expectGatewayError(reviewDatasetVersion(deps(), AUTHORITY, v.code, 1, 'REJECT'), GatewayErrorCode.BAD_USER_INPUT);
    await expectGatewayError(reviewDatasetVersion(deps(), AUTHORITY, v.code, 1, 'REJECT', '  '), GatewayErrorCode.BAD_USER_INPUT);
    const rejected = await reviewDatasetVersion(deps(), AUTHORITY, v.code, 1, 'REJECT', '缺少职能依据说明');
    expect(rejected).toMatchObject({ status: 'REJECTED', reviewedBy: 'HZ-ZSJ/reviewer-chen', reviewComment: '缺少职能依据说明' });
    expect((await published()).datasets.map((d) => d.code)).not.toContain(v.code);

    // The department may draft again; the rejected version stays on record.
    const again = await draftDatasetVersion(deps(), STHJJ, newDatasetSdl('WasteWater', '00000006'), await published());
    expect(again.version).toBe(2);
    expect((await listDatasetVersions(deps(), v.code)).map((x) => x.status)).toEqual(['REJECTED', 'DRAFT']);
  });

  it('publishes nothing when the row table cannot take the change (type of a column)', async () => {
    const sdl = (await publishedTypeSdl('RealEstateRegistration')).replace('area: Float!', 'area: Int!');
    const v = await inReview(ZRZYJ, sdl);
    const versionsBefore = await db.prisma.catalogVersion.count();
    const err = await expectGatewayError(reviewDatasetVersion(deps(), AUTHORITY, v.code, v.version, 'APPROVE'), GatewayErrorCode.BAD_USER_INPUT);
    expect(err.message).toContain('area');
    expect(await db.prisma.catalogVersion.count()).toBe(versionsBefore);
    expect((await listDatasetVersions(deps(), v.code)).map((x) => x.status)).toEqual(['PUBLISHED', 'IN_REVIEW']);
    expect((await published()).datasets.find((d) => d.code === v.code)!.fields.find((f) => f.name === 'area')!.type).toBe('FLOAT');
  });

  it('retires a published dataset: it leaves the published catalog, its rows stay', async () => {
    const code = '3.44.13.003/00000001'; // HouseholdRegistration, referenced by nothing
    await expectGatewayError(retireDataset(deps(), GAJ, code, '职能调整'), GatewayErrorCode.FORBIDDEN);
    await expectGatewayError(retireDataset(deps(), AUTHORITY, code, ' '), GatewayErrorCode.BAD_USER_INPUT);
    const versionsBefore = await db.prisma.catalogVersion.count();

    const retired = await retireDataset(deps(), AUTHORITY, code, '职能调整，数据并入省级系统');
    expect(retired).toMatchObject({ status: 'RETIRED', retiredBy: 'HZ-ZSJ/reviewer-chen', retireReason: '职能调整，数据并入省级系统' });
    expect((await published()).datasets.map((d) => d.code)).not.toContain(code);
    expect(await db.prisma.catalogVersion.count()).toBe(versionsBefore + 1);
    expect(await rowTableExists('household_registration')).toBe(true);
    expect((await db.prisma.dataset.findUniqueOrThrow({ where: { code } })).publishedVersion).toBeNull();
    const e = await expectGatewayError(retireDataset(deps(), AUTHORITY, code, '再次'), GatewayErrorCode.CONFLICT);
    expect(e.message).toContain('RETIRED');
  });

  it('publishes a retired dataset again when a new version of it is approved', async () => {
    const code = '3.44.13.003/00000001'; // retired above
    const [retired] = await listDatasetVersions(deps(), code);
    const sdl = printCatalogSdl({ ...(await published()), datasets: [retired.definition] })
      .find((f) => f.source.includes('type HouseholdRegistration'))!
      .source.replace(/^[\s\S]*?(?=type HouseholdRegistration)/, '')
      .replace('户籍人口登记信息。', '户籍人口登记信息（重新发布）。');
    const v = await inReview(GAJ, sdl);
    await reviewDatasetVersion(deps(), AUTHORITY, code, v.version, 'APPROVE');
    expect((await listDatasetVersions(deps(), code)).map((x) => [x.version, x.status])).toEqual([
      [1, 'RETIRED'],
      [2, 'PUBLISHED'],
    ]);
    expect((await published()).datasets.map((d) => d.code)).toContain(code);
  });

  it('refuses a draft that the gateway could not serve, storing nothing', async () => {
    const assertServable = (c: Catalog) => {
      if (c.datasets.some((d) => d.typeName === 'Query')) throw new Error('type Query clashes with a built-in type');
    };
    const sdl = newDatasetSdl('Query', '00000011');
    const err = await expectGatewayError(
      draftDatasetVersion(deps(), STHJJ, sdl, await published(), { assertServable }),
      GatewayErrorCode.BAD_USER_INPUT,
    );
    expect(err.message).toContain('clashes with a built-in type');
    expect(await db.prisma.dataset.findUnique({ where: { code: '3.44.13.006/00000011' } })).toBeNull();
  });

  it('refuses to retire a dataset that published datasets still reference', async () => {
    const err = await expectGatewayError(retireDataset(deps(), AUTHORITY, '3.44.13.002/00000002', '测试'), GatewayErrorCode.BAD_USER_INPUT);
    expect(err.extensions.problems).toEqual([
      expect.objectContaining({ file: 'published/hz-scjgj.graphql', message: expect.stringContaining('"Enterprise.licenses"') }),
    ]);
    expect((await published()).datasets.map((d) => d.code)).toContain('3.44.13.002/00000002');
  });
});
