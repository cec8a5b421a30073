/**
 * Push of open data to the provincial platform (R15), run by a durable job (src/jobs):
 *
 * 1. the open catalog as the data authority published it (open_catalog_entry), and the codes no
 *    longer in it (retired), go up first;
 * 2. for each open dataset, the rows changed since the province's last acknowledgement, in
 *    (_updated_at, key) order, only its UNCONDITIONAL open fields, in chunks of
 *    `province.chunkRows`. Each chunk has an idempotency key derived from its position and
 *    content; the cursor moves only when the province acknowledges it. So after a crash or restart
 *    at any point the push resumes at the cursor: a chunk the province already stored comes back
 *    with the same key and is ignored there (no duplicate), and nothing after the cursor was ever
 *    skipped (no gap);
 * 3. a failed chunk is retried with exponential backoff and full jitter; after
 *    `province.maxAttempts` it is dead-lettered, the dataset stops (status FAILED) and the data
 *    authority is alerted; `retryProvinceSync` lets it go on;
 * 4. every run ends with a reconciliation report per dataset: rows sent, acknowledged, the
 *    province's count and ours, and the difference (province_sync_run).
 * One run at a time across all gateway processes (a session advisory lock).
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Catalog, CatalogDataset, CatalogField } from '../catalog/Catalog';
import { keyFields } from '../catalog/Catalog';
import type { Sql } from '../db/createSql';
import { PG_TYPES, quoteIdent, UPDATED_AT_COLUMN } from '../db/rowTables';
import { columnName, ROWS_SCHEMA, tableName } from '../graphql/naming';
import { backoffDelay, ProvinceError, type OpenCatalogEntry, type ProvinceClient } from './provinceClient';

export interface PushOptions {
  chunkRows: number;
  maxAttempts: number;
  backoffMs: number;
  /** Waits between attempts (tests pass a fast one). */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Stops after this many chunks in a run (tests simulate a crash with it). */
  stopAfterChunks?: number;
  /** Only these datasets (the benchmark pushes one). */
  only?: string[];
}

export interface DatasetReport {
  code: string;
  status: 'OK' | 'FAILED' | 'SKIPPED';
  chunksSent: number;
  rowsSent: number;
  rowsAcknowledged: number;
  duplicatesIgnored: number;
  localRows?: number;
  provinceRows?: number;
  differing?: number;
  error?: string;
}

export interface PushReport {
  ran: boolean;
  catalog: { entries: number; retired: string[]; error?: string };
  datasets: DatasetReport[];
}

const LOCK_KEY = 0x70726f76; // 'prov'

/**
 * What is pushed: the open catalog as the data authority published it (open_catalog_entry,
 * R14), each entry's fields narrowed to those still open UNCONDITIONALLY in the resource catalog
 * (the key must be among them). A dataset without a published entry is not pushed.
 */
export function openDatasets(catalog: Catalog, published: ReadonlyMap<string, readonly string[]>): { ds: CatalogDataset; fields: CatalogField[] }[] {
  return catalog.datasets
    .filter((ds) => ds.openType !== 'NOT_OPEN' && published.has(ds.code))
    .map((ds) => ({
      ds,
      fields: ds.fields.filter((f) => published.get(ds.code)!.includes(f.name) && f.openType === 'UNCONDITIONAL' && f.shareClass !== 'NOT_SHARED'),
    }));
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export async function pushOpenData(deps: { sql: Sql; client: ProvinceClient; catalog: Catalog; log: Logger }, opts: PushOptions): Promise<PushReport> {
  const { sql, client, catalog, log } = deps;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = opts.random ?? Math.random;
  const conn = await sql.reserve();
  try {
    const [{ locked }] = await conn<{ locked: boolean }[]>`SELECT pg_try_advisory_lock(${LOCK_KEY}) AS locked`;
    if (!locked) return { ran: false, catalog: { entries: 0, retired: [] }, datasets: [] };
    try {
      const [run] = await sql<{ id: number }[]>`INSERT INTO province_sync_run DEFAULT VALUES RETURNING id`;
      const entries0 = await sql<{ dataset_code: string; fields: string[] }[]>`SELECT dataset_code, fields FROM open_catalog_entry WHERE status = 'PUBLISHED'`;
      const published = new Map(entries0.map((e) => [e.dataset_code, e.fields]));
      const open = openDatasets(catalog, published).filter((o) => !opts.only || opts.only.includes(o.ds.code));
      // 1. The open catalog, and what left it.
      const entries: OpenCatalogEntry[] = open.map(({ ds }) => ({
        code: ds.code,
        name: ds.name,
        openType: ds.openType,
        fields: ds.fields.filter((f) => published.get(ds.code)!.includes(f.name) && f.openType !== 'NOT_OPEN').map((f) => ({ name: f.name, label: f.label, openType: f.openType })),
      }));
      const known = await sql<{ dataset_code: string }[]>`SELECT dataset_code FROM province_sync`;
      const retired = known.map((k) => k.dataset_code).filter((c) => !open.some((o) => o.ds.code === c));
      // The run id is part of the key: a catalog that goes back to an earlier state is still sent.
      const catalogKey = `catalog-${run.id}-${sha256(JSON.stringify({ entries, retired }))}`;
      let catalogError: string | undefined;
      for (let attempt = 1; ; attempt++) {
        try {
          await client.pushCatalog(catalogKey, entries, retired);
          break;
        } catch (err) {
          const e = err instanceof ProvinceError ? err : new ProvinceError((err as Error).message, true);
          if (!e.retryable || attempt >= opts.maxAttempts) {
            catalogError = e.message;
            log.error({ err: e.message, attempts: attempt }, 'open catalog not acknowledged by the province');
            break;
          }
          await sleep(backoffDelay(attempt, opts.backoffMs, random));
        }
      }
      if (retired.length && !catalogError) await sql`DELETE FROM province_sync WHERE dataset_code IN ${sql(retired)}`;

      const reports: DatasetReport[] = [];
      let chunkBudget = opts.stopAfterChunks ?? Infinity;
      for (const { ds, fields } of open) {
        const report = await pushDataset(sql, client, log, ds, fields, opts, sleep, random, () => chunkBudget-- > 0);
        reports.push(report);
        if (chunkBudget < 0) break;
      }
      const report: PushReport = { ran: true, catalog: { entries: entries.length, retired, ...(catalogError ? { error: catalogError } : {}) }, datasets: reports };
      await sql`UPDATE province_sync_run SET finished_at = now(), report = ${sql.json(report as never)} WHERE id = ${run.id}`;
      return report;
    } finally {
      await conn`SELECT pg_advisory_unlock(${LOCK_KEY})`;
    }
  } finally {
    conn.release();
  }
}

async function pushDataset(
  sql: Sql,
  client: ProvinceClient,
  log: Logger,
  ds: CatalogDataset,
  fields: CatalogField[],
  opts: PushOptions,
  sleep: (ms: number) => Promise<void>,
  random: () => number,
  mayContinue: () => boolean,
): Promise<DatasetReport> {
  const report: DatasetReport = { code: ds.code, status: 'OK', chunksSent: 0, rowsSent: 0, rowsAcknowledged: 0, duplicatesIgnored: 0 };
  const keys = keyFields(ds);
  if (!keys.every((k) => fields.includes(k))) {
    return { ...report, status: 'SKIPPED', error: 'a key field is not open: rows cannot be identified at the province' };
  }
  await sql`INSERT INTO province_sync (dataset_code) VALUES (${ds.code}) ON CONFLICT DO NOTHING`;
  const [state] = await sql<{ acked_at: string | null; acked_key: string | null; status: string; pushed_fields: string[] }[]>`
    SELECT acked_at, acked_key, status, pushed_fields FROM province_sync WHERE dataset_code = ${ds.code}`;
  if (state.status === 'FAILED') return { ...report, status: 'FAILED', error: 'a dead-lettered chunk waits for retryProvinceSync' };
  const names = fields.map((f) => f.name);
  if (state.pushed_fields.join(',') !== names.join(',')) {
    // The published entry changed the fields: every row goes again, carrying exactly these.
    await sql`UPDATE province_sync SET acked_at = NULL, acked_key = NULL, pushed_fields = ${names} WHERE dataset_code = ${ds.code}`;
    state.acked_at = null;
    state.acked_key = null;
  }
  const table = `${quoteIdent(ROWS_SCHEMA)}.${quoteIdent(tableName(ds))}`;
  const at = quoteIdent(UPDATED_AT_COLUMN);
  const keyCols = keys.map((k) => quoteIdent(columnName(k.name)));
  // The cursor's order, served by an index (made once per table).
  await sql.unsafe(`CREATE INDEX IF NOT EXISTS ${quoteIdent(`${tableName(ds)}_province_idx`)} ON ${table} (${at}, ${keyCols.join(', ')})`);
  let cursor: { at: string; key: string[] } | null = state.acked_at ? { at: state.acked_at, key: JSON.parse(state.acked_key!) as string[] } : null;
  const dataObj = `json_build_object(${fields.map((f) => `'${f.name}', t.${quoteIdent(columnName(f.name))}${f.type === 'DECIMAL' ? '::text' : ''}`).join(', ')})`;
  for (;;) {
    if (!mayContinue()) return report;
    const params: unknown[] = [];
    let where = '';
    if (cursor) {
      params.push(cursor.at, ...cursor.key);
      where = `WHERE (t.${at}, ${keyCols.map((c) => `t.${c}`).join(', ')}) > ($1::timestamptz, ${keys.map((k, i) => `$${i + 2}::${PG_TYPES[k.type]}`).join(', ')})`;
    }
    params.push(opts.chunkRows);
    const rows = await sql.unsafe<{ at: string; key: string[]; d: Record<string, unknown> }[]>(
      `SELECT t.${at}::text AS at, ARRAY[${keyCols.map((c) => `t.${c}::text`).join(', ')}] AS key, ${dataObj} AS d
         FROM ${table} t ${where} ORDER BY t.${at}, ${keyCols.map((c) => `t.${c}`).join(', ')} LIMIT $${params.length}::int`,
      params as never[],
      { prepare: true },
    );
    if (!rows.length) break;
    const last = rows[rows.length - 1];
    const toCursor = { at: last.at, key: last.key };
    const body = rows.map((r) => ({ key: r.key.join('\u001f'), data: r.d }));
    const idempotencyKey = sha256(JSON.stringify([ds.code, cursor, toCursor, body.length, sha256(JSON.stringify(body))]));
    await sql`INSERT INTO province_chunk (idempotency_key, dataset_code, to_cursor, rows, state)
              VALUES (${idempotencyKey}, ${ds.code}, ${sql.json(toCursor as never)}, ${rows.length}, 'SENDING')
              ON CONFLICT (idempotency_key) DO UPDATE SET state = 'SENDING', attempts = 0`;
    report.chunksSent++;
    report.rowsSent += rows.length;
    let attempt = 0;
    for (;;) {
      attempt++;
      try {
        const r = await client.pushChunk(ds.code, { idempotencyKey, version: toCursor.at, rows: body, deletes: [] });
        if (r.duplicate) report.duplicatesIgnored++;
        await sql.begin(async (tx) => {
          await tx`UPDATE province_chunk SET state = 'ACKED', attempts = ${attempt}, acked_at = now(), last_error = NULL WHERE idempotency_key = ${idempotencyKey}`;
          await tx`UPDATE province_sync SET acked_at = ${toCursor.at}, acked_key = ${JSON.stringify(toCursor.key)}, last_ack_at = now(), last_run_at = now(), last_error = NULL
                   WHERE dataset_code = ${ds.code}`;
        });
        report.rowsAcknowledged += rows.length;
        cursor = toCursor;
        break;
      } catch (err) {
        const e = err instanceof ProvinceError ? err : new ProvinceError((err as Error).message, true);
        await sql`UPDATE province_chunk SET attempts = ${attempt}, last_error = ${e.message} WHERE idempotency_key = ${idempotencyKey}`;
        if (!e.retryable || attempt >= opts.maxAttempts) {
          await sql.begin(async (tx) => {
            await tx`UPDATE province_chunk SET state = 'DEAD' WHERE idempotency_key = ${idempotencyKey}`;
            await tx`UPDATE province_sync SET status = 'FAILED', failures = failures + 1, last_error = ${e.message}, last_run_at = now() WHERE dataset_code = ${ds.code}`;
            await tx`INSERT INTO notification (department, kind, subject_type, subject_id, due_at, message)
                     SELECT code, 'ALERT', 'province_sync', 0, now(),
                            ${`向省平台推送 ${ds.code}（${ds.name}）失败：数据块 ${idempotencyKey.slice(0, 12)} 经 ${attempt} 次尝试仍未确认（${e.message}），已转入死信，请处理后重试（retryProvinceSync）。`}
                       FROM department WHERE is_authority ON CONFLICT DO NOTHING`;
          });
          log.error({ dataset: ds.code, idempotencyKey, attempts: attempt, err: e.message }, 'province chunk dead-lettered');
          return { ...report, status: 'FAILED', error: e.message };
        }
        await sql`UPDATE province_sync SET failures = failures + 1, last_error = ${e.message} WHERE dataset_code = ${ds.code}`;
        await sleep(backoffDelay(attempt, opts.backoffMs, random));
      }
    }
  }
  // Reconciliation: ours against the province's count.
  const [{ n }] = await sql.unsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${table}`);
  report.localRows = n;
  try {
    report.provinceRows = (await client.stats(ds.code)).rows;
    report.differing = n - report.provinceRows;
  } catch (err) {
    report.error = `reconciliation: ${(err as Error).message}`;
  }
  await sql`UPDATE province_sync SET last_run_at = now() WHERE dataset_code = ${ds.code}`;
  return report;
}

/** The authority lets a FAILED push (or backflow source) go on: its dead chunk is sent again by the next run. */
export async function retryProvinceSync(sql: Sql, datasetCode: string): Promise<boolean> {
  const r = await sql`UPDATE province_sync SET status = 'OK', last_error = NULL WHERE dataset_code = ${datasetCode} AND status = 'FAILED' RETURNING 1`;
  // The same call lets a stopped backflow source go on (its code is the province's source name).
  const b = await sql`UPDATE province_backflow SET status = 'OK', last_error = NULL WHERE source = ${datasetCode} AND status = 'FAILED' RETURNING 1`;
  return r.length + b.length > 0;
}
