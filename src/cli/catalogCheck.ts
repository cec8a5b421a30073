/**
 * `npm run catalog:check [dir]` (default: $CATALOG_DIR if set and non-empty, else `schema`). Prints the summary
 * and exits 0, or prints every problem as `file:line:column message` to stderr and exits non-zero.
 */
import { runCatalogCheck } from '../catalog/checkCatalogDir';

async function main(): Promise<void> {
  const dir = process.argv[2] || process.env.CATALOG_DIR || 'schema';
  const { exitCode, output } = await runCatalogCheck(dir);
  (exitCode === 0 ? process.stdout : process.stderr).write(`${output}\n`);
  process.exitCode = exitCode;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 2;
});
