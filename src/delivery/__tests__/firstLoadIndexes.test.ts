import { useTestDatabase } from '../../__testUtils__/testDatabase';
import { deliverRecords, type DeliveryMeta, type DeliveryTarget } from '../deliverRows';
import { licence, licences, resetLicences, setUpLicenceDataset } from './deliveryFixture';

const meta: DeliveryMeta = { deliveredBy: 'HZ-SCJGJ/alice', channel: 'GRAPHQL' };
const opts = { maxReportedProblems: 50 };

/** The first load of an empty dataset builds its secondary indexes at the end. */
describe('first load into an empty dataset', () => {
  const db = useTestDatabase();
  let target: DeliveryTarget;
  const indexes = async () =>
    (await db.sql<{ def: string }[]>`SELECT pg_get_indexdef(indexrelid) AS def FROM pg_index WHERE indrelid = 'ds.test_licence'::regclass ORDER BY 1`).map((r) => r.def);
  let before: string[];

  beforeAll(async () => {
    target = await setUpLicenceDataset(db.sql);
    before = await indexes();
    expect(before.length).toBeGreaterThan(1);
  });
  beforeEach(() => resetLicences(db.sql, target));

  it('leaves the same indexes after an accepted first load, and they serve lookups', async () => {
    expect((await deliverRecords(db.sql, target, meta, licences(0, 500), opts)).status).toBe('ACCEPTED');
    expect(await indexes()).toEqual(before);
    const district = licence(3).district;
    const plan = await db.sql.unsafe(`EXPLAIN SELECT * FROM ds.test_licence WHERE district = $1 ORDER BY uscc LIMIT 5`, [district]);
    expect(JSON.stringify(plan)).toMatch(/Index/);
  });

  it('keeps every index when a first load is rejected for a repeated key', async () => {
    const rows = [...licences(0, 300), licence(5)];
    const result = await deliverRecords(db.sql, target, meta, rows, opts);
    expect(result.status).toBe('REJECTED');
    expect(await indexes()).toEqual(before);
    const [{ n }] = await db.sql`SELECT count(*)::int AS n FROM ds.test_licence`;
    expect(n).toBe(0);
  });
});
