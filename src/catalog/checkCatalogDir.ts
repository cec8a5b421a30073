import { formatProblem } from './Catalog';
import type { Catalog } from './Catalog';
import { loadCatalogFiles } from './loadCatalogFiles';
import { parseCatalogSdl } from './parseCatalogSdl';
import type { CatalogSdlFile, ParseCatalogSdlOptions } from './parseCatalogSdl';

export interface CatalogCheckResult {
  /** 0: valid; 1: problems found; 2: the directory could not be read. */
  exitCode: number;
  /** Text to print: the summary line on success (stdout), else one `file:line:column message` per line (stderr). */
  output: string;
}

/**
 * `npm run catalog:check [dir]`: loads and checks the catalog SDL in `dir`, reporting every
 * problem at once (STYLE.md 2.1: fail early with *every* problem). No process exit and no
 * printing here, so tests call it directly; `src/cli/catalogCheck.ts` is the thin wrapper.
 */
export async function runCatalogCheck(dir: string, options: ParseCatalogSdlOptions = {}): Promise<CatalogCheckResult> {
  let files: CatalogSdlFile[];
  try {
    files = await loadCatalogFiles(dir);
  } catch (err) {
    return { exitCode: 2, output: `${dir}: cannot read the catalog directory (${(err as Error).message})` };
  }
  if (files.length === 0) {
    return { exitCode: 1, output: `${dir}: no *.graphql catalog files found` };
  }
  const { catalog, problems } = parseCatalogSdl(files, options);
  if (problems.length > 0) {
    const lines = problems.map(formatProblem);
    lines.push(`${dir}: ${problems.length} catalog problem${problems.length === 1 ? '' : 's'}`);
    return { exitCode: 1, output: lines.join('\n') };
  }
  return { exitCode: 0, output: `${dir}: ${summarize(catalog)}` };
}

function summarize(catalog: Catalog): string {
  const fields = catalog.datasets.reduce((n, ds) => n + ds.fields.length, 0);
  const references = catalog.datasets.reduce((n, ds) => n + ds.references.length, 0);
  return `catalog OK: ${catalog.departments.length} departments, ${catalog.datasets.length} datasets, ${fields} fields, ${references} references`;
}
