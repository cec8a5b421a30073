/**
 * The access record's writer (使用记录, R7): every operation appends one record to a hash chain
 * in `access_record`. Each record carries its place (`seq` 1, 2, 3, …), the hash of the record
 * before it (`prev_hash`, 64 zeros before the first) and its own `hash` = HMAC-SM3 with the chain
 * key over `canonicalRecordText` (every column but `hash`). `access_chain_head` (one row) holds
 * the last record's seq and hash; verifyAccessChain.ts checks all of it.
 *
 * Group commit: `append()` queues a record and returns a promise. The writer takes what is
 * queued (up to `maxBatch`), numbers and hashes the records after the chain's head and writes them
 * atomically: one statement that moves the head from where this process's last batch left it and
 * inserts the batch, or, when the process does not know the head or another process has moved
 * it, one transaction that locks the head row first. Appends arriving while a batch is written
 * go into a later one, so under load one write carries many records. Up to `pipelineDepth`
 * one-statement batches are in flight at once, pipelined on one connection (PostgreSQL runs them
 * in the order sent). Every gateway process has its own writer; the head's row (its lock, and the
 * check of its seq and hash) serialises them, so they all extend the same chain. A failed write
 * writes nothing (the chain stays whole) and rejects every record of its batch.
 */
import type { Logger } from 'pino';
import type { Sql } from '../db/createSql';
import type { AccessOutcome, AccessRecordInput, AccessRecordRow, AccessRecordWriter } from './AccessRecord';
import type { AuditKeys } from './auditKeys';
import { HASH_HEX, isRowHashText, rowSetDigest } from './rowSet';

type ReservedSql = Awaited<ReturnType<Sql['reserve']>>;

/** `prev_hash` of record 1 (and the hash of the empty chain's head). */
export const GENESIS_HASH = '0'.repeat(64);

/** Records per transaction unless told otherwise. */
export const DEFAULT_MAX_BATCH = 500;
/** Upper bound of `maxBatch`: the batch travels as one jsonb parameter; keep it a few MB. */
export const MAX_BATCH_LIMIT = 5000;

const OUTCOMES: readonly AccessOutcome[] = ['OK', 'PARTIAL', 'DENIED', 'FAILED'];
const INT4_MAX = 2147483647;

/** A record as hashed: everything stored except `hash` itself. */
export type AccessRecordHashed = Omit<AccessRecordRow, 'hash'>;

/** The canonical text's version tags: the writer hashes format 3; formats 1 and 2 are verified still. */
export const RECORD_FORMAT_TAGS = { 1: 'hz-access-record/1', 2: 'hz-access-record/2', 3: 'hz-access-record/3' } as const;
export type RecordFormat = keyof typeof RECORD_FORMAT_TAGS;
/** The format the writer hashes records in. */
export const CURRENT_RECORD_FORMAT: RecordFormat = 3;

/**
 * The exact text the chain hash covers, shared by the writer and the verifier. Deterministic:
 * a JSON array (JSON's escaping keeps fields apart whatever they contain) of a version tag and
 * every column in a fixed order; `seq` as a decimal string; `at` as an ISO-8601 UTC instant with
 * milliseconds (the writer stores `at` at that precision, so it reads back identical); arrays in
 * their stored order; `masking` as `[key, rule]` pairs sorted by key (jsonb does not keep key
 * order). A value of an unexpected shape (only a tampered row has one) is kept as it is, so it
 * still changes the text and thus the hash.
 *
 * Format 2 (written since 2026-11-27) is format 1 with another tag and every UTF-16 code unit
 * above U+007F written as a JSON `\uXXXX` escape, which PostgreSQL's JSON parser (in a UTF8
 * database, as migrate requires) turns back into the same text. V8 keeps a string with one
 * character above U+00FF (a Chinese purpose text, say) at two bytes per character, and so did the
 * whole text of a record and of its batch with it: a Q2 record's ~12 KB of hashes then cost twice
 * the memory and a conversion for every hash and every write. Format 1 records still verify,
 * wherever they stand in the chain (verifyAccessChain tries each).
 *
 * Format 3 (written since 2026-11-28) is format 2 with another tag and one more element after
 * `prev_hash`: `row_set`, the digest of the row set holding the rows' hashes (rowSet.ts), or null
 * when the record holds them itself. A record of format 1 or 2 has no row set.
 */
export function canonicalRecordText(r: AccessRecordHashed, format: RecordFormat = CURRENT_RECORD_FORMAT): string {
  return canonicalText(r, r.seq, r.prevHash, format);
}

/**
 * canonicalRecordText of `r` placed at `seq` after `prevHash`: the writer numbers a record without
 * copying it (a copy of its ~24 properties cost ~4 µs of every request's record).
 */
function canonicalText(r: AccessRecordInput | AccessRecordHashed, seq: bigint, prevHash: string, format: RecordFormat = CURRENT_RECORD_FORMAT): string {
  if (format === 3) return canonicalText3(r, seq, prevHash);
  const fields: unknown[] = [
    RECORD_FORMAT_TAGS[format],
    String(seq),
    r.at.toISOString(),
    r.requestId,
    r.agency,
    r.subject,
    r.purposeCode,
    r.purposeText,
    r.operationType,
    r.operationName,
    r.operationHash,
    r.grantIds,
    r.datasets,
    r.fieldsReturned,
    r.fieldsDenied,
    canonicalMasking(r.masking),
    r.rowCount,
    r.rowKeyHashes,
    r.subjectHashes,
    r.outcome,
    r.errorCodes,
    prevHash,
  ];
  return format === 1 ? JSON.stringify(fields) : ascii(JSON.stringify(fields));
}

/**
 * Format 3: the same text as one JSON.stringify of the array with its non-ASCII characters escaped
 * (escaping goes character by character, and JSON's own characters are ASCII), made in pieces so
 * that what most records share is not made again for each: the lists of a compiled plan (grants,
 * datasets, fields returned and refused, masking sorted; frozen by AccessAudit.planNotes and
 * shared by every record read through the plan), kept per plan, and a text with non-ASCII
 * characters (a purpose's text), kept per text. The rest is three JSON.stringify calls of arrays.
 * A Q1 record's text took ~18 µs with a Chinese purpose text and ~10 µs without on the 2-core VM
 * of 2026-11-28 (a microbenchmark; most of it the escape and the masking's sort), ~6 µs this way.
 */
function canonicalText3(r: AccessRecordInput | AccessRecordHashed, seq: bigint, prevHash: string): string {
  const head = JSON.stringify([RECORD_FORMAT_TAGS[3], String(seq), r.at.toISOString(), r.requestId, r.agency, r.subject, r.purposeCode]);
  const op = JSON.stringify([r.operationType, r.operationName, r.operationHash]);
  const tail = JSON.stringify([r.rowCount, r.rowKeyHashes, r.subjectHashes, r.outcome, r.errorCodes, prevHash, r.rowSet ?? null]);
  return `${ascii(head.slice(0, -1))},${purposeTextJson(r.purposeText)},${ascii(op.slice(1, -1))},${planJson(r)},${ascii(tail.slice(1))}`;
}

/** JSON text with its non-ASCII characters escaped. */
const ascii = (json: string) => (NON_ASCII.test(json) ? escapeNonAscii(json) : json);

/** Escaped JSON of texts with non-ASCII characters, per text (bounded; forgotten all at once). */
const escapedTexts = new Map<string, string>();
const MAX_ESCAPED_TEXTS = 256;
const MAX_ESCAPED_TEXT_LENGTH = 1024;

/** The purpose text as an element of the array (null, or a stored row's value of another type, as JSON.stringify writes it). */
function purposeTextJson(v: unknown): string {
  if (typeof v !== 'string') return ascii(JSON.stringify([v]).slice(1, -1));
  if (!NON_ASCII.test(v)) return JSON.stringify(v);
  let json = escapedTexts.get(v);
  if (json === undefined) {
    json = escapeNonAscii(JSON.stringify(v));
    if (v.length <= MAX_ESCAPED_TEXT_LENGTH) {
      if (escapedTexts.size >= MAX_ESCAPED_TEXTS) escapedTexts.clear();
      escapedTexts.set(v, json);
    }
  }
  return json;
}

/** A plan's lists as elements of the array, per plan: keyed by its frozen grant list, checked against the other four. */
interface PlanJson {
  datasets: unknown;
  fieldsReturned: unknown;
  fieldsDenied: unknown;
  masking: unknown;
  json: string;
}
const planJsons = new WeakMap<object, PlanJson>();

function planJson(r: AccessRecordInput | AccessRecordHashed): string {
  const { grantIds, datasets, fieldsReturned, fieldsDenied, masking } = r;
  const shared = Object.isFrozen(grantIds) && Object.isFrozen(datasets) && Object.isFrozen(fieldsReturned) && Object.isFrozen(fieldsDenied) && Object.isFrozen(masking);
  if (shared) {
    const known = planJsons.get(grantIds);
    if (known && known.datasets === datasets && known.fieldsReturned === fieldsReturned && known.fieldsDenied === fieldsDenied && known.masking === masking) return known.json;
  }
  const json = ascii(JSON.stringify([grantIds, datasets, fieldsReturned, fieldsDenied, canonicalMasking(masking)]).slice(1, -1));
  if (shared) planJsons.set(grantIds, { datasets, fieldsReturned, fieldsDenied, masking, json });
  return json;
}

const NON_ASCII = /[^\x00-\x7f]/;
const NON_ASCII_ALL = /[^\x00-\x7f]/g;
const escapeUnit = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * `json` (JSON text) with every UTF-16 code unit above U+007F written as `\uXXXX` (a pair as two
 * escapes, as JSON allows), as a one-byte string: the replaced text is all ASCII, but V8 would keep
 * it at two bytes per character like `json`, and with it the whole batch's text it is joined into;
 * a Latin-1 round trip through a Buffer (lossless for ASCII) makes a one-byte copy (~1 µs).
 */
function escapeNonAscii(json: string): string {
  return Buffer.from(json.replace(NON_ASCII_ALL, escapeUnit), 'latin1').toString('latin1');
}

function canonicalMasking(m: unknown): unknown {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return m;
  // Sorted by UTF-16 code units (not localeCompare): the same on every machine.
  return Object.entries(m as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export interface AccessRecordWriterOptions {
  /** Most records written by one statement (default 500, at most 5000). */
  maxBatch?: number;
  /**
   * Most batches sent and not yet answered (default 2, at most 16). They travel pipelined on one
   * connection, so PostgreSQL runs them in the order sent: the next batch is already there when
   * the one before it commits, instead of waiting for the answer to reach this process and for
   * its event loop to send the next. 1 writes one batch at a time.
   */
  pipelineDepth?: number;
}

/** Batches in flight unless told otherwise. */
export const DEFAULT_PIPELINE_DEPTH = 2;
export const MAX_PIPELINE_DEPTH = 16;

interface Pending {
  record: AccessRecordInput;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Creates the process's writer. `append()` resolves once its record is committed and rejects
 * (with an Error for the caller to turn into an error response) when it could not be written:
 * an invalid record at once, a failed statement for the whole batch. `close()` refuses new
 * appends at once, then waits until everything queued is written (or rejected).
 *
 * Pipelining keeps the chain in append order: batch k+1 is numbered and hashed after batch k's
 * last record and only goes in where the head is exactly that record. If batch k is not written
 * (another process moved the head, or it failed), every batch sent after it finds the head
 * elsewhere and writes nothing either; those found-moved batches are then written again, in the
 * order they were appended, the locking way, once nothing is in flight any more.
 */
export function createAccessRecordWriter(sql: Sql, keys: AuditKeys, log: Logger, opts: AccessRecordWriterOptions = {}): AccessRecordWriter {
  const maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > MAX_BATCH_LIMIT) {
    throw new RangeError(`maxBatch must be an integer from 1 to ${MAX_BATCH_LIMIT}, got ${maxBatch}`);
  }
  const depth = opts.pipelineDepth ?? DEFAULT_PIPELINE_DEPTH;
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_PIPELINE_DEPTH) {
    throw new RangeError(`pipelineDepth must be an integer from 1 to ${MAX_PIPELINE_DEPTH}, got ${depth}`);
  }
  const queue: Pending[] = [];
  /** Batches that found the head moved, in append order: written first, the locking way. */
  const retry: Pending[] = [];
  /**
   * The batches sent the one-statement way and not yet answered, in the order sent: each settles
   * (never rejects) once its waiters are settled or it is set aside for a retry.
   */
  const inflight: Promise<void>[] = [];
  let running: Promise<void> | null = null;
  // The chain's head as the last batch sent will leave it: the next batch is written after it
  // in one statement, which checks that the head is there. null: read it under the lock.
  let tail: ChainHead | null = null;
  /** The writer's connection while it has work: pipelined batches must share one. */
  let conn: ReservedSql | null = null;
  let connSuspect = false;
  let closed = false;
  /**
   * Digests of row sets this process has seen committed: a record naming one does not carry its
   * hashes again. Bounded; forgetting one only means sending its hashes once more.
   */
  const storedRowSets = new Set<string>();
  const noteStored = (batch: Pending[]) => {
    for (const p of batch) {
      const d = p.record.rowSet;
      if (d) {
        if (storedRowSets.size >= MAX_KNOWN_ROW_SETS) storedRowSets.clear();
        storedRowSets.add(d);
      }
    }
  };

  const idle = () => !running && inflight.length === 0 && queue.length === 0 && retry.length === 0;
  /** Gives the connection back to the pool when there is no work (or it may be broken). */
  const releaseIfIdle = () => {
    if (conn && inflight.length === 0 && (connSuspect || idle())) {
      conn.release();
      conn = null;
      connSuspect = false;
    }
  };

  /** Starts the send loop unless it runs; it ends when nothing is left to send. */
  const schedule = () => {
    if (running) return;
    running = (async () => {
      try {
        // Let the appends of this turn of the event loop join the first batch.
        await new Promise<void>((resolve) => setImmediate(resolve));
        while (queue.length || retry.length) {
          if (inflight.length >= depth || (inflight.length > 0 && (tail === null || retry.length > 0))) {
            await inflight[0];
            continue;
          }
          if (retry.length) queue.unshift(...retry.splice(0));
          releaseIfIdle(); // a suspect connection, once nothing is in flight
          const batch = queue.splice(0, maxBatch);
          // A record that let its set's hashes go while the set was known, which it no longer is
          // (the known sets are dropped after a failed write): the locking way, which checks that
          // the set is there. (The one-statement way needs the head where this process left it:
          // then every set it saw committed is there too.)
          const unsure = batch.some((p) => p.record.rowSet && p.record.rowSetHashes === undefined && !storedRowSets.has(p.record.rowSet));
          if (unsure && inflight.length > 0) {
            queue.unshift(...batch);
            await inflight[0];
            continue;
          }
          try {
            conn ??= await sql.reserve();
          } catch (err) {
            fail(batch, err);
            continue;
          }
          try {
            if (tail === null || unsure) await writeLocked(conn, batch);
            else send(conn, tail, batch);
          } catch (err) {
            fail(batch, err); // not expected (both settle their batch themselves): no waiter is left unsettled
          }
        }
      } finally {
        // Set synchronously after the last empty-queue check: an append after this starts anew.
        running = null;
        releaseIfIdle();
      }
    })();
  };

  /** Rejects the batch; the head is read again under the lock, on a fresh connection. */
  const fail = (batch: Pending[], err: unknown) => {
    tail = null;
    // What this process saw committed may be gone (a failover, a restore): sets are sent again.
    storedRowSets.clear();
    connSuspect = true;
    log.error({ err, records: batch.length, requestIds: batch.map((p) => p.record.requestId) }, 'access record batch not written');
    const cause = err instanceof Error ? err.message : String(err);
    for (const p of batch) p.reject(new Error(`the access record could not be written: ${cause}`, { cause: err }));
  };

  /** The locking way (nothing in flight): settles every waiter, never throws. */
  const writeLocked = async (c: ReservedSql, batch: Pending[]) => {
    try {
      tail = await writeBatchLocked(c, keys, batch.map((p) => p.record), storedRowSets);
    } catch (err) {
      fail(batch, err);
      return;
    }
    noteStored(batch);
    for (const p of batch) p.resolve();
  };

  /** Sends `batch` the one-statement way after `after`, without waiting for the answer. */
  const send = (c: ReservedSql, after: ChainHead, batch: Pending[]) => {
    const { payload, sets, last } = chainAfter(keys, batch.map((p) => p.record), after, storedRowSets);
    tail = last;
    // execute(): postgres.js sends a query when it is first awaited; this one must go now. Its
    // outcome is taken at once (a rejection must not wait, unhandled, for the batch before it to
    // settle) and acted on in the order sent (PostgreSQL answers in that order anyway).
    const outcome = c
      .unsafe<{ inserted: number }[]>(INSERT_AFTER_KNOWN_HEAD, [payload, last.seq.toString(), last.hash, after.seq.toString(), after.hash, sets], {
        prepare: true,
      })
      .execute()
      .then(
        (rows) => (rows.length === 1 ? { inserted: rows[0].inserted, err: null } : { inserted: 0, err: new Error(`unexpected reply: ${rows.length} rows`) }),
        (err: unknown) => ({ inserted: 0, err }),
      );
    const before = inflight.length ? inflight[inflight.length - 1] : Promise.resolve();
    inflight.push(
      before
        .then(() => outcome)
        .then(({ inserted, err }) => {
          if (err !== null) {
            fail(batch, err);
          } else if (inserted === batch.length) {
            noteStored(batch);
            for (const p of batch) p.resolve();
          } else {
            // Another process moved the head (or a batch before this one failed): nothing was
            // written; write it again after the real head.
            // (The sets it knows stay known: the locking way checks those it names without them.)
            tail = null;
            retry.push(...batch);
          }
        })
        .finally(() => {
          inflight.shift();
          if (retry.length) schedule();
          releaseIfIdle();
        }),
    );
  };

  return {
    append(record) {
      if (closed) return Promise.reject(new Error('the access record writer is closed'));
      const invalid = checkRecord(record);
      if (invalid) return Promise.reject(new TypeError(`invalid access record: ${invalid}`));
      if (record.rowSet) {
        if (storedRowSets.has(record.rowSet)) {
          // A row set already stored needs only its digest: its hashes (~10 KB for a page) are let
          // go now rather than held until the batch is written.
          // (A spread of the record, which toRecord builds as a literal: ~0.1 µs.)
          record = { ...record, rowSetHashes: undefined };
        } else {
          // A set to be stored is checked whole (~25 µs for a page; once per set and process): one
          // bad text would otherwise fail its whole batch, or store a set its digest does not name.
          const bad = rowSetProblem(record.rowSet, record.rowSetHashes!);
          if (bad) return Promise.reject(new TypeError(`invalid access record: ${bad}`));
        }
      }
      return new Promise<void>((resolve, reject) => {
        queue.push({ record, resolve, reject });
        schedule();
      });
    },
    async close() {
      closed = true;
      if (queue.length) schedule();
      while (running || inflight.length) await (running ?? inflight[inflight.length - 1]);
      releaseIfIdle();
    },
  };
}

/** Why a row set to be stored cannot be, or null: hex hashes joined with ",", and its digest. */
function rowSetProblem(digest: string, joined: string): string | null {
  if (!isRowHashText(joined)) return `rowSetHashes must be hex hashes of ${HASH_HEX} digits, a row's run after run, joined with ","`;
  if (rowSetDigest(joined) !== digest) return 'rowSet is not the digest of rowSetHashes';
  return null;
}

/** Row-set digests a writer remembers as stored (a digest is 64 characters: ~10 MB at most). */
const MAX_KNOWN_ROW_SETS = 50_000;

/** The columns as inserted, in table order; the jsonb payload uses these keys. */
const INSERT_COLUMNS = `seq, at, request_id, agency, subject, purpose_code, purpose_text, operation_type, operation_name,
  operation_hash, grant_ids, datasets, fields_returned, fields_denied, masking, row_count, row_key_hashes,
  subject_hashes, outcome, error_codes, prev_hash, row_set, hash`;

/**
 * The batch's records travel as one text parameter, a JSON array whose elements are the records'
 * canonical texts (`canonicalRecordText`, which the chain hash has just covered) with the hash
 * appended, so each record is serialized once, not once for the hash and once more for the
 * database. PostgreSQL takes the columns by position; `masking` comes as sorted [key, rule] pairs
 * and is stored as an object. The statement texts are the same whatever the batch size (prepared
 * once per connection), there is no 65,535-parameter limit, and each record keeps its own array
 * lengths. `$1::text::jsonb`: a parameter typed jsonb would be JSON-encoded again by postgres.js.
 * The row sets to be stored travel in a parameter of their own (INSERT_ROW_SETS), so the records'
 * text is parsed once: read a second time for the sets, it cost PostgreSQL ~30 µs more per record
 * (measured with pgbench, Q1 records in batches of 12: 117–138 µs against 87–98).
 */
const RECORD_COLUMNS = `(e->>1)::bigint, (e->>2)::timestamptz, e->>3, e->>4, e->>5, e->>6, e->>7, e->>8, e->>9, e->>10,
          ARRAY(SELECT x::integer FROM jsonb_array_elements_text(e->11) AS x),
          ARRAY(SELECT jsonb_array_elements_text(e->12)), ARRAY(SELECT jsonb_array_elements_text(e->13)),
          ARRAY(SELECT jsonb_array_elements_text(e->14)),
          (SELECT coalesce(jsonb_object_agg(p->>0, p->>1), '{}'::jsonb) FROM jsonb_array_elements(e->15) AS p),
          (e->>16)::integer, ARRAY(SELECT jsonb_array_elements_text(e->17)), ARRAY(SELECT jsonb_array_elements_text(e->18)),
          (e->>19)::"AccessOutcome", ARRAY(SELECT jsonb_array_elements_text(e->20)), e->>21, e->>22, e->>23`;

/**
 * Stores the new row sets a batch carries, parameter `$<n>`: a JSON array of `[digest, row hashes
 * joined with ","]` pairs, or null when the batch has none (the usual case: a set is stored once).
 * Each set keeps its rows as an array, and their distinct subject hashes (every HASH_HEX-digit
 * piece after a row's first, its key's hash) sorted for the subject report's index. A set already
 * there (read before, by this process or another) is left as it is: equal digests, equal sets.
 */
const INSERT_ROW_SETS = (n: number, condition: string) => `INSERT INTO access_row_set (digest, row_hashes, subject_hashes)
   SELECT rs->>0, h,
          ARRAY(SELECT DISTINCT substr(x, i, ${HASH_HEX}) COLLATE "C" AS s
                  FROM unnest(h) AS x, generate_series(${HASH_HEX + 1}, length(x), ${HASH_HEX}) AS i ORDER BY s)
     FROM jsonb_array_elements($${n}::text::jsonb) AS rs, string_to_array(rs->>1, ',') AS h
    WHERE true${condition}
   ON CONFLICT (digest) DO NOTHING`;

/**
 * The usual case, one statement and one round trip: move the head from where this process left
 * it to the batch's last record and insert the batch, both or neither (the insert runs only if
 * the head moved; a failed insert undoes the move). When another process has moved the head
 * since, no row matches, nothing is written, and the batch goes the locking way.
 */
const INSERT_AFTER_KNOWN_HEAD = `WITH moved AS (
   UPDATE access_chain_head SET seq = $2::bigint, hash = $3 WHERE id = 1 AND seq = $4::bigint AND hash = $5 RETURNING 1),
 sets AS (${INSERT_ROW_SETS(6, ' AND EXISTS (SELECT 1 FROM moved)')}),
 inserted AS (
   INSERT INTO access_record (${INSERT_COLUMNS})
   SELECT ${RECORD_COLUMNS}
     FROM jsonb_array_elements($1::text::jsonb) AS e
    WHERE EXISTS (SELECT 1 FROM moved)
   RETURNING 1)
 SELECT (SELECT count(*) FROM inserted)::int AS inserted`;

/** The locking way, inside a transaction that holds the head's row lock. */
const INSERT_AFTER_LOCKED_HEAD = `WITH sets AS (${INSERT_ROW_SETS(5, '')}),
 inserted AS (
   INSERT INTO access_record (${INSERT_COLUMNS})
   SELECT ${RECORD_COLUMNS}
     FROM jsonb_array_elements($1::text::jsonb) AS e
   RETURNING 1)
 UPDATE access_chain_head SET seq = $2::bigint, hash = $3 WHERE id = 1 AND (SELECT count(*) FROM inserted) = $4`;

/** Where the chain ends: the last record's seq and hash. */
interface ChainHead {
  seq: bigint;
  hash: string;
}

/**
 * Numbers and hashes `records` after `head`: the batch's parameter text, the row sets to store
 * with it (those its records name that are not in `stored`, each once; null when none), and the
 * new head.
 */
function chainAfter(
  keys: AuditKeys,
  records: AccessRecordInput[],
  head: ChainHead,
  stored: ReadonlySet<string>,
): { payload: string; sets: string | null; last: ChainHead } {
  let seq = head.seq;
  let prevHash = head.hash;
  /** The sets this batch stores: digest → its `[digest, joined hashes]` element. */
  const sets = new Map<string, string>();
  const texts: string[] = [];
  for (const r of records) {
    seq += 1n;
    // `at` is a Date (milliseconds): stored as is, it reads back equal, as the hash needs.
    const text = canonicalText(r, seq, prevHash);
    prevHash = keys.chainHash(text);
    const set = r.rowSet;
    // (A record whose hashes were let go on append names a set already stored: it carries none.)
    if (set && r.rowSetHashes !== undefined && !stored.has(set) && !sets.has(set)) {
      sets.set(set, `["${set}",${JSON.stringify(r.rowSetHashes)}]`);
    }
    // The canonical text is a JSON array: the hash becomes its last element.
    texts.push(`${text.slice(0, -1)},"${prevHash}"]`);
  }
  return { payload: `[${texts.join(',')}]`, sets: sets.size ? `[${[...sets.values()].join(',')}]` : null, last: { seq, hash: prevHash } };
}

/**
 * Two round trips on a reserved connection: (1) BEGIN and the head's row lock in one
 * simple-protocol message; (2) the insert and the head's move in one statement, with COMMIT
 * pipelined behind it. Any failure rolls back.
 */
async function writeBatchLocked(conn: ReservedSql, keys: AuditKeys, records: AccessRecordInput[], stored: ReadonlySet<string>): Promise<ChainHead> {
  let open = false;
  try {
    open = true;
    const results = (await conn.unsafe(
      'BEGIN; SELECT seq::text AS seq, hash FROM access_chain_head WHERE id = 1 FOR UPDATE',
    ).simple()) as unknown as { seq: string; hash: string }[][];
    const [head] = results[results.length - 1];
    if (!head) throw new Error('access_chain_head has no row id = 1 (is the database migrated?)');
    // The head moved under this process or a write failed: a set it saw committed may be gone
    // (a failover, a restore). Records naming a set without carrying it need the set stored.
    const named = [...new Set(records.filter((r) => r.rowSet && r.rowSetHashes === undefined).map((r) => r.rowSet!))];
    if (named.length) {
      const found = await conn.unsafe<{ digest: string }[]>('SELECT digest FROM access_row_set WHERE digest = ANY($1::text[])', [named]);
      if (found.length !== named.length) {
        throw new Error(`${named.length - found.length} row set(s) this process saw stored are missing from access_row_set (a failover or restore?); the records are not written`);
      }
    }
    const { payload, sets, last } = chainAfter(keys, records, { seq: BigInt(head.seq), hash: head.hash }, stored);
    const insert = conn.unsafe(INSERT_AFTER_LOCKED_HEAD, [payload, last.seq.toString(), last.hash, records.length, sets], { prepare: true });
    const commit = conn.unsafe('COMMIT');
    // Both settle: an insert error makes COMMIT answer with a rollback, which is not an error.
    const [ins] = await Promise.allSettled([insert, commit]);
    if (ins.status === 'rejected') throw ins.reason;
    await commit;
    open = false;
    return last;
  } finally {
    if (open) await conn.unsafe('ROLLBACK').catch(() => undefined);
  }
}

// A lone UTF-16 surrogate would be stored as U+FFFD and then no longer match its hash.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function badText(v: unknown): boolean {
  // PostgreSQL text cannot hold NUL. A text without a SUSPECT character has neither.
  return typeof v !== 'string' || (SUSPECT.test(v) && (v.includes('\0') || LONE_SURROGATE.test(v)));
}

/** A character badText can object to: NUL or any surrogate (paired ones pass its closer look). */
const SUSPECT = /[\0\uD800-\uDFFF]/;

/**
 * Frozen lists and masking already found good: a compiled plan's (AccessAudit.planNotes), which
 * every record read through the plan shares, are checked once, not for each record. Frozen, they
 * cannot have changed since.
 */
const goodTextLists = new WeakSet<object>();
const goodGrantLists = new WeakSet<object>();
const goodMaskings = new WeakSet<object>();
/** Each kind in a set of its own: an empty frozen list is a good list of texts and of grants, ['x'] only of texts. */
const knownGood = (good: WeakSet<object>, v: unknown): boolean => typeof v === 'object' && v !== null && good.has(v);
const noteGood = (good: WeakSet<object>, v: object) => {
  if (Object.isFrozen(v)) good.add(v);
};

/**
 * badText for every element. Most elements are hex hashes (a page's record holds hundreds): badText
 * gives each one character-class test, and the closer look only where it finds something. No joined
 * copy of the array is made: under load, what a request allocates adds to what the garbage
 * collector promotes (bench/README.md, "Garbage collection and the young generation").
 */
function badTexts(a: readonly unknown[]): boolean {
  for (const v of a) if (badText(v)) return true;
  return false;
}

/**
 * Why the record cannot be stored exactly, or null. Checked before queueing, so one bad record
 * is refused alone instead of failing the transaction of the whole batch.
 */
function checkRecord(r: AccessRecordInput): string | null {
  if (!r || typeof r !== 'object') return 'not an object';
  if (!(r.at instanceof Date) || Number.isNaN(r.at.getTime())) return 'at must be a valid Date';
  const year = r.at.getUTCFullYear();
  if (year < 1 || year > 9999) return 'at must be within the years 1 to 9999';
  for (const k of ['requestId', 'agency', 'subject', 'operationHash'] as const) {
    if (badText(r[k])) return `${k} must be a string without NUL or unpaired surrogates`;
  }
  for (const k of ['purposeCode', 'purposeText', 'operationType', 'operationName'] as const) {
    if (r[k] !== null && badText(r[k])) return `${k} must be null or a string without NUL or unpaired surrogates`;
  }
  for (const k of ['datasets', 'fieldsReturned', 'fieldsDenied', 'rowKeyHashes', 'subjectHashes', 'errorCodes'] as const) {
    const list = r[k];
    if (knownGood(goodTextLists, list)) continue;
    if (!Array.isArray(list) || badTexts(list)) return `${k} must be an array of strings without NUL or unpaired surrogates`;
    noteGood(goodTextLists, list);
  }
  if (!knownGood(goodGrantLists, r.grantIds)) {
    if (!Array.isArray(r.grantIds) || r.grantIds.some((g) => !Number.isInteger(g) || Math.abs(g) > INT4_MAX)) {
      return 'grantIds must be an array of 32-bit integers';
    }
    noteGood(goodGrantLists, r.grantIds);
  }
  if (!knownGood(goodMaskings, r.masking)) {
    if (!r.masking || typeof r.masking !== 'object' || Array.isArray(r.masking)) return 'masking must be an object';
    for (const [k, v] of Object.entries(r.masking)) {
      if (badText(k) || badText(v)) return 'masking must map strings to strings without NUL or unpaired surrogates';
    }
    noteGood(goodMaskings, r.masking);
  }
  if (!Number.isInteger(r.rowCount) || r.rowCount < 0 || r.rowCount > INT4_MAX) return 'rowCount must be a non-negative 32-bit integer';
  if (r.rowSet === null || r.rowSet === undefined) {
    if (r.rowSetHashes !== undefined) return 'rowSetHashes needs a rowSet';
  } else {
    if (typeof r.rowSet !== 'string' || !/^[0-9a-f]{64}$/.test(r.rowSet)) return 'rowSet must be null or a SHA-256 digest (64 hex digits)';
    // Its text is checked whole only when the set is to be stored (append, rowSetProblem).
    if (typeof r.rowSetHashes !== 'string' || r.rowSetHashes.length === 0) return 'rowSetHashes must be the row hashes joined with ","';
    if (r.rowKeyHashes.length || r.subjectHashes.length) return 'a record with a rowSet keeps no rowKeyHashes or subjectHashes of its own';
  }
  if (!OUTCOMES.includes(r.outcome)) return `outcome must be one of ${OUTCOMES.join(', ')}`;
  return null;
}
