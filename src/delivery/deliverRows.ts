/**
 * Data delivery (汇聚, R5): a source department delivers rows of one of its datasets, by
 * GraphQL batch or by file upload (CSV, NDJSON). Every delivery is all-or-nothing: either every
 * row is valid and the dataset is upserted by key in one transaction, or nothing changes and the
 * delivery is recorded as REJECTED with its problems (row numbers and reasons, never values).
 *
 * Flow, inside one transaction: rows are validated while they stream in and staged with COPY
 * into a TEMP table, batch by batch; each staged batch is moved into `ds.<table>` right away
 * under a per-dataset advisory lock (see DeliveryStager). At the end the `delivery` row and
 * `dataset.last_delivered_at` are written in the same transaction. A rejection rolls all of it
 * back and then records the REJECTED delivery on its own.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type postgres from 'postgres';
import type { DataPads } from '../audit/auditKeys';
import type { Catalog, CatalogDataset } from '../catalog/Catalog';
import type { Sql } from '../db/createSql';
import { DeliveryStager } from './DeliveryStager';
import { readCsvUpload } from './readCsvUpload';
import { readNdjsonUpload } from './readNdjsonUpload';
import type { RowSink } from './readUpload';
import { buildRowValidator, type RowProblem, type RowValidator } from './validateRow';

export type { RowProblem } from './validateRow';

export interface DeliveryTarget {
  catalog: Catalog;
  dataset: CatalogDataset;
  /** `dataset.id` of the metadata row. */
  datasetId: number;
  /** `department.id` of the delivering (source) department. */
  departmentId: number;
}

export type DeliveryChannel = 'GRAPHQL' | 'CSV' | 'NDJSON' | 'BACKFLOW';

export interface DeliveryMeta {
  /** Who delivered (principal subject), recorded in `delivery.delivered_by`. */
  deliveredBy: string;
  requestId?: string;
  channel: DeliveryChannel;
}

export interface DeliveryResult {
  /** `delivery.id` (bigint, as text). */
  deliveryId: string;
  status: 'ACCEPTED' | 'REJECTED';
  /** Data rows received (for a rejection: read before it stopped, if it stopped early). */
  rowCount: number;
  inserted: number;
  updated: number;
  /** sha256 (hex) of the uploaded bytes, or of the canonical JSON of the records (see canonicalJson). */
  checksum: string;
  /** All problems found; `problems` holds the first `maxReportedProblems` of them. */
  problemCount: number;
  problems: RowProblem[];
}

export interface DeliveryOptions {
  /** Problems kept in the result and in `delivery.problems` (all are counted). */
  maxReportedProblems: number;
  /**
   * The access record's data-key pads (AuditKeys.dataPads): each written row then stores its keyed
   * hashes, which reads take instead of computing them. Without them, reads compute them.
   */
  rowAudit?: DataPads | null;
}

export interface FileDeliveryOptions extends DeliveryOptions {
  /** Larger uploads are rejected with the problem "upload exceeds N bytes". */
  maxBytes: number;
}

type JsonRecord = Record<string, unknown>;

/**
 * Delivers records given as JSON objects keyed by GraphQL field names (the GraphQL delivery
 * mutation). All-or-nothing: resolves ACCEPTED after committing the upsert, the `delivery` row
 * and `dataset.last_delivered_at`; resolves REJECTED (nothing written but the REJECTED
 * `delivery` row) when any record has a problem, a key repeats, or there are no records.
 * Rejects (after rolling back) on unexpected errors such as a lost connection.
 * The checksum is sha256 over `canonicalJson(record) + "\n"` for each record in order.
 */
export async function deliverRecords(
  sql: Sql,
  target: DeliveryTarget,
  meta: DeliveryMeta,
  records: AsyncIterable<JsonRecord> | Iterable<JsonRecord>,
  opts: DeliveryOptions,
): Promise<DeliveryResult> {
  return runDelivery(sql, target, meta, opts, async (validator, sink) => {
    const hash = createHash('sha256');
    let row = 0;
    for await (const record of records) {
      row++;
      hash.update(`${canonicalJson(record)}\n`);
      if (typeof record !== 'object' || record === null || Array.isArray(record)) {
        sink.reject([{ row, reason: 'record is not an object' }]);
      } else {
        const result = validator.validateRecord(record, row);
        if (result.ok) sink.accept(result.values, row, null);
        else sink.reject(result.problems);
      }
      if (sink.hasReady) await sink.relieve();
      // A synchronous source never yields to the event loop, so the COPY of the previous
      // batch would not progress while this one is read.
      else if (row % 1024 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return { rowCount: row, checksum: hash.digest('hex') };
  });
}

/**
 * Delivers an uploaded file streamed from `body`: CSV (header of GraphQL field names) for
 * channel CSV, one JSON object per line for NDJSON. Reads the body once, never buffering it;
 * the checksum is sha256 of its bytes. Same all-or-nothing contract as deliverRecords; besides
 * row problems a delivery is REJECTED when it is larger than `maxBytes`, not UTF-8, or (CSV)
 * syntactically broken. In those three cases reading stops and the rest of `body` is left
 * unread (not destroyed): an HTTP caller should close the connection after replying.
 */
export async function deliverFile(
  sql: Sql,
  target: DeliveryTarget,
  meta: DeliveryMeta,
  body: Readable,
  opts: FileDeliveryOptions,
): Promise<DeliveryResult> {
  const read = meta.channel === 'CSV' ? readCsvUpload : meta.channel === 'NDJSON' ? readNdjsonUpload : null;
  if (read === null) throw new TypeError(`deliverFile: channel ${meta.channel} is not a file format`);
  return runDelivery(sql, target, meta, opts, (validator, sink) => read(body, validator, sink, opts.maxBytes));
}

/** Reads all rows into the sink; resolves with what was read. */
type ReadRows = (validator: RowValidator, sink: RowSink) => Promise<{ rowCount: number; checksum: string }>;

/** Counts every problem, keeps the first `max`. */
class ProblemList {
  count = 0;
  readonly kept: RowProblem[] = [];
  constructor(private readonly max: number) {}
  add(problems: readonly RowProblem[], count = problems.length): void {
    this.count += count;
    for (const p of problems) {
      if (this.kept.length >= this.max) break;
      this.kept.push(p);
    }
  }
}

/** Thrown inside the transaction to roll it back; the REJECTED delivery is recorded after. */
class DeliveryRejected extends Error {}

async function runDelivery(
  sql: Sql,
  target: DeliveryTarget,
  meta: DeliveryMeta,
  opts: DeliveryOptions,
  readRows: ReadRows,
): Promise<DeliveryResult> {
  const validator = buildRowValidator(target.dataset);
  const problems = new ProblemList(Math.max(0, opts.maxReportedProblems));
  let deliveryId = 0;
  let startedAt = '';
  let rowCount = 0;
  let checksum = '';
  try {
    return await sql.begin(async (tx) => {
      const [head] = await tx<{ id: number | string; started_at: string }[]>`
        SELECT nextval(pg_get_serial_sequence('delivery', 'id')) AS id, now()::text AS started_at`;
      deliveryId = Number(head.id);
      startedAt = head.started_at;
      const stager = new DeliveryStager(tx, target.dataset, target.datasetId, deliveryId, opts.rowAudit ?? null);
      await stager.open();
      const sink: RowSink = {
        accept(values, row, line) {
          if (problems.count === 0) stager.add(validator.encodeCopyRow(`${row}\t${line ?? '\\N'}`, values), row);
        },
        reject(found) {
          problems.add(found);
          // The delivery will be rejected whole, so nothing more needs staging.
          stager.stopStaging();
        },
        get hasReady() {
          return stager.hasReady;
        },
        relieve: () => stager.relieve(),
      };
      try {
        ({ rowCount, checksum } = await readRows(validator, sink));
        if (problems.count === 0 && rowCount === 0) problems.add([{ row: 0, reason: 'the delivery has no data rows' }]);
        if (problems.count > 0) throw new DeliveryRejected();
        await stager.finish();
      } catch (err) {
        // Let database work in progress end before the transaction rolls back.
        await stager.settle();
        throw err;
      }
      if (stager.duplicateSuspected) {
        const found = await stager.findDuplicates(opts.maxReportedProblems);
        problems.add(found.problems, found.count);
        throw new DeliveryRejected();
      }
      await tx`
        WITH d AS (
          INSERT INTO delivery (id, dataset_id, department_id, delivered_by, channel, status, row_count,
                                inserted_count, updated_count, checksum, problems, request_id, started_at, finished_at)
          VALUES (${deliveryId}, ${target.datasetId}, ${target.departmentId}, ${meta.deliveredBy},
                  ${meta.channel}::"DeliveryChannel", 'ACCEPTED', ${rowCount}, ${stager.counts.inserted},
                  ${stager.counts.updated}, ${checksum}, NULL, ${meta.requestId ?? null}, ${startedAt}::timestamptz,
                  clock_timestamp())
          RETURNING finished_at)
        UPDATE dataset SET last_delivered_at = d.finished_at FROM d WHERE dataset.id = ${target.datasetId}`;
      return result('ACCEPTED', deliveryId, rowCount, stager.counts.inserted, stager.counts.updated, checksum, problems);
    });
  } catch (err) {
    if (!(err instanceof DeliveryRejected)) throw err;
  }
  // Outside the rolled-back transaction, so the rejection itself is on record (R5, R24 figures).
  await sql`
    INSERT INTO delivery (id, dataset_id, department_id, delivered_by, channel, status, row_count,
                          inserted_count, updated_count, checksum, problems, request_id, started_at, finished_at)
    VALUES (${deliveryId}, ${target.datasetId}, ${target.departmentId}, ${meta.deliveredBy},
            ${meta.channel}::"DeliveryChannel", 'REJECTED', ${rowCount}, 0, 0, ${checksum},
            ${sql.json(problems.kept as unknown as postgres.JSONValue)}, ${meta.requestId ?? null},
            ${startedAt}::timestamptz, clock_timestamp())`;
  return result('REJECTED', deliveryId, rowCount, 0, 0, checksum, problems);
}

function result(
  status: DeliveryResult['status'],
  deliveryId: number,
  rowCount: number,
  inserted: number,
  updated: number,
  checksum: string,
  problems: ProblemList,
): DeliveryResult {
  return { deliveryId: String(deliveryId), status, rowCount, inserted, updated, checksum, problemCount: problems.count, problems: problems.kept };
}

/**
 * Canonical JSON of a record for the GraphQL checksum: object keys sorted (UTF-16 order),
 * no whitespace, `undefined` members left out, as JSON.stringify otherwise.
 */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}
