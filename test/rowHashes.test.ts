/**
 * The access record's keyed hashes of each row are computed once, when the row is delivered,
 * and stored with it (src/db/rowTables.ts ROW_HASHES_COLUMN). Whatever the stored state — fresh,
 * written under another key, from before the column existed, or changed by a later delivery —
 * every record holds the hashes of the row as it is read, under the reading gateway's key.
 * Real PostgreSQL, two gateway processes with different keys, over HTTP.
 */
import { createAuditKeys } from '../src/audit/auditKeys';
import { decodeKey } from '../src/config/GatewayConfig';
import { createTestDatabase, type TestDatabase } from '../src/__testUtils__/testDatabase';
import { asAgency, startTestGateway, TEST_AUDIT_KEY, type TestGateway } from '../src/__testUtils__/testGateway';
import { enterprises, type EnterpriseRow } from '../src/demo/syntheticData';

jest.setTimeout(60_000);

const CODE = '3.44.13.002/00000001';
const OTHER_KEY = 'b2'.repeat(32);
const keysA = createAuditKeys(decodeKey(TEST_AUDIT_KEY)!);
const keysB = createAuditKeys(decodeKey(OTHER_KEY)!);
const SOURCE = asAgency('HZ-SCJGJ', 'consumer', 'registry-maintenance');
const ROWS = [...enterprises(6, 23)];

let db: TestDatabase & { drop(): Promise<void> };
let a: TestGateway;
let b: TestGateway;

beforeAll(async () => {
  db = await createTestDatabase();
  a = await startTestGateway(db.url);
  b = await startTestGateway(db.url, { AUDIT_HASH_KEY: OTHER_KEY, CATALOG_LOAD_ON_START: 'false' });
  await deliver(ROWS);
});

afterAll(async () => {
  await b?.stop();
  await a?.stop();
  await db?.drop();
});

async function deliver(rows: EnterpriseRow[]): Promise<void> {
  const r = await a.graphql<{ deliverRows: { status: string } }>(
    `mutation($d: String!, $rows: [JSONObject!]!) { deliverRows(dataset: $d, rows: $rows) { status } }`,
    { d: CODE, rows },
    asAgency('HZ-SCJGJ'),
  );
  expect(r.body.data?.deliverRows.status).toBe('ACCEPTED');
}

/** Reads the rows through `gw` and returns the access record it wrote. */
async function readAndRecord(gw: TestGateway, usccs: string[]): Promise<{ row_key_hashes: string[]; subject_hashes: string[] }> {
  const r = await gw.graphql(`query($k: [String!]!) { enterprises(filter: { uscc: { in: $k } }, first: 50) { nodes { uscc name } } }`, { k: usccs }, SOURCE);
  expect(r.body.errors).toBeUndefined();
  const [rec] = await db.sql<{ row_key_hashes: string[]; subject_hashes: string[] }[]>`
    SELECT row_key_hashes, subject_hashes FROM access_record WHERE request_id = ${r.headers.get('x-request-id')!}`;
  expect(rec).toBeDefined();
  return rec;
}

function expected(keys: typeof keysA, rows: EnterpriseRow[]) {
  const sorted = [...rows].sort((x, y) => (x.uscc < y.uscc ? -1 : 1));
  return {
    row_key_hashes: sorted.map((e) => keys.dataHash(`${CODE}\u001f${e.uscc}`)),
    subject_hashes: [...new Set(sorted.flatMap((e) => [keys.subjectHash(e.uscc), keys.subjectHash(e.legalRepIdNumber)]))].sort(),
  };
}

describe('precomputed row hashes', () => {
  it('are stored by the delivery: fingerprint, then the key hash and each subject hash', async () => {
    const e = ROWS[0];
    const [row] = await db.sql<{ h: Buffer }[]>`SELECT _audit_hashes AS h FROM ds.enterprise WHERE uscc = ${e.uscc}`;
    expect(row.h).toHaveLength(4 + 3 * 16);
    expect(row.h.subarray(4).toString('hex')).toBe(keysA.dataHash(`${CODE}\u001f${e.uscc}`) + keysA.subjectHash(e.uscc) + keysA.subjectHash(e.legalRepIdNumber));
  });

  it('are what the record holds when read under the same key', async () => {
    expect(await readAndRecord(a, ROWS.map((e) => e.uscc))).toEqual(expected(keysA, ROWS));
  });

  it('are not used by a gateway with another key: it hashes the rows itself, under its own key', async () => {
    expect(await readAndRecord(b, ROWS.map((e) => e.uscc))).toEqual(expected(keysB, ROWS));
  });

  it('are computed when read for rows stored without them (delivered before the column existed)', async () => {
    await db.sql`UPDATE ds.enterprise SET _audit_hashes = NULL WHERE uscc = ${ROWS[1].uscc}`;
    expect(await readAndRecord(a, [ROWS[1].uscc, ROWS[2].uscc])).toEqual(expected(keysA, [ROWS[1], ROWS[2]]));
  });

  it('follow a later delivery that changes a data-subject identifier', async () => {
    const changed = { ...ROWS[3], legalRepIdNumber: ROWS[4].legalRepIdNumber };
    await deliver([changed]);
    const rec = await readAndRecord(a, [changed.uscc]);
    expect(rec).toEqual(expected(keysA, [changed]));
    expect(rec.subject_hashes).not.toContain(keysA.subjectHash(ROWS[3].legalRepIdNumber));
  });
});
