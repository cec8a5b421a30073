/**
 * Backflow (回流, R6): rows of a provincial vertical system are pulled page by page into a city
 * dataset, through the same all-or-nothing delivery path as a department's own deliveries (every
 * page is validated and recorded as a delivery with channel BACKFLOW; rows are upserted by key),
 * so they are queryable under the catalog's sharing rules like any other rows.
 *
 * Resume and idempotency: the page cursor is stored only after its page was accepted. A crash
 * between the two re-pulls that page on the next run, and the upsert by key makes that harmless
 * (no duplicate); nothing after the stored cursor was skipped (no gap). On the last page the
 * platform gives no next cursor (assumption A7): the cursor of that last page is kept, so the
 * next run re-reads it and continues with whatever was appended since.
 * A page that fails is retried with backoff; a rejected page (invalid rows) or exhausted retries
 * stop the source (FAILED) and alert the data authority.
 */
import type { Logger } from 'pino';
import type { DataPads } from '../audit/auditKeys';
import type { Catalog } from '../catalog/Catalog';
import type { Sql } from '../db/createSql';
import { deliverRecords } from '../delivery/deliverRows';
import { backoffDelay, ProvinceError, type ProvinceClient } from './provinceClient';

export interface BackflowMapping {
  /** Vertical-system source name at the province. */
  source: string;
  /** Resource code of the city dataset it flows into. */
  dataset: string;
}

export interface BackflowReport {
  source: string;
  dataset: string;
  status: 'OK' | 'FAILED';
  pages: number;
  rows: number;
  error?: string;
}

/** Parses `province.backflow`: `source=datasetCode[,source=datasetCode…]`. */
export function parseBackflowMappings(text: string): BackflowMapping[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((pair) => {
      const i = pair.indexOf('=');
      if (i < 1) throw new Error(`province.backflow: "${pair}" is not source=datasetCode`);
      return { source: pair.slice(0, i).trim(), dataset: pair.slice(i + 1).trim() };
    });
}

export async function pullBackflow(
  deps: { sql: Sql; client: ProvinceClient; catalog: Catalog; log: Logger },
  mappings: BackflowMapping[],
  opts: {
    pageRows: number;
    maxAttempts: number;
    backoffMs: number;
    maxReportedProblems: number;
    /** See DeliveryOptions.rowAudit. */
    rowAudit?: DataPads | null;
    sleep?: (ms: number) => Promise<void>;
    random?: () => number;
  },
): Promise<BackflowReport[]> {
  const { sql, client, catalog, log } = deps;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = opts.random ?? Math.random;
  const reports: BackflowReport[] = [];
  for (const m of mappings) {
    const report: BackflowReport = { source: m.source, dataset: m.dataset, status: 'OK', pages: 0, rows: 0 };
    reports.push(report);
    const ds = catalog.datasets.find((d) => d.code === m.dataset);
    const [meta] = ds ? await sql<{ id: number; department_id: number }[]>`SELECT id, department_id FROM dataset WHERE code = ${m.dataset}` : [];
    if (!ds || !meta) {
      report.status = 'FAILED';
      report.error = `no published dataset has resource code ${m.dataset}`;
      continue;
    }
    await sql`INSERT INTO province_backflow (source, dataset_code) VALUES (${m.source}, ${m.dataset}) ON CONFLICT DO NOTHING`;
    const [state] = await sql<{ cursor: string | null; status: string }[]>`SELECT cursor, status FROM province_backflow WHERE source = ${m.source}`;
    if (state.status === 'FAILED') {
      report.status = 'FAILED';
      report.error = 'stopped after a failure; the data authority lets it go on with retryProvinceSync(datasetCode: <source>)';
      continue;
    }
    let cursor = state.cursor;
    const fail = async (message: string) => {
      report.status = 'FAILED';
      report.error = message;
      await sql.begin(async (tx) => {
        await tx`UPDATE province_backflow SET status = 'FAILED', last_error = ${message}, last_run_at = now() WHERE source = ${m.source}`;
        await tx`INSERT INTO notification (department, kind, subject_type, subject_id, due_at, message)
                 SELECT code, 'ALERT', 'province_backflow', 0, now(), ${`省级回流 ${m.source} → ${m.dataset} 停止：${message}`}
                   FROM department WHERE is_authority ON CONFLICT DO NOTHING`;
      });
      log.error({ source: m.source, dataset: m.dataset, err: message }, 'backflow stopped');
    };
    for (;;) {
      let page: Awaited<ReturnType<ProvinceClient['backflowPage']>> | null = null;
      for (let attempt = 1; ; attempt++) {
        try {
          page = await client.backflowPage(m.source, cursor, opts.pageRows);
          break;
        } catch (err) {
          const e = err instanceof ProvinceError ? err : new ProvinceError((err as Error).message, true);
          if (!e.retryable || attempt >= opts.maxAttempts) break;
          await sleep(backoffDelay(attempt, opts.backoffMs, random));
        }
      }
      if (!page) {
        await fail(`the page after cursor ${cursor ?? '(start)'} could not be read after ${opts.maxAttempts} attempts`);
        break;
      }
      if (page.rows.length) {
        const result = await deliverRecords(
          sql,
          { catalog, dataset: ds, datasetId: meta.id, departmentId: meta.department_id },
          { deliveredBy: `province/backflow:${m.source}`, channel: 'BACKFLOW' },
          page.rows.map((r) => r.data),
          { maxReportedProblems: opts.maxReportedProblems, rowAudit: opts.rowAudit },
        );
        if (result.status !== 'ACCEPTED') {
          await fail(`page after cursor ${cursor ?? '(start)'} rejected: ${result.problems.slice(0, 3).map((p) => `row ${p.row} ${p.field ?? ''} ${p.reason}`).join('; ')}`);
          break;
        }
        report.pages++;
        report.rows += page.rows.length;
      }
      // The cursor moves only after the page was accepted; on the last page it stays (see above).
      const next = page.next;
      if (next) {
        await sql`UPDATE province_backflow SET cursor = ${next}, rows_pulled = rows_pulled + ${page.rows.length}, last_run_at = now(), last_error = NULL WHERE source = ${m.source}`;
        cursor = next;
      } else {
        await sql`UPDATE province_backflow SET rows_pulled = rows_pulled + ${page.rows.length}, last_run_at = now(), last_error = NULL WHERE source = ${m.source}`;
        break;
      }
    }
  }
  return reports;
}
