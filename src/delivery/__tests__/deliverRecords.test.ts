import { createHash } from 'node:crypto';
import { useTestDatabase } from '../../__testUtils__/testDatabase';
import { canonicalJson, deliverRecords, type DeliveryMeta, type DeliveryTarget } from '../deliverRows';
import {
  breakCheckChar,
  licence,
  licences,
  resetLicences,
  rowCount,
  setUpLicenceDataset,
  tableSnapshot,
  type LicenceRecord,
} from './deliveryFixture';

const meta: DeliveryMeta = { deliveredBy: 'HZ-SCJGJ/alice', requestId: 'req-1', channel: 'GRAPHQL' };
const opts = { maxReportedProblems: 50 };

describe('deliverRecords', () => {
  const db = useTestDatabase();
  let target: DeliveryTarget;

  beforeAll(async () => {
    target = await setUpLicenceDataset(db.sql);
  });
  beforeEach(async () => {
    await resetLicences(db.sql, target);
  });

  it('inserts a valid delivery, records it and marks the dataset delivered', async () => {
    const records = licences(0, 200);
    const result = await deliverRecords(db.sql, target, meta, records, opts);

    expect(result).toMatchObject({ status: 'ACCEPTED', rowCount: 200, inserted: 200, updated: 0, problemCount: 0, problems: [] });
    const expected = createHash('sha256').update(records.map((r) => `${canonicalJson(r)}\n`).join('')).digest('hex');
    expect(result.checksum).toBe(expected);

    const [row] = await db.sql`SELECT * FROM ds.test_licence WHERE uscc = ${licence(7).uscc}`;
    expect(row).toMatchObject({
      name: licence(7).name,
      holder_id_number: licence(7).holderIdNumber,
      staff_count: licence(7).staffCount,
      score: 7 / 8,
      capital: licence(7).capital,
      active: false,
      issued_on: licence(7).issuedOn,
      district: licence(7).district,
      _delivery_id: Number(result.deliveryId),
    });
    const [delivery] = await db.sql`SELECT * FROM delivery WHERE id = ${result.deliveryId}`;
    expect(delivery).toMatchObject({
      dataset_id: target.datasetId,
      department_id: target.departmentId,
      delivered_by: 'HZ-SCJGJ/alice',
      channel: 'GRAPHQL',
      status: 'ACCEPTED',
      row_count: 200,
      inserted_count: 200,
      updated_count: 0,
      checksum: expected,
      problems: null,
      request_id: 'req-1',
    });
    const [ds] = await db.sql`SELECT last_delivered_at = ${delivery.finished_at}::timestamptz AS same FROM dataset WHERE id = ${target.datasetId}`;
    expect(ds.same).toBe(true);
  });

  it('updates by key on a second delivery and counts inserted and updated rows', async () => {
    await deliverRecords(db.sql, target, meta, licences(0, 100), opts);
    const second = await deliverRecords(db.sql, target, meta, licences(50, 100, 2), opts);

    expect(second).toMatchObject({ status: 'ACCEPTED', rowCount: 100, inserted: 50, updated: 50 });
    expect(await rowCount(db.sql)).toBe(150);
    const rows = await db.sql<{ uscc: string; name: string; _delivery_id: number }[]>`
      SELECT uscc, name, _delivery_id FROM ds.test_licence WHERE uscc IN ${db.sql([licence(10).uscc, licence(60).uscc, licence(120).uscc])}`;
    const byKey = new Map(rows.map((r) => [r.uscc, r]));
    expect(byKey.get(licence(10).uscc)!.name).toBe(licence(10, 1).name);
    expect(byKey.get(licence(60).uscc)).toMatchObject({ name: licence(60, 2).name, _delivery_id: Number(second.deliveryId) });
    expect(byKey.get(licence(120).uscc)).toMatchObject({ name: licence(120, 2).name, _delivery_id: Number(second.deliveryId) });
  });

  it('reads typed JSON values and CSV-like strings alike', async () => {
    const record = { ...licence(1), staffCount: '42', score: '1.5e3', active: 'true', capital: 12.25, holderIdNumber: null, district: '' };
    const result = await deliverRecords(db.sql, target, meta, [record], opts);
    expect(result.status).toBe('ACCEPTED');
    const [row] = await db.sql`SELECT staff_count, score, active, capital, holder_id_number, district FROM ds.test_licence`;
    expect(row).toEqual({ staff_count: 42, score: 1500, active: true, capital: '12.25', holder_id_number: null, district: null });
  });

  describe('rejects a delivery with one bad row among many and leaves the dataset exactly as it was', () => {
    const bad: [string, (r: LicenceRecord) => LicenceRecord, string, string][] = [
      ['a wrong type', (r) => ({ ...r, issuedOn: '2024-02-30' }), 'issuedOn', 'expected a real calendar date YYYY-MM-DD'],
      ['a missing required value', (r) => ({ ...r, name: null }), 'name', 'required value missing'],
      ['a failed ID-number checksum', (r) => ({ ...r, holderIdNumber: breakCheckChar(String(r.holderIdNumber)) }), 'holderIdNumber', 'ID number check digit'],
      ['a failed credit-code checksum', (r) => ({ ...r, uscc: breakCheckChar(String(r.uscc)) }), 'uscc', 'credit code check character'],
      ['an integer out of range', (r) => ({ ...r, staffCount: 2 ** 31 }), 'staffCount', 'integer out of the 32-bit range'],
      ['an unknown field', (r) => ({ ...r, nickname: 'x' }), 'nickname', 'unknown field'],
    ];

    it.each(bad)('%s', async (_kind, spoil, fieldName, reason) => {
      await deliverRecords(db.sql, target, meta, licences(0, 300), opts);
      const before = await tableSnapshot(db.sql);
      const records = licences(100, 300, 2);
      const original = records[136];
      records[136] = spoil(original);

      const result = await deliverRecords(db.sql, target, meta, records, opts);

      expect(result).toMatchObject({ status: 'REJECTED', rowCount: 300, inserted: 0, updated: 0, problemCount: 1 });
      expect(result.problems).toEqual([{ row: 137, field: fieldName, reason: expect.stringContaining(reason) }]);
      const spoilt = Object.values(records[136])
        .filter((v) => v !== null && !Object.values(original).includes(v))
        .map(String)
        .filter((v) => v.length > 1);
      for (const value of spoilt) expect(result.problems[0].reason).not.toContain(value);
      expect(await tableSnapshot(db.sql)).toEqual(before);
      const [delivery] = await db.sql`SELECT status, row_count, inserted_count, problems FROM delivery WHERE id = ${result.deliveryId}`;
      expect(delivery).toMatchObject({ status: 'REJECTED', row_count: 300, inserted_count: 0, problems: result.problems });
      const [ds] = await db.sql`SELECT last_delivered_at < now() AS earlier FROM dataset WHERE id = ${target.datasetId}`;
      expect(ds.earlier).toBe(true);
    });

    it('a key repeated within the delivery (new table)', async () => {
      const records = licences(0, 300);
      records[200] = licence(17, 3);
      const result = await deliverRecords(db.sql, target, meta, records, opts);
      expect(result).toMatchObject({ status: 'REJECTED', problemCount: 1 });
      expect(result.problems).toEqual([{ row: 201, field: 'uscc', reason: 'duplicate key: row 18 has the same key' }]);
      expect(await rowCount(db.sql)).toBe(0);
    });

    it('a key repeated within the delivery (table with rows)', async () => {
      await deliverRecords(db.sql, target, meta, licences(0, 300), opts);
      const before = await tableSnapshot(db.sql);
      const records = licences(0, 300, 2);
      records[250] = licence(3, 4);
      records[251] = licence(3, 5);
      const result = await deliverRecords(db.sql, target, meta, records, opts);
      expect(result).toMatchObject({ status: 'REJECTED', problemCount: 2 });
      expect(result.problems.map((p) => [p.row, p.reason])).toEqual([
        [251, 'duplicate key: row 4 has the same key'],
        [252, 'duplicate key: row 4 has the same key'],
      ]);
      expect(await tableSnapshot(db.sql)).toEqual(before);
    });
  });

  it.each([
    ['an empty table', false],
    ['a table with rows', true],
  ])('finds a key repeated across staging batches into %s', async (_label, prefill) => {
    if (prefill) await deliverRecords(db.sql, target, meta, licences(0, 10), opts);
    const before = await tableSnapshot(db.sql);
    const records = licences(0, 60_000);
    records[55_000] = licence(5, 2);
    const result = await deliverRecords(db.sql, target, meta, records, opts);
    expect(result).toMatchObject({ status: 'REJECTED', rowCount: 60_000, problemCount: 1 });
    expect(result.problems).toEqual([{ row: 55_001, field: 'uscc', reason: 'duplicate key: row 6 has the same key' }]);
    expect(await tableSnapshot(db.sql)).toEqual(before);
  });

  it('rejects an empty delivery', async () => {
    const result = await deliverRecords(db.sql, target, meta, [], opts);
    expect(result).toMatchObject({ status: 'REJECTED', rowCount: 0, problemCount: 1, problems: [{ row: 0, reason: 'the delivery has no data rows' }] });
  });

  it('counts every problem but reports only the first maxReportedProblems', async () => {
    const records = licences(0, 20).map((r, i) => (i % 4 === 0 ? { ...r, staffCount: 'many' } : r));
    const result = await deliverRecords(db.sql, target, meta, records, { maxReportedProblems: 2 });
    expect(result.problemCount).toBe(5);
    expect(result.problems.map((p) => p.row)).toEqual([1, 5]);
    const [delivery] = await db.sql`SELECT problems FROM delivery WHERE id = ${result.deliveryId}`;
    expect(delivery.problems).toHaveLength(2);
  });

  it('rolls everything back and rethrows when the input fails half-way', async () => {
    await deliverRecords(db.sql, target, meta, licences(0, 10), opts);
    const before = await tableSnapshot(db.sql);
    async function* failing(): AsyncGenerator<LicenceRecord> {
      yield* licences(100, 55_000);
      throw new Error('source went away');
    }
    await expect(deliverRecords(db.sql, target, meta, failing(), opts)).rejects.toThrow('source went away');
    expect(await tableSnapshot(db.sql)).toEqual(before);
    const [{ n }] = await db.sql`SELECT count(*)::int AS n FROM delivery`;
    expect(n).toBe(1);
  });

  // postgres.js 3.4.9 crashes the process when a transaction's connection closes while its
  // callback runs: its own ROLLBACK is written to the closed socket from a setImmediate
  // (porsager/postgres#1208, fixes proposed in #1209 and #1215). Unskip once that is fixed.
  it.skip('rolls everything back and rethrows when the database connection is lost', async () => {
    await deliverRecords(db.sql, target, meta, licences(0, 10), opts);
    const before = await tableSnapshot(db.sql);
    let resume: () => void = () => {};
    const paused = new Promise<void>((resolve) => (resume = resolve));
    let reachedPause: () => void = () => {};
    const atPause = new Promise<void>((resolve) => (reachedPause = resolve));
    async function* slow(): AsyncGenerator<LicenceRecord> {
      yield* licences(100, 55_000);
      reachedPause();
      await paused;
      yield* licences(60_000, 10);
    }
    const delivery = deliverRecords(db.sql, target, meta, slow(), opts);
    delivery.catch(() => {});
    await atPause;
    // The first batch is being staged or written; cut the delivery's connection.
    for (let killed = 0; killed === 0; ) {
      const rows = await db.sql`
        SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle' AND query ILIKE '%delivery%'`;
      killed = rows.length;
    }
    resume();
    await expect(delivery).rejects.toThrow();
    expect(await tableSnapshot(db.sql)).toEqual(before);
    const [{ n }] = await db.sql`SELECT count(*)::int AS n FROM delivery`;
    expect(n).toBe(1);
  });

  it('serialises two concurrent deliveries of one dataset, both complete and consistent', async () => {
    const a = licences(0, 3000, 2);
    const b = licences(2000, 3000, 3);
    const [ra, rb] = await Promise.all([
      deliverRecords(db.sql, target, { ...meta, requestId: 'a' }, a, opts),
      deliverRecords(db.sql, target, { ...meta, requestId: 'b' }, b, opts),
    ]);
    expect([ra.status, rb.status]).toEqual(['ACCEPTED', 'ACCEPTED']);
    expect(await rowCount(db.sql)).toBe(5000);
    const order = await db.sql<{ id: string }[]>`SELECT id::text AS id FROM delivery ORDER BY finished_at`;
    const [earlier, later] = order[0].id === ra.deliveryId ? [ra, rb] : [rb, ra];
    expect(earlier).toMatchObject({ inserted: 3000, updated: 0 });
    expect(later).toMatchObject({ inserted: 2000, updated: 1000 });
    // The 1,000 shared keys carry the values of the delivery that committed last.
    const laterVersion = later === ra ? 2 : 3;
    const [shared] = await db.sql<{ name: string }[]>`SELECT name FROM ds.test_licence WHERE uscc = ${licence(2500).uscc}`;
    expect(shared.name).toBe(licence(2500, laterVersion).name);
  });
});
