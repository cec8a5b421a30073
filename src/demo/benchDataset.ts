/**
 * Streams the benchmark data set (1,000,000 enterprises, ~3,000,000 licences) to CSV files in
 * the shape of the reference benchmark (`bench/seed.sql`): the columns of the demo enterprise and
 * licence datasets, headed by their GraphQL field names, ready for `COPY … FROM … CSV HEADER`.
 *
 * Rows come from the deterministic generators in `syntheticData.ts`. Output follows RFC 4180:
 * CRLF line ends, a field is quoted only when it holds `"`, `,`, CR or LF (quotes doubled); null
 * is an empty unquoted field and the empty string is `""`, as PostgreSQL's CSV COPY reads them.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import {
  BEIJING_DISTRICTS,
  enterpriseLicenses,
  enterprises,
  type EnterpriseLicenseRow,
  type EnterpriseOptions,
  type EnterpriseRow,
} from './syntheticData';
import { USCC_ALPHABET } from '../validation/checksums';

/** The 16 Beijing districts the reference benchmark spreads enterprises over (and Q2 draws from). */
export const BENCH_DISTRICTS: readonly string[] = BEIJING_DISTRICTS.map((d) => d.name);

export const ENTERPRISE_COLUMNS: readonly (keyof EnterpriseRow)[] = [
  'uscc', 'name', 'legalRepresentative', 'legalRepIdNumber', 'registeredCapital',
  'establishedOn', 'district', 'status', 'address', 'phone',
];

export const LICENSE_COLUMNS: readonly (keyof EnterpriseLicenseRow)[] = [
  'licenseNo', 'uscc', 'licenseType', 'issuingAuthority', 'issuedOn', 'validUntil', 'status',
];

/**
 * How enterprise i is keyed:
 * - `GB32100` (default): {@link enterpriseUscc}(i), a valid credit code;
 * - `REFERENCE`: the reference benchmark's key `91110000 + lpad(i, 9) + alphabet[i % 31]`, which
 *   the shared wrk script (`lib/graphql.lua`) and pgbench scripts draw. Its check character is
 *   synthetic, so these keys FAIL the GB 32100 check.
 */
export type BenchKeyScheme = 'GB32100' | 'REFERENCE';

export type BenchCsvOptions = {
  /** District names; pass {@link BENCH_DISTRICTS} for the reference shape. Default: Huizhou's. */
  districts?: readonly string[];
  keys?: BenchKeyScheme;
};

export type CsvWriteResult = { path: string; rows: number; bytes: number; ms: number };

/** The reference benchmark's key of enterprise i (`bench_util.uscc(i)` in `bench/seed.sql`). */
export function referenceUscc(i: number): string {
  return '91110000' + String(i).padStart(9, '0') + USCC_ALPHABET[i % 31];
}

/**
 * Writes enterprises 1..count (seeded) to `path` as CSV. Resolves when the file is flushed and
 * closed; rejects on any write error. Streams with backpressure, so memory stays flat.
 */
export function writeEnterprisesCsv(
  path: string,
  count: number,
  seed: number,
  options: BenchCsvOptions = {},
): Promise<CsvWriteResult> {
  return writeCsv(path, ENTERPRISE_COLUMNS, enterprises(count, seed, generatorOptions(options)));
}

/**
 * Writes the licences of enterprises 1..enterpriseCount (1–5 each, mean 3) to `path` as CSV.
 * Use the same seed and options as for the enterprises so that every `uscc` references one.
 */
export function writeLicensesCsv(
  path: string,
  enterpriseCount: number,
  seed: number,
  options: BenchCsvOptions = {},
): Promise<CsvWriteResult> {
  return writeCsv(path, LICENSE_COLUMNS, enterpriseLicenses(enterpriseCount, seed, generatorOptions(options)));
}

const generatorOptionsCache = new Map<string, EnterpriseOptions>();

/** Same options → same object, so the generators' per-options setup is done once. */
function generatorOptions(options: BenchCsvOptions): EnterpriseOptions {
  const key = `${options.keys ?? 'GB32100'}|${options.districts?.join(',') ?? ''}`;
  let out = generatorOptionsCache.get(key);
  if (!out) {
    out = {
      ...(options.districts ? { districts: [...options.districts] } : {}),
      ...(options.keys === 'REFERENCE' ? { uscc: referenceUscc } : {}),
    };
    generatorOptionsCache.set(key, out);
  }
  return out;
}

/** Bytes per write: large enough to amortise syscalls, small enough to keep memory flat. */
const CHUNK_BYTES = 1 << 20;
const EOL = '\r\n';
const NEEDS_QUOTES = /[",\r\n]/;
const QUOTE_OR_BREAK = /["\r\n]/;

function rawField(v: string | number | null): string {
  return v === null ? '' : typeof v === 'number' ? String(v) : v === '' ? '""' : v;
}

function countCommas(line: string): number {
  let n = 0;
  for (let at = line.indexOf(','); at !== -1; at = line.indexOf(',', at + 1)) n++;
  return n;
}

function csvField(v: string | number | null): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  if (v === '') return '""';
  return NEEDS_QUOTES.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

async function writeCsv<T extends Record<string, string | number | null>>(
  path: string,
  columns: readonly (keyof T & string)[],
  rows: Iterable<T>,
): Promise<CsvWriteResult> {
  const started = performance.now();
  const out: WriteStream = createWriteStream(path);
  let failure: Error | undefined;
  out.on('error', (err) => {
    failure = err;
  });
  // Lines are encoded straight into a fresh 1 MiB buffer (no big intermediate strings to
  // flatten and collect); a full buffer is handed to the stream and never touched again.
  let buf = Buffer.allocUnsafe(CHUNK_BYTES);
  let used = buf.write(columns.join(',') + EOL);
  let count = 0;
  try {
    for (const row of rows) {
      // Fast path: join the raw values and test the line once. It needs no quoting when it has
      // no quote, CR or LF and exactly one comma per separator ('' becomes "" and so takes the
      // slow path).
      let line = rawField(row[columns[0]]);
      for (let c = 1; c < columns.length; c++) line += ',' + rawField(row[columns[c]]);
      if (QUOTE_OR_BREAK.test(line) || countCommas(line) !== columns.length - 1) {
        line = csvField(row[columns[0]]);
        for (let c = 1; c < columns.length; c++) line += ',' + csvField(row[columns[c]]);
      }
      line += EOL;
      count++;
      // A UTF-16 code unit takes at most 3 UTF-8 bytes, so the line surely fits below the limit.
      if (used + line.length * 3 > CHUNK_BYTES) {
        if (failure) throw failure;
        // events.once rejects if the stream emits 'error' while we wait for 'drain'.
        if (used > 0 && !out.write(buf.subarray(0, used))) await once(out, 'drain');
        buf = Buffer.allocUnsafe(CHUNK_BYTES);
        used = 0;
        if (line.length * 3 > CHUNK_BYTES) {
          if (!out.write(line)) await once(out, 'drain'); // a huge row goes out on its own
          continue;
        }
      }
      used += buf.write(line, used);
    }
    if (failure) throw failure;
    out.end(buf.subarray(0, used));
    await finished(out);
  } catch (err) {
    out.destroy();
    throw err;
  }
  return { path, rows: count, bytes: out.bytesWritten, ms: performance.now() - started };
}
