/**
 * The database half of one delivery, inside its transaction: validated rows arrive as COPY
 * text lines, are cut into batches and COPYed into a TEMP staging table, and the staged rows are
 * moved into the dataset's row table every batch or few while the caller keeps parsing. So
 * reading the upload (Node) and writing rows (PostgreSQL) overlap on two cores, and memory
 * holds at most three batches however large the upload is.
 *
 * Duplicate keys within one delivery are detected by PostgreSQL, not by a JS set of keys: a
 * write that repeats a key fails (unique_violation into an empty table, cardinality_violation
 * of an upsert), and a key repeated across writes is an upsert that finds the row already
 * written by this delivery (`_delivery_id` matches) and skips it. Either way writing stops,
 * staging continues, and `findDuplicates` lists the repeated rows from the staging table.
 */
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { TransactionSql } from 'postgres';
import type { CatalogDataset } from '../catalog/Catalog';
import { keyFields } from '../catalog/Catalog';
import { AUDIT_HASHES_COLUMN, AUDIT_KID_COLUMN, DELIVERY_COLUMN, PG_TYPES, quoteIdent, UPDATED_AT_COLUMN } from '../db/rowTables';
import type { DataPads } from '../audit/auditKeys';
import { auditHashes, auditKid, Params } from '../graphql/compileQuery';
import { columnName, ROWS_SCHEMA, tableName } from '../graphql/naming';
import type { RowProblem } from './validateRow';

export type DeliveryTx = TransactionSql<Record<string, never>>;

/** Staging table of the current transaction (TEMP, ON COMMIT DROP). */
const STAGING = '_delivery_staging';
/** Row-number and line-number columns of the staging table. */
const ROW_COLUMN = '_row';
const LINE_COLUMN = '_line';

/** A batch is cut at this many rows or this many characters of COPY text, whichever first. */
const BATCH_ROWS = 50_000;
const BATCH_CHARS = 16 * 1024 * 1024;
/** COPY text is handed to the socket in pieces of about this many characters. */
const CHUNK_CHARS = 1024 * 1024;

/** `pg_advisory_xact_lock(class, dataset id)`: the class keeps delivery locks apart from others ('DELV'). */
export const DELIVERY_LOCK_CLASS = 0x44454c56;

const UNIQUE_VIOLATION = '23505';
const CARDINALITY_VIOLATION = '21000';

interface Batch {
  chunks: Buffer[];
  firstRow: number;
  rows: number;
}

/** SQL text of one delivery; identifiers come from the catalog and are quoted, values are parameters. */
interface DeliveryStatements {
  secondaryIndexes: string;
  createStaging: string;
  copy: string;
  stagingBlocks: string;
  isEmpty: string;
  insert: string;
  upsert: string;
  duplicates: string;
  /** Parameters of insert and upsert after $1..$3 (deliveryId, first block, first row). */
  writeParams: never[];
}

function buildStatements(dataset: CatalogDataset, audit: DataPads | null): DeliveryStatements {
  const keys = keyFields(dataset).map((f) => quoteIdent(columnName(f.name)));
  if (keys.length === 0) throw new Error(`dataset ${dataset.code} has no key field`);
  const cols = dataset.fields.map((f) => quoteIdent(columnName(f.name)));
  const nonKeys = dataset.fields.filter((f) => !f.isKey).map((f) => quoteIdent(columnName(f.name)));
  const staging = `pg_temp.${quoteIdent(STAGING)}`;
  const target = `${quoteIdent(ROWS_SCHEMA)}.${quoteIdent(tableName(dataset))}`;
  const delivery = quoteIdent(DELIVERY_COLUMN);
  const colList = cols.join(', ');
  // Rows of this batch: a TID range scan from the block where the batch's COPY began (one block
  // earlier, as the previous batch's last page may have had room), narrowed by row number, so
  // moving a batch never rescans the batches staged before it.
  const batchRows = `FROM ${staging} s WHERE s.ctid >= $2::tid AND s.${ROW_COLUMN} >= $3`;
  const set = [...nonKeys.map((c) => `${c} = EXCLUDED.${c}`), `${delivery} = EXCLUDED.${delivery}`, `${quoteIdent(UPDATED_AT_COLUMN)} = now()`];
  // Each row's keyed hashes for the access record, made here once instead of by every read
  // (compileQuery.ts rowAuditHashes): from the staged values, with the same expression.
  const params = new Params(3);
  let written = `${colList}, ${delivery}`;
  let values = `${colList}, $1`;
  if (audit) {
    const kid = quoteIdent(AUDIT_KID_COLUMN);
    const hashes = quoteIdent(AUDIT_HASHES_COLUMN);
    written += `, ${kid}, ${hashes}`;
    values += `, ${params.add(auditKid(dataset, audit), 'text')}, ${auditHashes(dataset, 's', params, audit)}`;
    set.push(`${kid} = EXCLUDED.${kid}`, `${hashes} = EXCLUDED.${hashes}`);
  } else {
    // Without the key (a delivery outside a gateway), reads compute the hashes.
    set.push(`${quoteIdent(AUDIT_KID_COLUMN)} = NULL`, `${quoteIdent(AUDIT_HASHES_COLUMN)} = NULL`);
  }
  return {
    createStaging:
      `CREATE TEMP TABLE ${quoteIdent(STAGING)} (${ROW_COLUMN} integer, ${LINE_COLUMN} integer, ` +
      `${dataset.fields.map((f) => `${quoteIdent(columnName(f.name))} ${PG_TYPES[f.type]}`).join(', ')}) ON COMMIT DROP`,
    copy: `COPY ${staging} (${ROW_COLUMN}, ${LINE_COLUMN}, ${colList}) FROM STDIN`,
    stagingBlocks: `SELECT (pg_relation_size('${staging}') / current_setting('block_size')::int)::int AS blocks`,
    isEmpty: `SELECT NOT EXISTS (SELECT 1 FROM ${target}) AS empty`,
    secondaryIndexes:
      `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name, pg_get_indexdef(i.indexrelid) AS definition ` +
      `FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace ` +
      `WHERE i.indrelid = '${target}'::regclass AND NOT i.indisprimary`,
    insert: `INSERT INTO ${target} (${written}) SELECT ${values} ${batchRows}`,
    upsert:
      `WITH written AS (INSERT INTO ${target} AS t (${written}) SELECT ${values} ${batchRows} ` +
      `ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${set.join(', ')} ` +
      // A row this delivery already wrote means its key came twice: skip it, counted below.
      `WHERE t.${delivery} <> EXCLUDED.${delivery} ` +
      `RETURNING (t.xmax = 0) AS inserted) ` +
      `SELECT (count(*) FILTER (WHERE inserted))::int AS inserted, count(*)::int AS written FROM written`,
    duplicates:
      `SELECT (array_agg(${ROW_COLUMN} ORDER BY ${ROW_COLUMN}))[1:$1 + 1] AS rows, ` +
      `(array_agg(${LINE_COLUMN} ORDER BY ${ROW_COLUMN}))[1:$1 + 1] AS lines, ` +
      `(sum(count(*) - 1) OVER ())::int AS repeats ` +
      `FROM ${staging} GROUP BY ${keys.join(', ')} HAVING count(*) > 1 ORDER BY min(${ROW_COLUMN}) LIMIT $1`,
    writeParams: params.values as never[],
  };
}

export interface StagerCounts {
  inserted: number;
  updated: number;
}

export class DeliveryStager {
  private readonly statements: DeliveryStatements;
  private text = '';
  private chunks: Buffer[] = [];
  private batchRows = 0;
  private batchChars = 0;
  private batchFirstRow = 0;
  private readonly ready: Batch[] = [];
  private inflight: Promise<void> = Promise.resolve();
  private staging = true;
  private writing = true;
  private locked = false;
  private targetWasEmpty = false;
  /** Secondary indexes dropped for a first load, rebuilt by `finish` (same transaction). */
  private deferredIndexes: { name: string; definition: string }[] = [];
  private duplicateError: unknown = null;
  /** Staged rows not yet written: from this row and staging block on. */
  private unwritten: { firstRow: number; fromBlock: number; rows: number } | null = null;
  private written = 0;
  readonly counts: StagerCounts = { inserted: 0, updated: 0 };

  constructor(
    private readonly tx: DeliveryTx,
    private readonly dataset: CatalogDataset,
    private readonly datasetId: number,
    private readonly deliveryId: number,
    audit: DataPads | null = null,
  ) {
    this.statements = buildStatements(dataset, audit);
  }

  /** Creates the staging table; call once, first. */
  async open(): Promise<void> {
    await this.tx.unsafe(this.statements.createStaging);
  }

  /** True when a full batch waits for the database: call `relieve()` before reading on. */
  get hasReady(): boolean {
    return this.ready.length > 0;
  }

  /** True once a key repeated within the delivery was seen; `findDuplicates` lists them. */
  get duplicateSuspected(): boolean {
    return this.duplicateError !== null;
  }

  /** Adds one valid row as a COPY text line (see encodeCopyRow). Ignored after `stopStaging`. */
  add(line: string, row: number): void {
    if (!this.staging) return;
    if (this.batchRows === 0) this.batchFirstRow = row;
    this.text += line;
    this.batchRows++;
    this.batchChars += line.length;
    if (this.text.length >= CHUNK_CHARS) {
      this.chunks.push(Buffer.from(this.text, 'utf8'));
      this.text = '';
    }
    if (this.batchRows >= BATCH_ROWS || this.batchChars >= BATCH_CHARS) this.cutBatch();
  }

  /**
   * Backpressure: hands the waiting batches to the database, returning as soon as the last one
   * is in progress (so parsing overlaps with it). Rejects if the database work failed.
   */
  async relieve(): Promise<void> {
    while (this.ready.length > 0) {
      const current = this.inflight;
      await current;
      // Another caller may have started the next batch meanwhile; one batch at a time.
      if (this.inflight !== current) continue;
      const batch = this.ready.shift();
      if (batch === undefined) return;
      const work = this.process(batch);
      // Awaited by the next relieve/finish/settle; this only keeps Node from calling it unhandled.
      work.catch(() => {});
      this.inflight = work;
    }
  }

  /** A problem was found: nothing more is staged or written (the transaction will roll back). */
  stopStaging(): void {
    this.staging = false;
    this.writing = false;
    this.text = '';
    this.chunks = [];
    this.ready.length = 0;
  }

  /** Stages and writes everything added so far and waits for it. */
  async finish(): Promise<void> {
    this.cutBatch();
    await this.relieve();
    await this.inflight;
    await this.writeUnwritten();
    if (this.deferredIndexes.length > 0 && this.writing) {
      await this.tx.unsafe(`SET LOCAL maintenance_work_mem = '128MB'`);
      for (const ix of this.deferredIndexes) await this.tx.unsafe(ix.definition);
      this.deferredIndexes = [];
    }
  }

  /** Waits for database work in progress without throwing, so the transaction can roll back cleanly. */
  async settle(): Promise<void> {
    this.stopStaging();
    await this.inflight.catch(() => {});
  }

  /**
   * After `finish`, when `duplicateSuspected`: the repeated rows (every occurrence after the
   * first of a key), at most `max` of them, and how many there are in all. Throws the original
   * database error if staging shows no repeat (the conflict came from elsewhere).
   */
  async findDuplicates(max: number): Promise<{ problems: RowProblem[]; count: number }> {
    const rows = await this.tx.unsafe<{ rows: number[]; lines: (number | null)[]; repeats: number }[]>(this.statements.duplicates, [
      Math.max(max, 1),
    ]);
    if (rows.length === 0) throw this.duplicateError;
    const keyNames = keyFields(this.dataset).map((f) => f.name);
    const field = keyNames.length === 1 ? keyNames[0] : undefined;
    const problems: RowProblem[] = [];
    for (const group of rows) {
      const [first, ...repeats] = group.rows;
      repeats.forEach((row, i) => {
        const line = group.lines[i + 1];
        problems.push({
          row,
          // postgres.js reads a NULL element of an integer array as NaN.
          ...(line !== null && Number.isFinite(line) ? { line } : {}),
          ...(field ? { field } : {}),
          reason: `duplicate key: row ${first} has the same ${keyNames.length === 1 ? 'key' : `key (${keyNames.join(', ')})`}`,
        });
      });
    }
    return { problems: problems.slice(0, max), count: rows[0].repeats };
  }

  private cutBatch(): void {
    if (this.batchRows === 0) return;
    if (this.text.length > 0) this.chunks.push(Buffer.from(this.text, 'utf8'));
    this.ready.push({ chunks: this.chunks, firstRow: this.batchFirstRow, rows: this.batchRows });
    this.text = '';
    this.chunks = [];
    this.batchRows = 0;
    this.batchChars = 0;
  }

  private async process(batch: Batch): Promise<void> {
    if (!this.staging) return;
    const [{ blocks }] = await this.tx.unsafe<{ blocks: number }[]>(this.statements.stagingBlocks);
    await copyIn(this.tx, this.statements.copy, batch.chunks);
    batch.chunks = [];
    // One block back: the previous batch's last page may have had room for this one's first rows.
    this.unwritten ??= { firstRow: batch.firstRow, fromBlock: Math.max(blocks - 1, 0), rows: 0 };
    this.unwritten.rows += batch.rows;
    // Each write is a savepoint, and more than 64 subtransactions in one transaction slow every
    // other session's snapshots (PGPROC_MAX_CACHED_SUBXIDS): writes grow with the delivery, so
    // a million rows take 11 and a hundred million 31.
    if (this.unwritten.rows >= Math.max(BATCH_ROWS, this.written / 4)) await this.writeUnwritten();
  }

  /** Moves the staged rows not yet written into the row table (upsert by key). */
  private async writeUnwritten(): Promise<void> {
    const range = this.unwritten;
    if (!this.writing || range === null) return;
    this.unwritten = null;
    if (!this.locked) {
      // Deliveries of one dataset serialise here; staging (session-private) needs no lock.
      await this.tx`SELECT pg_advisory_xact_lock(${DELIVERY_LOCK_CLASS}, ${this.datasetId})`;
      const [{ empty }] = await this.tx.unsafe<{ empty: boolean }[]>(this.statements.isEmpty);
      this.targetWasEmpty = empty;
      this.locked = true;
      if (empty) {
        // First load of a dataset: building the secondary indexes once at the end costs about
        // half of maintaining them row by row. The primary key stays (it detects repeated keys).
        // Dropping takes the table's exclusive lock, so readers of this still-empty dataset wait
        // for the delivery to commit; a rollback brings the indexes back.
        this.deferredIndexes = await this.tx.unsafe<{ name: string; definition: string }[]>(this.statements.secondaryIndexes);
        for (const ix of this.deferredIndexes) await this.tx.unsafe(`DROP INDEX ${ix.name}`);
      }
    }
    const params = [this.deliveryId, `(${range.fromBlock},0)`, range.firstRow, ...this.statements.writeParams] as never[];
    try {
      if (this.targetWasEmpty) {
        // Nothing to update, so a plain INSERT: no speculative insertion per row.
        const result = await this.tx.savepoint((sp) => sp.unsafe(this.statements.insert, params));
        this.counts.inserted += result.count;
      } else {
        const [r] = await this.tx.savepoint((sp) => sp.unsafe<{ inserted: number; written: number }[]>(this.statements.upsert, params));
        this.counts.inserted += r.inserted;
        this.counts.updated += r.written - r.inserted;
        if (r.written < range.rows) this.suspendWriting(new Error('a key was delivered twice'));
      }
      this.written += range.rows;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code !== UNIQUE_VIOLATION && code !== CARDINALITY_VIOLATION) throw err;
      this.suspendWriting(err);
    }
  }

  private suspendWriting(err: unknown): void {
    this.writing = false;
    this.duplicateError = err;
  }
}

/**
 * COPY … FROM STDIN of the given chunks, with backpressure. postgres.js completes the COPY's
 * writable only when PostgreSQL confirms it; if the server fails the COPY after the last chunk
 * (or the connection drops), that confirmation never comes. A query queued right behind the
 * COPY surfaces either failure, so waiting on both cannot hang. It must be queued after
 * postgres.js has sent CopyDone (else it fails, and a failed query fails the transaction):
 * once every write has completed, `end()` runs the stream's final step synchronously.
 */
async function copyIn(tx: DeliveryTx, statement: string, chunks: readonly Buffer[]): Promise<void> {
  const stream = await tx.unsafe(statement).writable();
  const done = finished(stream);
  done.catch(() => {});
  for (let i = 0; i < chunks.length; i++) {
    if (i === chunks.length - 1) {
      const written = new Promise<void>((resolve, reject) => stream.write(chunks[i], (err) => (err ? reject(err) : resolve())));
      await Promise.race([written, done]);
    } else if (!stream.write(chunks[i])) {
      await Promise.race([once(stream, 'drain'), done]);
    }
  }
  stream.end();
  await Promise.all([done, tx`SELECT 1`]);
}
