/**
 * Batch verification (R10): `POST /datasets/{code}/verifications` with a CSV whose header names the
 * key field(s) and the claimed fields; the answer is a CSV with one line per input row:
 * `row,record,<claimed field>…` where record is FOUND / NOT_FOUND and each claim MATCH / NO_MATCH
 * (or `error` with the reason of a row that could not be checked, e.g. the enumeration limit).
 * Never a value. Each row goes through verifyRecord (grants, limits, attempts); the whole batch is
 * one operation in the access record, written before the answer leaves.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { keyFields } from '../catalog/Catalog';
import { GatewayError, NotFoundError, UserInputError } from '../errors';
import type { RequestContext } from '../server/RequestContext';
import { verifyRecord } from './verification';

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export async function verifyBatch(ctx: RequestContext, datasetCode: string, body: string): Promise<string> {
  const catalog = ctx.services.catalog.current()!.catalog;
  const ds = catalog.datasets.find((d) => d.code === datasetCode);
  if (!ds) throw new NotFoundError(`no published dataset has resource code ${datasetCode}`);
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(body, { columns: true, skip_empty_lines: true, bom: true, trim: false }) as Record<string, string>[];
  } catch (err) {
    throw new UserInputError(`the CSV cannot be read: ${(err as Error).message}`);
  }
  const max = ctx.services.config.limits.verifyBatchRows;
  if (rows.length === 0) throw new UserInputError('the CSV has no rows: a header (key and claimed fields) and one line per record');
  if (rows.length > max) throw new UserInputError(`a batch verification holds at most ${max} rows (limits.verifyBatchRows)`);
  const keys = keyFields(ds).map((f) => f.name);
  const header = Object.keys(rows[0]);
  const missing = keys.filter((k) => !header.includes(k));
  if (missing.length) throw new UserInputError(`the CSV header must name the key field(s) ${keys.join(', ')}; missing ${missing.join(', ')}`);
  const claimed = header.filter((h) => !keys.includes(h));
  if (!claimed.length) throw new UserInputError('the CSV header names no claimed field besides the key');
  const out = [['row', 'record', ...claimed, 'error'].map(csvCell).join(',')];
  for (const [i, r] of rows.entries()) {
    const key = Object.fromEntries(keys.map((k) => [k, r[k]]));
    const claims = Object.fromEntries(claimed.map((c) => [c, r[c] === '' ? null : r[c]]));
    try {
      const v = await verifyRecord(ctx, ds.code, key, claims);
      out.push([String(i + 1), v.found ? 'FOUND' : 'NOT_FOUND', ...claimed.map((c) => v.results.find((x) => x.field === c)?.result ?? ''), ''].map(csvCell).join(','));
    } catch (err) {
      // A grant that does not cover the claims refuses the whole batch; other problems are the row's.
      if (err instanceof GatewayError && (err.code === 'FORBIDDEN' || err.code === 'UNAUTHENTICATED')) throw err;
      if (!(err instanceof GatewayError)) throw err;
      out.push([String(i + 1), '', ...claimed.map(() => ''), `${err.code}: ${err.message}`].map(csvCell).join(','));
    }
  }
  return out.join('\n') + '\n';
}
