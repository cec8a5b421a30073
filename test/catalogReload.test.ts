/**
 * Publishing a catalog version changes the served schema of every gateway on the database,
 * without a restart.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../src/__testUtils__/testDatabase';
import { startTestGateway, type TestGateway } from '../src/__testUtils__/testGateway';
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

async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met in time');
}

it('serves a field added by a newly published version on both gateways, and keeps the old version', async () => {
  const query = `{ airQualities(first: 1) { nodes { recordId aqiCategory } } }`;
  for (const g of [a, b]) {
    const before = await g.graphql(query);
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
    await eventually(async () => (await g.graphql(query)).body.errors === undefined);
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
