import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { CatalogSdlFile } from './parseCatalogSdl';

/**
 * Reads every `*.graphql` file directly in `dir`, sorted by name (so `_departments.graphql`
 * comes first). Each file is named by its path relative to `displayRoot` (default: the
 * working directory) with `/` separators, e.g. `schema/hz-gaj.graphql`, for `file:line:column`
 * messages; a file outside `displayRoot` keeps its absolute path.
 * Rejects when the directory cannot be read.
 */
export async function loadCatalogFiles(dir: string, displayRoot: string = process.cwd()): Promise<CatalogSdlFile[]> {
  const absDir = path.resolve(dir);
  const entries = await readdir(absDir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isFile() && e.name.endsWith('.graphql'))
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const abs = path.join(absDir, name);
      return { file: displayPath(abs, displayRoot), source: await readFile(abs, 'utf8') };
    }),
  );
}

function displayPath(abs: string, root: string): string {
  const rel = path.relative(path.resolve(root), abs);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return abs;
  return rel.split(path.sep).join('/');
}
