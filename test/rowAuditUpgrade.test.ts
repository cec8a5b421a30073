/**
 * Upgrading a database whose row tables predate the stored keyed hashes (`_audit_kid`,
 * `_audit_hashes`; README "Access record"): the migration adds the columns to every row table,
 * so a gateway started on an unchanged catalog (which does not touch the row tables) serves its
 * reads, computing the hashes of the rows delivered before.
 */
import { createAuditKeys } from '../src/audit/auditKeys';
import { decodeKey } from '../src/config/GatewayConfig';
import { enterprises } from '../src/demo/syntheticData';
import { createTestDatabase, type TestDatabase } from '../src/__testUtils__/testDatabase';
import { asAgency, startTestGateway, TEST_AUDIT_KEY } from '../src/__testUtils__/testGateway';

jest.setTimeout(60_000);

const ENTERPRISE = '3.44.13.002/00000001';
const MIGRATION = '20261127235500_row_audit_hashes';
const keys = createAuditKeys(decodeKey(TEST_AUDIT_KEY)!);
const ROWS = [...enterprises(5, 21)];

let db: TestDatabase & { drop(): Promise<void> };

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

it('a gateway started on row tables without the stored hashes migrates them and reads as before', async () => {
  const first = await startTestGateway(db.url, { DEMO_LOAD: 'false' });
  try {
    const d = await first.graphql<{ deliverRows: { status: string } }>(
      `mutation($d: String!, $rows: [JSONObject!]!) { deliverRows(dataset: $d, rows: $rows) { status } }`,
      { d: ENTERPRISE, rows: ROWS },
      asAgency('HZ-SCJGJ'),
    );
    expect(d.body.data?.deliverRows.status).toBe('ACCEPTED');
  } finally {
    await first.stop();
  }
  // The state before this version: no such columns, the migration not applied.
  const tables = await db.sql<{ t: string }[]>`SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname = 'ds'`;
  expect(tables.length).toBeGreaterThan(1);
  for (const { t } of tables) await db.sql.unsafe(`ALTER TABLE ${t} DROP COLUMN _audit_kid, DROP COLUMN _audit_hashes`);
  await db.sql`DELETE FROM "_prisma_migrations" WHERE migration_name = ${MIGRATION}`;

  const gw = await startTestGateway(db.url, { DEMO_LOAD: 'false' });
  try {
    const e = ROWS[2];
    const r = await gw.graphql<{ enterprise: { name: string } }>(`query($k: String!) { enterprise(uscc: $k) { name } }`, { k: e.uscc }, asAgency('HZ-SCJGJ'));
    expect(r.body).toEqual({ data: { enterprise: { name: e.name } } });
    const [rec] = await db.sql`SELECT row_key_hashes, subject_hashes FROM access_record ORDER BY seq DESC LIMIT 1`;
    expect(rec.row_key_hashes).toEqual([keys.dataHash(`${ENTERPRISE}\u001f${e.uscc}`)]);
    expect(rec.subject_hashes).toEqual([keys.subjectHash(e.uscc), keys.subjectHash(e.legalRepIdNumber)].sort());
    const [m] = await db.sql`SELECT count(*)::int AS n FROM "_prisma_migrations" WHERE migration_name = ${MIGRATION} AND finished_at IS NOT NULL`;
    expect(m.n).toBe(1);
    expect(await db.sql`SELECT count(*)::int AS n FROM ds.enterprise WHERE _audit_kid IS NULL`).toEqual([{ n: ROWS.length }]);
  } finally {
    await gw.stop();
  }
});
