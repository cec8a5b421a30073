/**
 * Checks the access record's hash chain (R7): every record still matches its hash, the records
 * are numbered 1, 2, 3, … without gaps, each links to the hash of the one before it, and the
 * chain head (`access_chain_head`) names the last record. `npm run audit:verify` runs it.
 *
 * Reads in one REPEATABLE READ, READ ONLY transaction (the head and the records are one snapshot,
 * so a gateway appending meanwhile is no problem), page by page in seq order: memory stays flat
 * however many records there are.
 */
import type { Sql } from '../db/createSql';
import type { AuditKeys } from './auditKeys';
import { canonicalRecordText, CURRENT_RECORD_FORMAT, GENESIS_HASH, type AccessRecordHashed, type RecordFormat } from './createAccessRecordWriter';
import { isRowHashes, rowSetDigest, splitRowHashes } from './rowSet';

export type ChainProblemKind = 'altered' | 'inserted' | 'deleted';

export interface ChainProblem {
  /** Where the problem is: the record's seq (for 'deleted', the first missing seq). */
  seq: string;
  kind: ChainProblemKind;
  message: string;
}

export interface ChainVerification {
  ok: boolean;
  /** Records read and found in order before the first problem (all of them when ok). */
  checked: number;
  /** The first problem in seq order. */
  problem?: ChainProblem;
}

export interface VerifyOptions {
  /** Records per query (default 2000). */
  pageSize?: number;
}

/** A stored record as read for checking. */
interface StoredRecord {
  seq: bigint;
  /** Null when the stored instant is not a whole millisecond or not finite (never written so). */
  at: Date | null;
  atText: string;
  row: Record<string, unknown>;
  prevHash: string;
  hash: string;
  /** What is wrong with the row set the record names (missing, changed), or null. */
  rowSetProblem: string | null;
}

/** Row sets checked so far (digest → problem or null); cleared when it grows large. */
const MAX_CHECKED_ROW_SETS = 20_000;

/**
 * Verifies the whole chain and reports the first problem:
 * - **altered**: a record's columns no longer give its hash (a field, its seq, its prev_hash or
 *   its hash was changed), the row set it names is missing or no longer gives its digest, or the
 *   head's hash is not the last record's;
 * - **deleted**: a seq is missing (a gap), or the head is ahead of the last record (a missing
 *   tail), or the head row itself is gone;
 * - **inserted**: a record the chain does not link: beyond the head, numbered below 1, a record
 *   skipped by the next one's `prev_hash` (a forged record wedged in, the rest renumbered), or
 *   a record consistent in itself whose `prev_hash` is not the previous record's hash.
 * Without the chain key none of these can be hidden; with it, anything can (see README.md).
 */
export async function verifyAccessChain(sql: Sql, keys: AuditKeys, opts: VerifyOptions = {}): Promise<ChainVerification> {
  const pageSize = opts.pageSize ?? 2000;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
  return sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
    const [head] = await tx<{ seq: string; hash: string }[]>`SELECT seq::text AS seq, hash FROM access_chain_head WHERE id = 1`;
    const headSeq = head ? BigInt(head.seq) : null;

    /** The records in seq order, one page at a time. */
    async function* records(): AsyncGenerator<StoredRecord> {
      // Keyset paging on the primary key (from the smallest bigint, so stray records below 1 show).
      let after = '-9223372036854775808';
      for (;;) {
        const page: Record<string, unknown>[] = await tx.unsafe(
          `SELECT seq::text AS seq, (extract(epoch FROM at) * 1000)::text AS at_ms, at::text AS at_text,
                  request_id, agency, subject, purpose_code, purpose_text, operation_type, operation_name,
                  operation_hash, grant_ids, datasets, fields_returned, fields_denied, masking, row_count,
                  row_key_hashes, subject_hashes, outcome::text AS outcome, error_codes, prev_hash, hash, row_set
             FROM access_record
            WHERE seq > $1::bigint
            ORDER BY access_record.seq -- the column, not the text alias
            LIMIT $2::int`,
          [after, pageSize],
        );
        const problems = await rowSetProblems(page.map((r) => r.row_set as string | null));
        for (const r of page) yield toStored(r, r.row_set ? problems.get(r.row_set as string)! : null);
        if (page.length < pageSize) return;
        after = page[page.length - 1].seq as string;
      }
    }

    /** Each row set named on a page, checked once: its hashes give its digest and its subject hashes. */
    const checkedSets = new Map<string, string | null>();
    async function rowSetProblems(digests: (string | null)[]): Promise<Map<string, string | null>> {
      if (checkedSets.size > MAX_CHECKED_ROW_SETS) checkedSets.clear();
      const wanted = [...new Set(digests.filter((d): d is string => !!d && !checkedSets.has(d)))];
      if (wanted.length) {
        const sets = await tx<{ digest: string; row_hashes: string[]; subject_hashes: string[] }[]>`
          SELECT digest, row_hashes, subject_hashes FROM access_row_set WHERE digest = ANY(${wanted}::text[])`;
        const found = new Map(sets.map((x) => [x.digest, x]));
        for (const d of wanted) {
          const set = found.get(d);
          let problem: string | null = null;
          if (!set) problem = `the row set it names (${d}) is missing from access_row_set`;
          else if (!set.row_hashes.every(isRowHashes) || rowSetDigest(set.row_hashes.join(',')) !== d) {
            // Each row checked alone: rows merged into one element would join to the same text.
            problem = `the row set it names (${d}) was changed: its row hashes no longer give its digest`;
          } else if (!sameStrings(splitRowHashes(set.row_hashes).subjectHashes, set.subject_hashes)) {
            problem = `the row set it names (${d}) was changed: its subject hashes are not those of its row hashes`;
          }
          checkedSets.set(d, problem);
        }
      }
      const out = new Map<string, string | null>();
      for (const d of digests) if (d) out.set(d, checkedSets.get(d)!);
      return out;
    }

    // Records are hashed in one of the canonical formats (createAccessRecordWriter.ts): the one
    // the record before matched is tried first, so a chain costs one hash per record. Only
    // format 3 covers a row set: a record of an older format that names one was changed.
    let format: RecordFormat = CURRENT_RECORD_FORMAT;
    const matchesHash = (r: StoredRecord): boolean => {
      const hashed = hashedFrom(r);
      const fits = (f: RecordFormat) => (f === 3 || hashed.rowSet === null) && keys.chainHash(canonicalRecordText(hashed, f)) === r.hash;
      if (fits(format)) return true;
      for (const f of [3, 2, 1] as const) {
        if (f !== format && fits(f)) {
          format = f;
          return true;
        }
      }
      return false;
    };

    const it = records();
    let next = await it.next();
    let expected = 1n;
    let prevHash = GENESIS_HASH;
    let checked = 0;
    const fail = (seq: bigint, kind: ChainProblemKind, message: string): ChainVerification => ({
      ok: false,
      checked,
      problem: { seq: seq.toString(), kind, message },
    });
    try {
      while (!next.done) {
        const r = next.value;
        if (r.seq < expected) return fail(r.seq, 'inserted', `record ${r.seq} is numbered below 1; the chain starts at 1`);
        if (headSeq !== null && r.seq > headSeq) {
          return fail(r.seq, 'inserted', `record ${r.seq} lies beyond the chain head (seq ${headSeq}): no append wrote it`);
        }
        if (r.seq > expected) {
          const last = r.seq - 1n;
          return fail(expected, 'deleted', `record${last > expected ? `s ${expected} to ${last} are` : ` ${expected} is`} missing: record ${r.seq} follows record ${expected - 1n}`);
        }
        const selfConsistent = r.at !== null && matchesHash(r);
        const linked = r.prevHash === prevHash;
        if (!selfConsistent || !linked) {
          next = await it.next();
          // The next record links past this one: this one was wedged into the chain.
          if (!next.done && next.value.prevHash === prevHash) {
            return fail(r.seq, 'inserted', `record ${r.seq} is not part of the chain: the next record links to record ${r.seq - 1n}`);
          }
          if (!selfConsistent) {
            const why = r.at === null ? `its time ${r.atText} is not one the writer stores` : 'its content no longer matches its hash';
            return fail(r.seq, 'altered', `record ${r.seq} was changed: ${why}`);
          }
          return fail(r.seq, 'inserted', `record ${r.seq} does not link to record ${r.seq - 1n}: its prev_hash is not that record's hash`);
        }
        if (r.rowSetProblem !== null) return fail(r.seq, 'altered', `record ${r.seq}: ${r.rowSetProblem}`);
        checked++;
        prevHash = r.hash;
        expected = r.seq + 1n;
        next = await it.next();
      }
    } finally {
      await it.return(undefined);
    }

    const lastSeq = expected - 1n;
    if (headSeq === null) return fail(expected, 'deleted', 'the chain head (access_chain_head id = 1) is missing');
    if (headSeq > lastSeq) {
      return fail(
        expected,
        'deleted',
        `the chain head is at record ${headSeq} but the last record is ${lastSeq}: record${headSeq > expected ? `s ${expected} to ${headSeq} are` : ` ${expected} is`} missing`,
      );
    }
    if (head!.hash !== prevHash) {
      return fail(lastSeq, 'altered', `the chain head's hash is not the hash of record ${lastSeq} (access_chain_head was changed)`);
    }
    return { ok: true, checked };
  });
}

/** Element by element: a joined comparison would not see two elements merged into one. */
function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function toStored(r: Record<string, unknown>, rowSetProblem: string | null): StoredRecord {
  // `at` is written as whole milliseconds; extract(epoch) is exact numeric text, e.g. "1795780800123.000000".
  const ms = /^(-?\d+)(?:\.0*)?$/.exec(String(r.at_ms));
  return {
    seq: BigInt(r.seq as string),
    at: ms ? new Date(Number(ms[1])) : null,
    atText: String(r.at_text),
    row: r,
    prevHash: r.prev_hash as string,
    hash: r.hash as string,
    rowSetProblem,
  };
}

/** The stored columns in the shape the writer hashed. */
function hashedFrom(s: StoredRecord): AccessRecordHashed {
  const r = s.row;
  return {
    seq: s.seq,
    at: s.at!,
    requestId: r.request_id as string,
    agency: r.agency as string,
    subject: r.subject as string,
    purposeCode: r.purpose_code as string | null,
    purposeText: r.purpose_text as string | null,
    operationType: r.operation_type as string | null,
    operationName: r.operation_name as string | null,
    operationHash: r.operation_hash as string,
    grantIds: r.grant_ids as number[],
    datasets: r.datasets as string[],
    fieldsReturned: r.fields_returned as string[],
    fieldsDenied: r.fields_denied as string[],
    masking: r.masking as Record<string, string>,
    rowCount: r.row_count as number,
    rowKeyHashes: r.row_key_hashes as string[],
    subjectHashes: r.subject_hashes as string[],
    rowSet: (r.row_set as string | null) ?? null,
    outcome: r.outcome as AccessRecordHashed['outcome'],
    errorCodes: r.error_codes as string[],
    prevHash: s.prevHash,
  };
}
