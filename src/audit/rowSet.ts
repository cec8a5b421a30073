/**
 * Row sets: the keyed hashes of the rows one operation returned, when it returned many, kept in
 * `access_row_set` once per distinct set and named in the access record by their digest (the
 * record's chain hash covers the digest, the digest covers the hashes). A page of 50 enterprises
 * with their licences carries ~200 rows and ~300 hashes (~10 KB of hex); read again, the same page
 * costs its record 64 hex digits. README "Access record" and bench/README.md give the figures.
 */
import { createHash } from 'node:crypto';
import { DATA_HASH_BYTES } from './auditKeys';

/** Records of more rows than this keep their hashes in a row set; fewer, in the record itself. */
export const ROW_SET_MIN_ROWS = 8;

/** Hex digits of one data hash. */
export const HASH_HEX = 2 * DATA_HASH_BYTES;

const DIGEST_TAG = 'hz-row-set/1\n';

/**
 * The digest of a row set given as its rows' hashes joined with "," (each row: its key's hash,
 * then its data-subject identifiers' hashes, HASH_HEX hex digits each): SHA-256, hex, over
 * "hz-row-set/1\n" and that text. PostgreSQL stores the rows as `string_to_array(text, ',')`.
 */
export function rowSetDigest(joinedRowHashes: string): string {
  return createHash('sha256').update(DIGEST_TAG).update(joinedRowHashes, 'utf8').digest('hex');
}

/** The pattern of one row's hashes. */
const RUNS = `(?:[0-9a-f]{${HASH_HEX}})+`;
const ROW_RUN = new RegExp(`^${RUNS}$`);
const JOINED_ROWS = new RegExp(`^${RUNS}(?:,${RUNS})*$`);

/** A row's hashes: one or more runs of HASH_HEX lower-case hex digits. */
export function isRowHashes(row: string): boolean {
  return ROW_RUN.test(row);
}

/** Rows' hashes joined with ",": each row one or more runs of HASH_HEX hex digits. */
export function isRowHashText(joined: string): boolean {
  return JOINED_ROWS.test(joined);
}

/**
 * The record's own columns for rows' hashes: each row's key hash in order, and the distinct
 * subject hashes sorted (by UTF-16 code units, as PostgreSQL's "C" collation sorts hex digits).
 */
export function splitRowHashes(rows: readonly string[]): { rowKeyHashes: string[]; subjectHashes: string[] } {
  const rowKeyHashes: string[] = [];
  const subjects = new Set<string>();
  for (const h of rows) {
    rowKeyHashes.push(h.slice(0, HASH_HEX));
    for (let i = HASH_HEX; i < h.length; i += HASH_HEX) subjects.add(h.slice(i, i + HASH_HEX));
  }
  return { rowKeyHashes, subjectHashes: [...subjects].sort() };
}
