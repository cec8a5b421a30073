/**
 * What one request did with data, collected while it runs and turned into its access record
 * (AccessRecordInput) before the response leaves. Holds hashes and names, never values.
 */
import type { AccessOutcome, AccessRecordInput } from './AccessRecord';
import { ROW_SET_MIN_ROWS, rowSetDigest, splitRowHashes } from './rowSet';

/**
 * The names a compiled plan reads (datasets, grants, fields returned and refused, masking), sorted
 * and frozen once per plan: a request that reads through one plan, the usual case, takes them into
 * its record as they are, without collecting and sorting them again.
 */
export interface PlanNotes {
  readonly datasets: readonly string[];
  readonly grantIds: readonly number[];
  readonly fieldsReturned: readonly string[];
  readonly fieldsDenied: readonly string[];
  readonly masking: Readonly<Record<string, string>>;
}

export class AccessAudit {
  readonly datasets = new Set<string>();
  readonly grantIds = new Set<number>();
  readonly fieldsReturned = new Set<string>();
  readonly fieldsDenied = new Set<string>();
  readonly masking = new Map<string, string>();
  /**
   * Each returned row's keyed hashes, in the order returned, as the data statement gives them:
   * its key's hash, then its data-subject identifiers' hashes (compileQuery.ts auditHashes).
   */
  readonly rowHashes: string[] = [];
  rowCount = 0;
  /** Datasets refused as a whole (no grant, no purpose). */
  readonly datasetsDenied = new Set<string>();

  /** The first plan noted; a different second one is merged into the sets above. */
  private plan: PlanNotes | null = null;

  static fieldKey(datasetCode: string, field: string): string {
    return `${datasetCode}#${field}`;
  }

  /** Notes what a plan reads (the same plan twice adds nothing). */
  notePlan(notes: PlanNotes): void {
    if (this.plan === notes) return;
    if (this.plan === null) this.plan = notes;
    else this.merge(notes);
  }

  private merge(n: PlanNotes): void {
    for (const d of n.datasets) this.datasets.add(d);
    for (const g of n.grantIds) this.grantIds.add(g);
    for (const f of n.fieldsReturned) this.fieldsReturned.add(f);
    for (const f of n.fieldsDenied) this.fieldsDenied.add(f);
    for (const [k, rule] of Object.entries(n.masking)) this.masking.set(k, rule);
  }

  outcome(errorCodes: readonly string[]): AccessOutcome {
    const other = errorCodes.some((c) => c !== 'FORBIDDEN');
    if (other) return 'FAILED';
    const plan = this.plan;
    const denied = this.fieldsDenied.size > 0 || (plan !== null && plan.fieldsDenied.length > 0) || this.datasetsDenied.size > 0 || errorCodes.includes('FORBIDDEN');
    if (!denied) return 'OK';
    return this.fieldsReturned.size > 0 || (plan !== null && plan.fieldsReturned.length > 0) ? 'PARTIAL' : 'DENIED';
  }

  /**
   * What `collect` notes into a fresh audit, sorted and frozen: a plan's notes, made once per
   * plan and shared by every record that reads through it (records are read, never changed).
   */
  static planNotes(collect: (audit: AccessAudit) => void): PlanNotes {
    const a = new AccessAudit();
    collect(a);
    const n = a.sortedNames();
    Object.freeze(n.datasets);
    Object.freeze(n.grantIds);
    Object.freeze(n.fieldsReturned);
    Object.freeze(n.fieldsDenied);
    Object.freeze(n.masking);
    return Object.freeze(n);
  }

  /** The names collected in the sets, sorted as the record keeps them. */
  private sortedNames(): { datasets: string[]; grantIds: number[]; fieldsReturned: string[]; fieldsDenied: string[]; masking: Record<string, string> } {
    return {
      datasets: [...this.datasets].sort(),
      grantIds: [...this.grantIds].sort((x, y) => x - y),
      fieldsReturned: [...this.fieldsReturned].sort(),
      fieldsDenied: [...this.fieldsDenied].sort(),
      masking: Object.fromEntries([...this.masking].sort(([x], [y]) => (x < y ? -1 : 1))),
    };
  }

  /**
   * The record: `base` and what was collected. A request that read through one plan and noted
   * nothing else takes the plan's notes as they are; otherwise they are merged into the sets.
   * The rows' hashes go into the record itself when there are few (ROW_SET_MIN_ROWS), else into
   * a row set that the record names by its digest (rowSet.ts).
   * One object literal naming every property: an object given its ~20 properties by
   * Object.assign (or a spread followed by more properties) ends in V8's dictionary mode (Node 20),
   * which made every later read of it slower and a copy of it ~5-8 µs (the writer copies a record
   * whose row set is already stored); the literal costs well under 1 µs.
   */
  toRecord(
    base: Omit<AccessRecordInput, 'grantIds' | 'datasets' | 'fieldsReturned' | 'fieldsDenied' | 'masking' | 'rowCount' | 'rowKeyHashes' | 'subjectHashes' | 'rowSet' | 'rowSetHashes' | 'outcome'>,
  ): AccessRecordInput {
    const plan = this.plan;
    const alone = this.datasets.size === 0 && this.grantIds.size === 0 && this.fieldsReturned.size === 0 && this.fieldsDenied.size === 0 && this.masking.size === 0;
    if (plan !== null && !alone) this.merge(plan);
    const names = plan !== null && alone ? plan : this.sortedNames();
    let rowKeyHashes: string[] = [];
    let subjectHashes: string[] = [];
    let rowSet: string | null = null;
    let rowSetHashes: string | undefined;
    if (this.rowHashes.length > ROW_SET_MIN_ROWS) {
      rowSetHashes = this.rowHashes.join(',');
      rowSet = rowSetDigest(rowSetHashes);
    } else {
      ({ rowKeyHashes, subjectHashes } = splitRowHashes(this.rowHashes));
    }
    return {
      at: base.at,
      requestId: base.requestId,
      agency: base.agency,
      subject: base.subject,
      purposeCode: base.purposeCode,
      purposeText: base.purposeText,
      operationType: base.operationType,
      operationName: base.operationName,
      operationHash: base.operationHash,
      grantIds: names.grantIds as number[],
      datasets: names.datasets as string[],
      fieldsReturned: names.fieldsReturned as string[],
      fieldsDenied: names.fieldsDenied as string[],
      masking: names.masking as Record<string, string>,
      rowCount: this.rowCount,
      rowKeyHashes,
      subjectHashes,
      rowSet,
      rowSetHashes,
      outcome: this.outcome(base.errorCodes),
      errorCodes: base.errorCodes,
    };
  }
}
