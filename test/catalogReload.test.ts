/**
 * Publishing a catalog version changes the served schema of every gateway on the database,
 * without a restart.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eventually } from '../src/__testUtils__/eventually';
import { createTestDatabase, type TestDatabase } from '../src/__testUtils__/testDatabase';
import { asAgency, startTestGateway, type TestGateway } from '../src/__testUtils__/testGateway';
import { loadSdlCatalog } from '../src/server/startGateway';

let db: TestDatabase & { drop(): Promise<void> };
let a: TestGateway;
let b: TestGateway;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  a = await startTestGateway(db.url, { CATALOG_POLL_MS: '60000' });
  b = await startTestGateway(db.url, { CATALOG_LOAD_ON_START: 'false', CATALOG_POLL_MS: '60000' });
  dir = await mkdtemp(path.join(os.tmpdir(), 'hzgw-catalog-'));
  await cp('schema', dir, { recursive: true });
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});


/** The source department of the environment datasets reads them without a grant. */
const OWNER = asAgency('HZ-SSTHJJ');

it('serves a field added by a newly published version on both gateways, and keeps the old version', async () => {
  const query = `{ airQualities(first: 1) { nodes { recordId aqiCategory } } }`;
  for (const g of [a, b]) {
    const before = await g.graphql(query, undefined, OWNER);
    expect(before.body.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  }
  const file = path.join(dir, 'hz-sthjj.graphql');
  const sdl = await readFile(file, 'utf8');
  const changed = sdl.replace(
    /(\n)(  stationCode: String!)/,
    `$1  aqiCategory: String @label(zh: "空气质量类别") @share(class: UNCONDITIONAL) @open(type: UNCONDITIONAL) @grade(level: GENERAL_1)\n$2`,
  );
  expect(changed).not.toBe(sdl);
  await writeFile(file, changed);

  // Published through gateway A's process; B learns of it from the database.
  await loadSdlCatalog({ ...a.services, config: { ...a.services.config, catalog: { ...a.services.config.catalog, dir } } });

  for (const g of [a, b]) {
    await eventually(async () => (await g.graphql(query, undefined, OWNER)).body.errors === undefined);
  }
  const versions = await db.prisma.datasetVersion.findMany({
    where: { dataset: { typeName: 'AirQuality' } },
    orderBy: { version: 'asc' },
    select: { version: true, status: true },
  });
  expect(versions).toEqual([
    { version: 1, status: 'SUPERSEDED' },
    { version: 2, status: 'PUBLISHED' },
  ]);
  const [{ exists }] = await db.sql`SELECT EXISTS (SELECT 1 FROM information_schema.columns
    WHERE table_schema = 'ds' AND table_name = 'air_quality' AND column_name = 'aqi_category') AS exists`;
  expect(exists).toBe(true);
});

it('publishes a dataset drafted, submitted and approved through GraphQL, served by every gateway', async () => {
  const editor = { 'x-dev-agency': 'HZ-SSTHJJ', 'x-dev-roles': 'catalog_editor' };
  const authority = { 'x-dev-agency': 'HZ-ZSJ', 'x-dev-roles': 'authority' };
  const sdl = `
    type NoiseLevel @dataset(code: "3.44.13.006/00000009", name: "噪声监测数据", summary: "功能区噪声自动监测小时数据。",
                             format: DATABASE, updateCycle: DAILY, function: "HZ-SSTHJJ-ZN01") {
      recordId: String! @key @label(zh: "监测记录编号") @share(class: UNCONDITIONAL)
      district: String! @label(zh: "所属区县") @share(class: UNCONDITIONAL) @index
      leq: Float @label(zh: "等效声级(dB)") @share(class: UNCONDITIONAL)
    }`;
  const draft = await a.graphql<{ draftDatasetVersion: { version: number; status: string } }>(
    `mutation($sdl: String!) { draftDatasetVersion(sdl: $sdl) { version status } }`,
    { sdl },
    editor,
  );
  expect(draft.body.errors).toBeUndefined();
  expect(draft.body.data!.draftDatasetVersion).toEqual({ version: 1, status: 'DRAFT' });

  const early = await a.graphql(`mutation { reviewDatasetVersion(code: "3.44.13.006/00000009", version: 1, approve: true) { status } }`, undefined, authority);
  expect(early.body.errors?.[0].extensions?.code).toBe('CONFLICT');

  const notAuthority = await a.graphql(`mutation { reviewDatasetVersion(code: "3.44.13.006/00000009", version: 1, approve: true) { status } }`, undefined, editor);
  expect(notAuthority.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');

  const submitted = await a.graphql<{ submitDatasetVersion: { status: string } }>(
    `mutation { submitDatasetVersion(code: "3.44.13.006/00000009", version: 1) { status } }`, undefined, editor);
  expect(submitted.body.data?.submitDatasetVersion.status).toBe('IN_REVIEW');

  const approved = await a.graphql<{ reviewDatasetVersion: { status: string; reviewedBy: string } }>(
    `mutation { reviewDatasetVersion(code: "3.44.13.006/00000009", version: 1, approve: true, comment: "同意发布") { status reviewedBy } }`,
    undefined,
    authority,
  );
  expect(approved.body.errors).toBeUndefined();
  expect(approved.body.data!.reviewDatasetVersion.status).toBe('PUBLISHED');

  for (const g of [a, b]) {
    await eventually(async () => (await g.graphql(`{ noiseLevels(first: 1) { nodes { recordId leq } } }`, undefined, OWNER)).body.errors === undefined);
  }
});

it('rejects a draft with problems, listing every one', async () => {
  const r = await a.graphql(
    `mutation($sdl: String!) { draftDatasetVersion(sdl: $sdl) { version } }`,
    { sdl: `type Broken @dataset(code: "bad code", name: "坏", summary: "x", format: DATABASE, updateCycle: DAILY) { a: String @label(zh: "甲") @nope }` },
    { 'x-dev-agency': 'HZ-SSTHJJ', 'x-dev-roles': 'catalog_editor' },
  );
  const err = r.body.errors![0];
  expect(err.extensions?.code).toBe('BAD_USER_INPUT');
  const list = err.extensions?.problems as { message: string; file: string; line: number; column: number }[];
  expect(list.length).toBeGreaterThanOrEqual(3);
  expect(list.every((p) => p.file && p.line > 0 && p.column > 0)).toBe(true);
  const problems = list.map((p) => p.message).join('\n');
  expect(problems).toMatch(/Unknown directive "@nope"/);
  expect(problems).toMatch(/without a @key|has no @key|key/i);
  expect(problems).toMatch(/resource code|code/i);
});

it('serves a dataset of more than 100 values per row (statements build rows in chunks) with every value in its place', async () => {
  const editor = { 'x-dev-agency': 'HZ-SSTHJJ', 'x-dev-roles': 'catalog_editor' };
  const authority = { 'x-dev-agency': 'HZ-ZSJ', 'x-dev-roles': 'authority' };
  const code = '3.44.13.006/00000010';
  const names = Array.from({ length: 120 }, (_, i) => `v${String(i + 1).padStart(3, '0')}`);
  const sdl = `
    type WideReading @dataset(code: "${code}", name: "宽表监测数据", summary: "多指标监测数据（测试用）。",
                              format: DATABASE, updateCycle: DAILY, function: "HZ-SSTHJJ-ZN01") {
      recordId: String! @key @label(zh: "监测记录编号") @share(class: UNCONDITIONAL)
${names.map((n, i) => `      ${n}: String @label(zh: "指标${i + 1}") @share(class: UNCONDITIONAL)`).join('\n')}
    }`;
  const draft = await a.graphql(`mutation($sdl: String!) { draftDatasetVersion(sdl: $sdl) { version } }`, { sdl }, editor);
  expect(draft.body.errors).toBeUndefined();
  await a.graphql(`mutation { submitDatasetVersion(code: "${code}", version: 1) { status } }`, undefined, editor);
  const approved = await a.graphql(`mutation { reviewDatasetVersion(code: "${code}", version: 1, approve: true) { status } }`, undefined, authority);
  expect(approved.body.errors).toBeUndefined();
  const rows = ['W-1', 'W-2'].map((recordId) => Object.fromEntries([['recordId', recordId], ...names.map((n) => [n, `${recordId}:${n}`])]));
  await eventually(async () => {
    const r = await a.graphql(`mutation($d: String!, $rows: [JSONObject!]!) { deliverRows(dataset: $d, rows: $rows) { status } }`, { d: code, rows }, OWNER);
    return r.body.errors === undefined;
  });
  const page = await a.graphql<{ wideReadings: { nodes: Record<string, string>[] } }>(
    `{ wideReadings(first: 5) { nodes { recordId ${names.join(' ')} } } }`,
    undefined,
    OWNER,
  );
  expect(page.body.errors).toBeUndefined();
  expect(page.body.data!.wideReadings.nodes).toEqual(rows);
  const one = await a.graphql<{ wideReading: Record<string, string> }>(`{ wideReading(recordId: "W-2") { ${[...names].reverse().join(' ')} recordId } }`, undefined, OWNER);
  expect(one.body.errors).toBeUndefined();
  expect(one.body.data!.wideReading).toEqual(rows[1]);
});
