import path from 'node:path';
import { formatProblem } from '../Catalog';
import type { Catalog, CatalogDataset } from '../Catalog';
import { normaliseDataset } from '../catalogStore';
import { loadCatalogFiles } from '../loadCatalogFiles';
import { parseCatalogSdl } from '../parseCatalogSdl';
import { printCatalogSdl } from '../printCatalogSdl';

const ROOT = path.resolve(__dirname, '../../..');
const SCHEMA_DIR = path.join(ROOT, 'schema');
const KITCHEN_SINK_DIR = path.join(ROOT, 'src/__testUtils__/fixtures/catalog/kitchen-sink');

/** The catalog without source locations (what the round trip must keep). */
function withoutLoc(catalog: Catalog): Catalog {
  return JSON.parse(JSON.stringify(catalog, (k, v) => (k === 'loc' ? undefined : v)));
}

async function parseDir(dir: string): Promise<Catalog> {
  const { catalog, problems } = parseCatalogSdl(await loadCatalogFiles(dir, dir));
  expect(problems.map(formatProblem)).toEqual([]);
  return catalog;
}

function roundTrip(catalog: Catalog): Catalog {
  const { catalog: back, problems } = parseCatalogSdl(printCatalogSdl(catalog));
  expect(problems.map(formatProblem)).toEqual([]);
  return back;
}

describe('printCatalogSdl', () => {
  it.each([
    ['the shipped schema/ catalog', SCHEMA_DIR],
    ['the kitchen-sink fixture', KITCHEN_SINK_DIR],
  ])('prints %s so that parsing it gives the same catalog', async (_name, dir) => {
    const catalog = await parseDir(dir);
    expect(withoutLoc(roundTrip(catalog))).toEqual(withoutLoc(catalog));
  });

  it('lays the files out like schema/: the registry, then one file per source department', async () => {
    const catalog = await parseDir(SCHEMA_DIR);
    const names = printCatalogSdl(catalog, { dir: 'schema' }).map((f) => f.file);
    expect(names[0]).toBe('schema/_departments.graphql');
    // One file per source department, named after its code (schema/ spells one file differently).
    const sources = (await loadCatalogFiles(SCHEMA_DIR, ROOT)).filter((f) => f.source.includes('@source('));
    expect(names).toHaveLength(sources.length + 1);
    expect(names).toContain('schema/hz-scjgj.graphql');
    expect(names).toContain('schema/hz-ssthjj.graphql');
  });

  it('prints a department that only has function items as a file with @source and @function', () => {
    const catalog: Catalog = {
      departments: [{ code: 'X-1', name: '甲', uscc: '11441300MB2C09018E', level: 'CITY', isAuthority: false }],
      functionItems: [{ code: 'X-ZN01', departmentCode: 'X-1', name: '职能' }],
      datasets: [],
    };
    const files = printCatalogSdl(catalog);
    expect(files.map((f) => f.file)).toEqual(['_departments.graphql', 'x-1.graphql']);
    expect(files[1].source).toContain('@source(department: "X-1")');
    expect(withoutLoc(roundTrip(catalog))).toEqual(catalog);
  });

  it('keeps descriptions with quotes, backslashes and line breaks exactly', async () => {
    const catalog = await parseDir(KITCHEN_SINK_DIR);
    const descriptions = ['说明 "引号" 与 \\ 反斜杠', '第一行\n  缩进的第二行\n', '\n前后空行\n\n', '  leading spaces', 'tab\there """ triple'];
    const person = catalog.datasets[0];
    const edited: CatalogDataset = {
      ...person,
      summary: '摘要 "带引号"\n换行',
      shareCondition: 'C:\\path',
      fields: person.fields.map((f, i) => (i < descriptions.length ? { ...f, description: descriptions[i] } : f)),
    };
    const changed: Catalog = { ...catalog, datasets: [edited, ...catalog.datasets.slice(1)] };
    const back = roundTrip(changed);
    expect(back.datasets.map(normaliseDataset)).toEqual(changed.datasets.map(normaliseDataset));
  });

  it('keeps the dataset order of a catalog whose lists agree on the department order', async () => {
    const catalog = await parseDir(SCHEMA_DIR);
    expect(roundTrip(catalog).datasets.map((d) => d.code)).toEqual(catalog.datasets.map((d) => d.code));
    expect(roundTrip(catalog).functionItems.map((f) => f.code)).toEqual(catalog.functionItems.map((f) => f.code));
  });
});
