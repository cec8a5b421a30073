/**
 * 使用记录 (R7): what one operation did, as appended to the access record. Holds no data
 * value: row keys and data-subject identifiers appear only as keyed hashes (auditKeys.ts).
 */
export type AccessOutcome = 'OK' | 'PARTIAL' | 'DENIED' | 'FAILED';

export interface AccessRecordInput {
  at: Date;
  requestId: string;
  agency: string;
  subject: string;
  purposeCode: string | null;
  purposeText: string | null;
  /** query / mutation / subscription / upload; null when the request did not parse. */
  operationType: string | null;
  operationName: string | null;
  operationHash: string;
  grantIds: number[];
  /** Resource codes of the datasets asked for. */
  datasets: string[];
  /** `<resource code>#<field>` returned. */
  fieldsReturned: string[];
  /** `<resource code>#<field>` asked for and refused. */
  fieldsDenied: string[];
  /** `<resource code>#<field>` → mask rule applied to the returned values. */
  masking: Record<string, string>;
  rowCount: number;
  /** Keyed hash of each returned row's key, in the order returned; empty when `rowSet` is given. */
  rowKeyHashes: string[];
  /** Keyed hashes of the returned rows' data-subject identifiers, distinct and sorted; empty when `rowSet` is given. */
  subjectHashes: string[];
  /**
   * When the operation returned more than ROW_SET_MIN_ROWS rows: the digest of the row set
   * (`access_row_set`) holding their hashes, which the chain hash covers (format 3); else null.
   */
  rowSet: string | null;
  /**
   * The row set's `row_hashes` joined with ",", for the writer to store the set when it is new.
   * Not part of the record (the digest stands for it); required with `rowSet`.
   */
  rowSetHashes?: string;
  outcome: AccessOutcome;
  errorCodes: string[];
}

/** A stored record: the input plus its place in the chain. */
export interface AccessRecordRow extends AccessRecordInput {
  seq: bigint;
  prevHash: string;
  hash: string;
}

/** Appends records to the chain; shared by all requests of a process. */
export interface AccessRecordWriter {
  /** Resolves once the record is committed; rejects when it could not be written. */
  append(record: AccessRecordInput): Promise<void>;
  /** Writes what is queued, then refuses further appends. */
  close(): Promise<void>;
}
