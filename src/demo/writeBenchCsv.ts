/**
 * CLI: writes the benchmark CSV files.
 *
 *   tsx src/demo/writeBenchCsv.ts <outDir> [enterpriseCount] [--seed=N] [--districts=beijing|huizhou]
 *                                 [--keys=gb32100|reference]
 *
 * Writes `<outDir>/enterprises.csv` and `<outDir>/enterprise_licenses.csv` (1,000,000 enterprises
 * and ~3,000,000 licences by default) and prints rows, size and time per file. Districts default
 * to the reference benchmark's 16 Beijing districts; `--keys=reference` keys enterprises like
 * `bench/seed.sql` so the shared wrk script's `{{uscc}}` hits (those keys fail GB 32100).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DISTRICTS, writeEnterprisesCsv, writeLicensesCsv, type BenchCsvOptions, type CsvWriteResult } from './benchDataset';
import { DEMO_SEED } from './syntheticData';

const USAGE =
  'usage: tsx src/demo/writeBenchCsv.ts <outDir> [enterpriseCount] [--seed=N] [--districts=beijing|huizhou] [--keys=gb32100|reference]';

type CliArgs = { outDir: string; count: number; seed: number; options: BenchCsvOptions };

function parseArgs(argv: readonly string[]): CliArgs {
  const positional: string[] = [];
  let seed = DEMO_SEED;
  const options: BenchCsvOptions = { districts: BENCH_DISTRICTS };
  for (const arg of argv) {
    const m = /^(--[a-z]+)=(.*)$/.exec(arg);
    const [flag, value] = m ? [m[1], m[2]] : ['', arg];
    if (flag === '' && !arg.startsWith('--')) positional.push(value);
    else if (flag === '--seed' && /^\d+$/.test(value)) seed = Number(value);
    else if (flag === '--districts' && (value === 'beijing' || value === 'huizhou'))
      options.districts = value === 'beijing' ? BENCH_DISTRICTS : undefined;
    else if (flag === '--keys' && (value === 'gb32100' || value === 'reference'))
      options.keys = value === 'reference' ? 'REFERENCE' : 'GB32100';
    else throw new Error(`bad argument ${arg}\n${USAGE}`);
  }
  if (positional.length < 1 || positional.length > 2) throw new Error(USAGE);
  const count = positional[1] === undefined ? 1_000_000 : Number(positional[1]);
  if (!Number.isInteger(count) || count < 1 || count > 99_999_999) throw new Error(`enterpriseCount must be 1..99999999\n${USAGE}`);
  return { outDir: positional[0], count, seed, options };
}

function describe(r: CsvWriteResult): string {
  const s = r.ms / 1000;
  return `${r.path}: ${r.rows.toLocaleString('en')} rows, ${(r.bytes / 1e6).toFixed(1)} MB in ${s.toFixed(2)} s (${Math.round(r.rows / s).toLocaleString('en')} rows/s)`;
}

async function main(): Promise<void> {
  const { outDir, count, seed, options } = parseArgs(process.argv.slice(2));
  mkdirSync(outDir, { recursive: true });
  console.log(describe(await writeEnterprisesCsv(join(outDir, 'enterprises.csv'), count, seed, options)));
  console.log(describe(await writeLicensesCsv(join(outDir, 'enterprise_licenses.csv'), count, seed, options)));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
