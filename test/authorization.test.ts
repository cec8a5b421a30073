/**
 * Field-level, purpose-bound authorization end to end (issue 3, items 2–5), over real HTTP
 * with real signed tokens against a real PostgreSQL: grants by sharing class, row
 * restrictions, masking, expiry and revocation (also seen by a second gateway process), the
 * SQL that ran, and the access record of every operation.
 */
import { createAuditKeys } from '../src/audit/auditKeys';
import { ROW_SET_MIN_ROWS, rowSetDigest } from '../src/audit/rowSet';
import { verifyAccessChain } from '../src/audit/verifyAccessChain';
import { decodeKey } from '../src/config/GatewayConfig';
import { eventually } from '../src/__testUtils__/eventually';
import { startGatewayProcess } from '../src/__testUtils__/gatewayProcess';
import { createTestDatabase, type TestDatabase } from '../src/__testUtils__/testDatabase';
import { startTestGateway, TEST_AUDIT_KEY, type TestGateway } from '../src/__testUtils__/testGateway';
import { createTestIssuer, type TestIssuer } from '../src/__testUtils__/testTokens';
import { enterpriseLicenses, enterprises, householdRegistrations, type EnterpriseRow } from '../src/demo/syntheticData';

jest.setTimeout(60_000);

const ENTERPRISE = '3.44.13.002/00000001';
const HOUSEHOLD = '3.44.13.003/00000001';
const LICENCE = '3.44.13.002/00000002';
const ROWS = [...enterprises(200, 11)];
const PEOPLE = [...householdRegistrations(20, 11)];
const keys = createAuditKeys(decodeKey(TEST_AUDIT_KEY)!);

let db: TestDatabase & { drop(): Promise<void> };
let issuer: TestIssuer;
let a: TestGateway;
let b: TestGateway;
let statements: string[] = [];

type Reply<T> = Awaited<ReturnType<TestGateway['graphql']>> & { body: { data?: T } };

async function as<T = Record<string, unknown>>(
  gw: TestGateway,
  agency: string,
  roles: string[],
  purpose: string | undefined,
  query: string,
  variables?: Record<string, unknown>,
): Promise<Reply<T>> {
  return gw.graphql<T>(query, variables, await issuer.headers(agency, roles, purpose)) as Promise<Reply<T>>;
}

/** The source department issues a grant (role source_approver). */
async function issue(input: Record<string, unknown>, from = 'HZ-SCJGJ'): Promise<{ id: number; fields: string[] }> {
  const r = await as<{ issueGrant: { id: number; fields: string[] } }>(a, from, ['source_approver'], undefined, `mutation($i: GrantIssueInput!) { issueGrant(input: $i) { id fields } }`, { i: input });
  expect(r.body.errors).toBeUndefined();
  return r.body.data!.issueGrant;
}

async function lastRecord(): Promise<Record<string, unknown>> {
  const [r] = await db.sql`SELECT * FROM access_record ORDER BY seq DESC LIMIT 1`;
  return r;
}

const row = (i: number): EnterpriseRow => ROWS[i];

beforeAll(async () => {
  db = await createTestDatabase();
  issuer = await createTestIssuer();
  // No rate limit on these two: their per-minute counts would share the rate limit test's hourly
  // window (same agency, same window start) during the first minute of an hour.
  const env = { GATEWAY_MODE: 'production', AUTH_PUBLIC_KEYS_DIR: issuer.keysDir, RATE_LIMIT_PER_AGENCY: '0' };
  a = await startTestGateway(db.url, env, { onQuery: (q) => statements.push(q) });
  b = await startTestGateway(db.url, { ...env, CATALOG_LOAD_ON_START: 'false' });
  const deliver = async (agency: string, dataset: string, rows: unknown[]) => {
    const r = await as<{ deliverRows: { status: string } }>(a, agency, ['consumer'], undefined, `mutation($d: String!, $rows: [JSONObject!]!) { deliverRows(dataset: $d, rows: $rows) { status } }`, {
      d: dataset,
      rows,
    });
    expect(r.body.data?.deliverRows.status).toBe('ACCEPTED');
  };
  await deliver('HZ-SCJGJ', ENTERPRISE, ROWS);
  await deliver('HZ-GAJ', HOUSEHOLD, PEOPLE);
});

afterAll(async () => {
  await b?.stop();
  await a?.stop();
  await db?.drop();
  await issuer?.cleanup();
});

beforeEach(() => {
  statements = [];
});

const LOOKUP = `query($k: String!) { enterprise(uscc: $k) { uscc name district legalRepresentative } }`;

describe('a dataset without a grant', () => {
  it('is refused with FORBIDDEN saying how to obtain access, reads nothing, and is recorded as DENIED', async () => {
    const r = await as(a, 'HZ-RSJ', ['consumer'], 'no-grant-yet', LOOKUP, { k: row(1).uscc });
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ enterprise: null });
    expect(r.body.errors).toHaveLength(1);
    expect(r.body.errors![0]).toMatchObject({ path: ['enterprise'], extensions: { code: 'FORBIDDEN' } });
    expect(r.body.errors![0].message).toMatch(/HZ-RSJ holds no grant on 3\.44\.13\.002\/00000001.*applyForGrant.*HZ-SCJGJ/);
    expect(statements.filter((s) => s.includes('"ds"."enterprise"'))).toEqual([]);
    expect(await lastRecord()).toMatchObject({ agency: 'HZ-RSJ', purpose_code: 'no-grant-yet', datasets: [ENTERPRISE], outcome: 'DENIED', row_count: 0, fields_returned: [] });
  });

  it('needs a declared purpose: without X-Purpose (or a purpose claim) nothing is readable', async () => {
    const r = await as(a, 'HZ-RSJ', ['consumer'], undefined, LOOKUP, { k: row(1).uscc });
    expect(r.body.errors![0].extensions!.code).toBe('FORBIDDEN');
    expect(r.body.errors![0].message).toMatch(/X-Purpose/);
    // The source department too reads its own data for a declared purpose.
    const own = await as(a, 'HZ-SCJGJ', ['consumer'], undefined, LOOKUP, { k: row(1).uscc });
    expect(own.body.errors![0].message).toMatch(/X-Purpose/);
    const ownWithPurpose = await as(a, 'HZ-SCJGJ', ['consumer'], 'registry-maintenance', LOOKUP, { k: row(1).uscc });
    expect(ownWithPurpose.body.errors).toBeUndefined();
  });
});

describe('the declared purpose', () => {
  const post = async (headers: Record<string, string>) => {
    const res = await fetch(a.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: LOOKUP, variables: { k: row(1).uscc } }) });
    return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] } };
  };
  const bearer = async (purpose?: string) => `Bearer ${await issuer.token('HZ-SCJGJ', ['consumer'], purpose ? { purpose } : {})}`;

  it('of a token with a purpose claim is that purpose only: another X-Purpose is refused with 403 before anything runs', async () => {
    const r = await post({ authorization: await bearer('registry-maintenance'), 'x-purpose': 'marketing' });
    expect(r.status).toBe(403);
    expect(r.body.data).toBeUndefined();
    expect(r.body.errors![0].extensions!.code).toBe('FORBIDDEN');
    expect(r.body.errors![0].message).toMatch(/issued for purpose "registry-maintenance" and cannot be used for purpose "marketing"/);
    expect(statements.filter((q) => q.includes('"ds"."enterprise"'))).toEqual([]);
    expect(await lastRecord()).toMatchObject({ agency: 'HZ-SCJGJ', purpose_code: null, error_codes: ['FORBIDDEN'], outcome: 'DENIED', row_count: 0, datasets: [] });
    // The same purpose in the header, or none, is the claim's.
    for (const h of [{ 'x-purpose': 'registry-maintenance' }, {}] as Record<string, string>[]) {
      const ok = await post({ authorization: await bearer('registry-maintenance'), ...h });
      expect(ok.status).toBe(200);
      expect(ok.body.errors).toBeUndefined();
    }
  });

  it.each([
    ['%E6%A0', /X-Purpose-Text must be percent-encoded UTF-8/],
    ['%00', /X-Purpose-Text must not contain control characters/],
    ['%C2%85', /X-Purpose-Text must not contain control characters/],
    // "核验" sent as raw UTF-8 bytes: Node reads header bytes as Latin-1.
    [Buffer.from('核验').toString('latin1'), /raw bytes outside printable ASCII are refused/],
  ])('refuses X-Purpose-Text %s with 400 BAD_USER_INPUT instead of failing to record it', async (text, message) => {
    const r = await post({ authorization: await bearer(), 'x-purpose': 'registry-maintenance', 'x-purpose-text': text });
    expect(r.status).toBe(400);
    expect(r.body.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
    expect(r.body.errors![0].message).toMatch(message);
    expect(statements.filter((q) => q.includes('"ds"."enterprise"'))).toEqual([]);
    expect(await lastRecord()).toMatchObject({ agency: 'HZ-SCJGJ', error_codes: ['BAD_USER_INPUT'], outcome: 'FAILED', row_count: 0 });
  });

  it('a request body that is not JSON is refused with 400 and recorded', async () => {
    const res = await fetch(a.url, { method: 'POST', headers: { 'content-type': 'application/json', ...(await issuer.headers('HZ-RSJ', ['consumer'], 'employer-check')) }, body: '{"query": ' });
    expect(res.status).toBe(400);
    expect(await lastRecord()).toMatchObject({ agency: 'HZ-RSJ', purpose_code: 'employer-check', error_codes: ['BAD_REQUEST'], outcome: 'FAILED', row_count: 0 });
  });
});

describe('UNCONDITIONAL fields (R8)', () => {
  let grantId: number;

  it('are granted at once on application, key fields included', async () => {
    const r = await as<{ applyForGrant: { id: number; fields: string[]; basis: string; status: string } }>(
      a,
      'HZ-RSJ',
      ['consumer'],
      undefined,
      `mutation { applyForGrant(input: { datasetCode: "${ENTERPRISE}", fields: ["name", "district"], purposeCode: "employer-check", purposeText: "核验参保单位登记信息" }) { id fields basis status } }`,
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.applyForGrant).toMatchObject({ fields: ['uscc', 'name', 'district'], basis: 'UNCONDITIONAL', status: 'ACTIVE' });
    grantId = r.body.data!.applyForGrant.id;
  });

  it('are returned; a field outside the grant is null with FORBIDDEN at its path and is never selected', async () => {
    const e = row(3);
    const r = await as<{ enterprise: Record<string, unknown> }>(a, 'HZ-RSJ', ['consumer'], 'employer-check', LOOKUP, { k: e.uscc });
    expect(r.body.data!.enterprise).toEqual({ uscc: e.uscc, name: e.name, district: e.district, legalRepresentative: null });
    expect(r.body.errors).toHaveLength(1);
    expect(r.body.errors![0]).toMatchObject({ path: ['enterprise', 'legalRepresentative'], extensions: { code: 'FORBIDDEN' } });
    expect(r.body.errors![0].message).toMatch(/CONDITIONAL.*ask the source department HZ-SCJGJ/);
    // The denied column is absent from the SQL that ran; the granted ones are there.
    const sql = statements.filter((s) => s.includes('"ds"."enterprise"'));
    expect(sql).toHaveLength(1);
    expect(sql[0]).toContain('"name"');
    expect(sql[0]).not.toContain('legal_representative');
    const rec = await lastRecord();
    expect(rec).toMatchObject({
      agency: 'HZ-RSJ',
      subject: 'hz-rsj-officer',
      purpose_code: 'employer-check',
      grant_ids: [grantId],
      datasets: [ENTERPRISE],
      fields_returned: [`${ENTERPRISE}#district`, `${ENTERPRISE}#name`, `${ENTERPRISE}#uscc`],
      fields_denied: [`${ENTERPRISE}#legalRepresentative`],
      outcome: 'PARTIAL',
      row_count: 1,
      operation_type: 'query',
      error_codes: ['FORBIDDEN'],
    });
    // Keyed hashes, never values: the row's data subjects (@subject: the credit code, and the
    // legal representative's ID number, read or not) are findable by their hash only.
    expect(rec.subject_hashes).toEqual([keys.subjectHash(e.uscc), keys.subjectHash(e.legalRepIdNumber)].sort());
    expect(rec.row_key_hashes).toEqual([keys.dataHash(`${ENTERPRISE}\u001f${e.uscc}`)]);
    expect(JSON.stringify(rec)).not.toContain(e.uscc);
    expect(JSON.stringify(rec)).not.toContain(e.name);
  });

  it('in a list, every row answers a field outside the grant with null and FORBIDDEN at its own path, through fragments too', async () => {
    // Shield decides a list's row fields once per request and applies the decision to each row
    // (permissions.ts): each row still gets its own error, and fragments are covered alike.
    const q = `query($yes: Boolean!) { enterprises(first: 3) { nodes { uscc ...F ... on Enterprise { district legalRepIdNumber } } edges { node { alias: name phone @include(if: $yes) } } } }
      fragment F on Enterprise { name legalRepresentative }`;
    const r = await as<{ enterprises: { nodes: Record<string, unknown>[]; edges: { node: Record<string, unknown> }[] } }>(a, 'HZ-RSJ', ['consumer'], 'employer-check', q, { yes: true });
    const first3 = [...ROWS].sort((x, y) => (x.uscc < y.uscc ? -1 : 1)).slice(0, 3);
    expect(r.body.data!.enterprises.nodes).toEqual(first3.map((e) => ({ uscc: e.uscc, name: e.name, legalRepresentative: null, district: e.district, legalRepIdNumber: null })));
    expect(r.body.data!.enterprises.edges).toEqual(first3.map((e) => ({ node: { alias: e.name, phone: null } })));
    const paths = r.body.errors!.map((e) => e.path!.join('.')).sort();
    expect(paths).toEqual(
      [0, 1, 2].flatMap((i) => [`enterprises.nodes.${i}.legalRepresentative`, `enterprises.nodes.${i}.legalRepIdNumber`, `enterprises.edges.${i}.node.phone`]).sort(),
    );
    expect(new Set(r.body.errors!.map((e) => e.extensions!.code))).toEqual(new Set(['FORBIDDEN']));
    // The same query for another purpose (no grant): the whole list is refused, as before.
    const other = await as(a, 'HZ-RSJ', ['consumer'], 'another-purpose', q, { yes: false });
    expect(other.body.errors!.map((e) => e.path!.join('.'))).toEqual(['enterprises']);
  });

  it('apply only to the purpose they were granted for', async () => {
    const r = await as(a, 'HZ-RSJ', ['consumer'], 'another-purpose', LOOKUP, { k: row(3).uscc });
    expect(r.body.errors![0].message).toMatch(/no grant .* for purpose "another-purpose"/);
  });

  it('can not be obtained for CONDITIONAL fields by application', async () => {
    const r = await as(a, 'HZ-RSJ', ['consumer'], undefined, `mutation { applyForGrant(input: { datasetCode: "${ENTERPRISE}", fields: ["name", "phone"], purposeCode: "x-check", purposeText: "x" }) { id } }`);
    expect(r.body.errors![0].extensions!.code).toBe('FORBIDDEN');
    expect(r.body.errors![0].message).toMatch(/phone \(联系电话\).*CONDITIONAL.*source department HZ-SCJGJ/);
    const [{ n }] = await db.sql`SELECT count(*)::int AS n FROM access_grant WHERE purpose_code = 'x-check'`;
    expect(n).toBe(0);
  });

  it('refuse filtering or ordering on a field outside the grant (it would reveal its values)', async () => {
    const r = await as(a, 'HZ-RSJ', ['consumer'], 'employer-check', `{ enterprises(filter: { status: { eq: "存续" } }) { nodes { uscc } } }`);
    expect(r.body.errors![0].extensions!.code).toBe('FORBIDDEN');
    expect(r.body.errors![0].message).toMatch(/cannot filter or order on Enterprise\.status/);
  });
});

describe('CONDITIONAL fields (R9) issued by the source department', () => {
  const district = ROWS[0].district;
  const inDistrict = ROWS.filter((r) => r.district === district);
  const outside = ROWS.find((r) => r.district !== district)!;
  let grantId: number;

  it('are issued only by the source department with the source_approver role', async () => {
    const input = { agency: 'HZ-GAJ', datasetCode: ENTERPRISE, fields: ['name'], purposeCode: 'p', purposeText: 'p' };
    const notOwner = await as(a, 'HZ-RSJ', ['source_approver'], undefined, `mutation($i: GrantIssueInput!) { issueGrant(input: $i) { id } }`, { i: input });
    expect(notOwner.body.errors![0]).toMatchObject({ message: expect.stringMatching(/only the source department HZ-SCJGJ/), extensions: { code: 'FORBIDDEN' } });
    const noRole = await as(a, 'HZ-SCJGJ', ['consumer'], undefined, `mutation($i: GrantIssueInput!) { issueGrant(input: $i) { id } }`, { i: input });
    expect(noRole.body.errors![0].message).toMatch(/needs the source_approver role/);
  });

  it('are masked unless the grant allows clear values, and rows are restricted in SQL', async () => {
    ({ id: grantId } = await issue({
      agency: 'HZ-GAJ',
      datasetCode: ENTERPRISE,
      fields: ['name', 'legalRepresentative', 'legalRepIdNumber', 'phone', 'district'],
      clearFields: ['phone'],
      purposeCode: 'case-handling',
      purposeText: '办理案件核查企业法定代表人',
      rowFilter: { district: { eq: district } },
    }));
    const r = await as<{ enterprises: { totalCount: number; nodes: Record<string, string | null>[] } }>(
      a,
      'HZ-GAJ',
      ['consumer'],
      'case-handling',
      `{ enterprises(first: 100) { totalCount nodes { uscc district legalRepresentative legalRepIdNumber phone } } }`,
    );
    expect(r.body.errors).toBeUndefined();
    const nodes = r.body.data!.enterprises.nodes;
    expect(r.body.data!.enterprises.totalCount).toBe(inDistrict.length);
    expect(nodes.map((n) => n.uscc).sort()).toEqual(inDistrict.map((e) => e.uscc).sort());
    for (const n of nodes) {
      const e = inDistrict.find((x) => x.uscc === n.uscc)!;
      expect(n.district).toBe(district);
      expect(n.legalRepresentative).toBe(Array.from(e.legalRepresentative)[0] + '*'.repeat(Array.from(e.legalRepresentative).length - 1));
      expect(n.legalRepIdNumber).toBe(`${e.legalRepIdNumber[0]}${'*'.repeat(15)}${e.legalRepIdNumber.slice(16)}`);
      expect(n.phone).toBe(e.phone); // clear under this grant
    }
    expect(statements.some((s) => s.includes('"ds"."enterprise"') && s.includes('"district" = $'))).toBe(true);
    const rec = await lastRecord();
    expect(rec.masking).toEqual({ [`${ENTERPRISE}#legalRepIdNumber`]: 'ID_NUMBER', [`${ENTERPRISE}#legalRepresentative`]: 'NAME' });
    expect(rec).toMatchObject({ outcome: 'OK', row_count: inDistrict.length, grant_ids: [grantId] });
    // More rows than ROW_SET_MIN_ROWS: the record names a row set that holds each row's hashes
    // (key, then the two subject identifiers), in the order returned.
    expect(inDistrict.length).toBeGreaterThan(ROW_SET_MIN_ROWS);
    expect(rec).toMatchObject({ row_key_hashes: [], subject_hashes: [] });
    const [set] = await db.sql`SELECT row_hashes, subject_hashes FROM access_row_set WHERE digest = ${rec.row_set as string}`;
    expect(set.row_hashes).toEqual(
      nodes.map((n) => {
        const e = inDistrict.find((x) => x.uscc === n.uscc)!;
        return keys.dataHash(`${ENTERPRISE}\u001f${e.uscc}`) + keys.subjectHash(e.uscc) + keys.subjectHash(e.legalRepIdNumber);
      }),
    );
    expect(set.subject_hashes).toEqual([...new Set(inDistrict.flatMap((e) => [keys.subjectHash(e.uscc), keys.subjectHash(e.legalRepIdNumber)]))].sort());
    expect(rec.row_set).toBe(rowSetDigest((set.row_hashes as string[]).join(',')));
  });

  it('a row outside the restriction does not exist for the grantee', async () => {
    const r = await as(a, 'HZ-GAJ', ['consumer'], 'case-handling', LOOKUP, { k: outside.uscc });
    expect(r.body).toEqual({ data: { enterprise: null } });
  });

  it('narrowing applies at once on every gateway process', async () => {
    const r = await as(a, 'HZ-SCJGJ', ['source_approver'], undefined, `mutation { narrowGrant(id: ${grantId}, change: { fields: ["name", "legalRepresentative", "district"], reason: "核查范围调整" }) { fields clearFields } }`);
    expect(r.body.data).toEqual({ narrowGrant: { fields: ['uscc', 'name', 'legalRepresentative', 'district'], clearFields: [] } });
    for (const gw of [a, b]) {
      await eventually(async () => {
        const q = await as(gw, 'HZ-GAJ', ['consumer'], 'case-handling', `query($k: String!) { enterprise(uscc: $k) { name phone } }`, { k: inDistrict[0].uscc });
        return q.body.errors?.[0]?.path?.join('.') === 'enterprise.phone';
      });
    }
    const wider = await as(a, 'HZ-SCJGJ', ['source_approver'], undefined, `mutation { narrowGrant(id: ${grantId}, change: { fields: ["name", "phone"], reason: "x" }) { id } }`);
    expect(wider.body.errors![0].message).toMatch(/phone not in grant .*narrowing cannot add fields/);
    const [{ n }] = await db.sql`SELECT count(*)::int AS n FROM grant_event WHERE grant_id = ${grantId}`;
    expect(n).toBe(2); // ISSUED, NARROWED (the refused widening changed nothing)
  });

  it('revocation stops access at once on every gateway process, and a revoked grant cannot change', async () => {
    // The same page asked again (its statement and shield's decisions are kept per access view and
    // variables): other variables give other rows, and the revocation applies to it at once too.
    const PAGE = `query($d: String!) { enterprises(filter: { district: { eq: $d } }, first: 50) { nodes { uscc name } } }`;
    const page = async (gw: TestGateway, d: string) => as<{ enterprises: { nodes: { uscc: string }[] } }>(gw, 'HZ-GAJ', ['consumer'], 'case-handling', PAGE, { d });
    for (let i = 0; i < 2; i++) {
      const mine = await page(a, district);
      expect(mine.body.errors).toBeUndefined();
      expect(mine.body.data!.enterprises.nodes.map((n) => n.uscc).sort()).toEqual(inDistrict.map((e) => e.uscc).sort());
      expect((await page(a, outside.district)).body.data!.enterprises.nodes).toEqual([]); // outside the grant's rows
    }
    const r = await as(a, 'HZ-SCJGJ', ['source_approver'], undefined, `mutation { revokeGrant(id: ${grantId}, reason: "案件已办结") { status revokeReason } }`);
    expect(r.body.data).toEqual({ revokeGrant: { status: 'REVOKED', revokeReason: '案件已办结' } });
    for (const gw of [a, b]) {
      await eventually(async () => {
        const q = await as(gw, 'HZ-GAJ', ['consumer'], 'case-handling', `query($k: String!) { enterprise(uscc: $k) { name } }`, { k: inDistrict[0].uscc });
        return q.body.errors?.[0]?.extensions?.code === 'FORBIDDEN' && q.body.data?.enterprise === null;
      });
    }
    const revoked = await page(a, district);
    expect(revoked.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(revoked.body.data?.enterprises ?? null).toBeNull();
    const again = await as(a, 'HZ-SCJGJ', ['source_approver'], undefined, `mutation { revokeGrant(id: ${grantId}, reason: "again") { status } }`);
    expect(again.body.errors![0].extensions!.code).toBe('CONFLICT');
  });

  it('with several grants for one purpose, a field is returned only on rows of a grant that covers it', async () => {
    const [d1, d2] = [...new Set(ROWS.map((r) => r.district))];
    await issue({ agency: 'HZ-SSTHJJ', datasetCode: ENTERPRISE, fields: ['name', 'district'], purposeCode: 'multi', purposeText: '环保执法', rowFilter: { district: { eq: d1 } } });
    await issue({ agency: 'HZ-SSTHJJ', datasetCode: ENTERPRISE, fields: ['name', 'district', 'phone'], clearFields: ['phone'], purposeCode: 'multi', purposeText: '环保执法', rowFilter: { district: { eq: d2 } } });
    const r = await as<{ enterprises: { nodes: { uscc: string; district: string; name: string; phone: string | null }[] } }>(
      a,
      'HZ-SSTHJJ',
      ['consumer'],
      'multi',
      `{ enterprises(first: 100, filter: { district: { in: ["${d1}", "${d2}"] } }) { nodes { uscc district name phone } } }`,
    );
    const nodes = r.body.data!.enterprises.nodes;
    expect(nodes.length).toBe(ROWS.filter((e) => e.district === d1 || e.district === d2).length);
    const outside = nodes.flatMap((n, i) => (n.district === d1 ? [i] : []));
    expect(outside.length).toBeGreaterThan(0);
    for (const n of nodes) {
      const e = ROWS.find((x) => x.uscc === n.uscc)!;
      expect(n.name).toBe(e.name);
      if (n.district === d1) expect(n.phone).toBeNull();
      // Clear only under a grant that covers every row the caller sees: masked here (safe side).
      else if (e.phone) expect(n.phone).toBe(`${e.phone.slice(0, 3)}****${e.phone.slice(7)}`);
    }
    // Never a silent null: each row outside the phone grant's rows has its FORBIDDEN error, at its path.
    expect(r.body.errors!.map((e) => e.path)).toEqual(outside.map((i) => ['enterprises', 'nodes', i, 'phone']));
    for (const e of r.body.errors!) {
      expect(e.extensions!.code).toBe('FORBIDDEN');
      expect(e.message).toMatch(/Enterprise\.phone .* of this row is outside the rows that your grant \d+ for .*multi.* cover for this field .*ask the source department HZ-SCJGJ/);
    }
    expect(JSON.stringify(r.body.errors)).not.toMatch(/\d{11}/); // no phone number in the errors
    expect(await lastRecord()).toMatchObject({ outcome: 'PARTIAL', fields_denied: [`${ENTERPRISE}#phone`] });
    expect(statements.some((s) => /CASE WHEN t0\."district" = \$\d+::text THEN t0\."phone" END/.test(s))).toBe(true);
  });

  it('an expired grant, or one not valid yet, gives no access', async () => {
    const hour = 3600_000;
    await issue({ agency: 'HZ-ZRZYJ', datasetCode: ENTERPRISE, fields: ['name'], purposeCode: 'expired-use', purposeText: '过期测试', validFrom: new Date(Date.now() - 2 * hour).toISOString(), validUntil: new Date(Date.now() - hour).toISOString() });
    await issue({ agency: 'HZ-ZRZYJ', datasetCode: ENTERPRISE, fields: ['name'], purposeCode: 'future-use', purposeText: '未生效测试', validFrom: new Date(Date.now() + hour).toISOString() });
    for (const purpose of ['expired-use', 'future-use']) {
      const r = await as(a, 'HZ-ZRZYJ', ['consumer'], purpose, LOOKUP, { k: row(5).uscc });
      expect(r.body.errors![0].extensions!.code).toBe('FORBIDDEN');
    }
    // Valid for 4 s: long enough to be used once even on a loaded machine, then it expires.
    const until = Date.now() + 4000;
    const soon = await issue({ agency: 'HZ-ZRZYJ', datasetCode: ENTERPRISE, fields: ['name'], purposeCode: 'short-use', purposeText: '短期', validUntil: new Date(until).toISOString() });
    expect(soon.fields).toEqual(['uscc', 'name']);
    const before = await as(a, 'HZ-ZRZYJ', ['consumer'], 'short-use', `query($k: String!) { enterprise(uscc: $k) { name } }`, { k: row(5).uscc });
    expect(before.body).toEqual({ data: { enterprise: { name: row(5).name } } });
    await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now()) + 200));
    const after = await as(a, 'HZ-ZRZYJ', ['consumer'], 'short-use', `query($k: String!) { enterprise(uscc: $k) { name } }`, { k: row(5).uscc });
    expect(after.body.errors![0].extensions!.code).toBe('FORBIDDEN');
    // The source department renews it: usable again at once.
    const renewed = await as(a, 'HZ-SCJGJ', ['source_approver'], undefined, `mutation($u: DateTimeISO!) { renewGrant(id: ${soon.id}, validUntil: $u, reason: "续期一年") { validUntil } }`, {
      u: new Date(Date.now() + 365 * 86400_000).toISOString(),
    });
    expect(renewed.body.errors).toBeUndefined();
    const again = await as(a, 'HZ-ZRZYJ', ['consumer'], 'short-use', `query($k: String!) { enterprise(uscc: $k) { name } }`, { k: row(5).uscc });
    expect(again.body).toEqual({ data: { enterprise: { name: row(5).name } } });
    const [{ action }] = await db.sql`SELECT action FROM grant_event WHERE grant_id = ${soon.id} ORDER BY id DESC LIMIT 1`;
    expect(action).toBe('RENEWED');
  });
});

describe('listing grants', () => {
  const LIST = `query($p: String) { grants(purposeCode: $p) { id agency datasetCode } }`;
  it('shows a grant to its holder, its source department and the data authority with the authority role, and to no one else', async () => {
    const { id } = await issue({ agency: 'HZ-HC-ZSJ', datasetCode: ENTERPRISE, fields: ['name'], purposeCode: 'list-check', purposeText: '列表可见范围' });
    const sees = async (agency: string, roles: string[]) => {
      const r = await as<{ grants: { id: number }[] }>(a, agency, roles, undefined, LIST, { p: 'list-check' });
      expect(r.body.errors).toBeUndefined();
      return r.body.data!.grants.some((g) => g.id === id);
    };
    expect(await sees('HZ-HC-ZSJ', ['consumer'])).toBe(true);
    expect(await sees('HZ-SCJGJ', ['source_approver'])).toBe(true);
    expect(await sees('HZ-ZSJ', ['authority'])).toBe(true);
    // The authority's department without the authority role, and an unrelated department.
    expect(await sees('HZ-ZSJ', ['consumer'])).toBe(false);
    expect(await sees('HZ-RSJ', ['consumer'])).toBe(false);
  });
});

describe('NOT_SHARED fields (R10)', () => {
  it('can never be granted for reading', async () => {
    const r = await as(a, 'HZ-GAJ', ['source_approver'], undefined, `mutation { issueGrant(input: { agency: "HZ-RSJ", datasetCode: "${HOUSEHOLD}", fields: ["idNumber"], purposeCode: "p1", purposeText: "x" }) { id } }`);
    expect(r.body.errors![0].extensions!.code).toBe('FORBIDDEN');
    expect(r.body.errors![0].message).toMatch(/idNumber \(公民身份号码\).*NOT_SHARED.*never be granted for reading.*verification/);
  });

  it('are never read, not even by the source department: null with FORBIDDEN, and no value leaves the database', async () => {
    const p = PEOPLE[2];
    const r = await as<{ householdRegistration: Record<string, unknown> }>(a, 'HZ-GAJ', ['consumer'], 'own-use', `query($k: String!) { householdRegistration(recordNo: $k) { recordNo district idNumber name } }`, { k: p.recordNo });
    expect(r.body.data!.householdRegistration).toEqual({ recordNo: p.recordNo, district: p.district, idNumber: null, name: null });
    expect(r.body.errors!.map((e) => e.path!.join('.')).sort()).toEqual(['householdRegistration.idNumber', 'householdRegistration.name']);
    expect(JSON.stringify(r.body)).not.toContain(p.idNumber);
    const sql = statements.find((s) => s.includes('"ds"."household_registration"'))!;
    // The ID number is only ever an input of the keyed hash computed in the database.
    expect(sql).not.toMatch(/'idNumber'|'name'/);
    expect(sql.match(/"id_number"/g)).toHaveLength(1);
    expect(sql).toMatch(/sha256\(\$\d+::bytea \|\| textsend\(upper\(btrim\(t0\."id_number"::text\)\)/);
    const rec = await lastRecord();
    expect(rec.subject_hashes).toEqual([keys.subjectHash(p.idNumber)]);
    expect(JSON.stringify(rec)).not.toContain(p.idNumber);
  });

  it('appear in introspection and catalog browsing with their class and grade, never a value', async () => {
    const r = await as<{ __type: { fields: { name: string; description: string }[] }; dataset: { fields: { name: string; shareClass: string; grade: string }[] } }>(
      a,
      'HZ-RSJ',
      ['consumer'],
      undefined,
      `{ __type(name: "HouseholdRegistration") { fields { name description } } dataset(code: "${HOUSEHOLD}") { fields { name shareClass grade } } }`,
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.__type.fields.find((f) => f.name === 'idNumber')!.description).toMatch(/共享属性 NOT_SHARED · 分级 GENERAL_4/);
    expect(r.body.data!.dataset.fields.find((f) => f.name === 'idNumber')).toEqual({ name: 'idNumber', shareClass: 'NOT_SHARED', grade: 'GENERAL_4' });
  });
});

describe('graphql-shield, the second line', () => {
  it('answers refused fields with the project’s own error codes and messages, not shield’s generic ones', async () => {
    const r = await as(a, 'HZ-RSJ', ['consumer'], 'employer-check', `query($k: String!) { enterprise(uscc: $k) { uscc phone licenses { licenseNo } } }`, { k: row(3).uscc });
    const byPath = Object.fromEntries(r.body.errors!.map((e) => [e.path!.join('.'), e]));
    expect(byPath['enterprise.phone'].extensions!.code).toBe('FORBIDDEN');
    expect(byPath['enterprise.licenses'].message).toMatch(/no grant on 3\.44\.13\.002\/00000002/);
    expect(JSON.stringify(r.body)).not.toMatch(/Not Authorised/);
  });
});

describe('references between datasets', () => {
  it('are followed only when both join fields are readable in clear (a join reveals them)', async () => {
    const apply = (fields: string[], purpose: string) =>
      as(a, 'HZ-SSTHJJ', ['consumer'], undefined, `mutation($f: [String!]!) { applyForGrant(input: { datasetCode: "${ENTERPRISE}", fields: $f, purposeCode: "${purpose}", purposeText: "x" }) { id } }`, { f: fields });
    const applyLicences = (fields: string[], purpose: string) =>
      as(a, 'HZ-SSTHJJ', ['consumer'], undefined, `mutation($f: [String!]!) { applyForGrant(input: { datasetCode: "3.44.13.002/00000002", fields: $f, purposeCode: "${purpose}", purposeText: "x" }) { id } }`, { f: fields });
    expect((await apply(['name'], 'ref-narrow')).body.errors).toBeUndefined();
    expect((await applyLicences(['licenseType'], 'ref-narrow')).body.errors).toBeUndefined();
    const q = `query($k: String!) { enterprise(uscc: $k) { name licenses { licenseNo licenseType } } }`;
    const narrow = await as(a, 'HZ-SSTHJJ', ['consumer'], 'ref-narrow', q, { k: row(4).uscc });
    expect(narrow.body.errors![0]).toMatchObject({
      path: ['enterprise', 'licenses'],
      extensions: { code: 'FORBIDDEN' },
      message: expect.stringMatching(/joins Enterprise\.uscc to EnterpriseLicense\.uscc: following it needs both fields readable in clear/),
    });
    expect(statements.filter((s) => s.includes('"ds"."enterprise_license"'))).toEqual([]);
    expect((await apply(['name'], 'ref-wide')).body.errors).toBeUndefined();
    expect((await applyLicences(['licenseType', 'uscc'], 'ref-wide')).body.errors).toBeUndefined();
    const wide = await as(a, 'HZ-SSTHJJ', ['consumer'], 'ref-wide', q, { k: row(4).uscc });
    expect(wide.body).toEqual({ data: { enterprise: { name: row(4).name, licenses: [] } } });
  });

  it('record every row read through them: each licence key, and the subjects of both levels once', async () => {
    // Licences of enterprise 6 (row 5); EnterpriseLicense.uscc is @subject and joins Enterprise.uscc.
    const e = row(5);
    const licences = [...enterpriseLicenses(6, 11)].filter((l) => l.uscc === e.uscc);
    expect(licences.length).toBeGreaterThan(0);
    const d = await as<{ deliverRows: { status: string } }>(a, 'HZ-SCJGJ', ['consumer'], undefined, `mutation($d: String!, $rows: [JSONObject!]!) { deliverRows(dataset: $d, rows: $rows) { status } }`, {
      d: LICENCE,
      rows: licences,
    });
    expect(d.body.data?.deliverRows.status).toBe('ACCEPTED');
    await issue({ agency: 'HZ-ZSJ', datasetCode: ENTERPRISE, fields: ['name'], purposeCode: 'ref-record', purposeText: '许可核查' });
    await issue({ agency: 'HZ-ZSJ', datasetCode: LICENCE, fields: ['licenseNo', 'uscc'], purposeCode: 'ref-record', purposeText: '许可核查' });
    const r = await as<{ enterprise: { name: string; licenses: { licenseNo: string }[] } }>(
      a,
      'HZ-ZSJ',
      ['consumer'],
      'ref-record',
      `query($k: String!) { enterprise(uscc: $k) { name licenses { licenseNo } } }`,
      { k: e.uscc },
    );
    expect(r.body.errors).toBeUndefined();
    const read = r.body.data!.enterprise.licenses.map((l) => l.licenseNo);
    expect([...read].sort()).toEqual(licences.map((l) => l.licenseNo).sort());
    const rec = await lastRecord();
    expect(rec).toMatchObject({ outcome: 'OK', row_count: 1 + licences.length, datasets: [ENTERPRISE, LICENCE] });
    expect(rec.row_key_hashes).toEqual([keys.dataHash(`${ENTERPRISE}\u001f${e.uscc}`), ...read.map((n) => keys.dataHash(`${LICENCE}\u001f${n}`))]);
    // The licences' credit code is the enterprise's (the join), so its hash is there once.
    expect(rec.subject_hashes).toEqual([keys.subjectHash(e.uscc), keys.subjectHash(e.legalRepIdNumber)].sort());
    // Where a row's stored hashes are stale, PostgreSQL computes them, the shared credit code once
    // per enterprise and not again per licence: 3 HMACs (key, uscc, legalRepIdNumber) for the
    // enterprise, 1 (key) per licence, 2 SHA-256 each.
    const reads = statements.filter((s) => s.startsWith('SELECT') && s.includes('FROM "ds"."enterprise_license" t1'));
    expect(reads).toHaveLength(1);
    expect(reads[0].match(/sha256\(/g)).toHaveLength(2 * (3 + 1));
    // Stored hashes of a licence: its key's only (its one subject is the enterprise's).
    expect(reads[0]).toContain('left(t1."_audit_hashes", 32)');
  });
});

describe('the access record', () => {
  it("takes each row's keyed hashes as its delivery stored them, and computes them where they are stale", async () => {
    const e = row(7);
    const hashes = [keys.dataHash(`${ENTERPRISE}\u001f${e.uscc}`), keys.subjectHash(e.uscc), keys.subjectHash(e.legalRepIdNumber)];
    // Stored by the delivery: key, then the @subject fields in catalog order, under the key's id.
    const [stored] = await db.sql`SELECT _audit_kid, _audit_hashes FROM ds.enterprise WHERE uscc = ${e.uscc}`;
    expect(stored._audit_hashes).toBe(hashes.join(''));
    expect(stored._audit_kid).toMatch(/^[0-9a-f]{32}$/);
    const read = async () => {
      const r = await as(a, 'HZ-RSJ', ['consumer'], 'employer-check', `query($k: String!) { enterprise(uscc: $k) { name } }`, { k: e.uscc });
      expect(r.body.errors).toBeUndefined();
      return lastRecord();
    };
    const fromStored = await read();
    expect(fromStored.row_key_hashes).toEqual([hashes[0]]);
    expect(fromStored.subject_hashes).toEqual([hashes[1], hashes[2]].sort());
    // Made under another key or catalog version (another id): not used, computed instead.
    await db.sql`UPDATE ds.enterprise SET _audit_kid = 'another-key', _audit_hashes = ${'f'.repeat(96)} WHERE uscc = ${e.uscc}`;
    const computed = await read();
    expect(computed.row_key_hashes).toEqual(fromStored.row_key_hashes);
    expect(computed.subject_hashes).toEqual(fromStored.subject_hashes);
    // The row's next delivery (an upsert into a filled table) stores them again under the current id.
    const again = await as<{ deliverRows: { status: string } }>(a, 'HZ-SCJGJ', ['consumer'], undefined, `mutation($d: String!, $rows: [JSONObject!]!) { deliverRows(dataset: $d, rows: $rows) { status } }`, {
      d: ENTERPRISE,
      rows: [e],
    });
    expect(again.body.data?.deliverRows.status).toBe('ACCEPTED');
    const [restored] = await db.sql`SELECT _audit_kid, _audit_hashes FROM ds.enterprise WHERE uscc = ${e.uscc}`;
    expect(restored).toEqual(stored);
  });

  it('AUDIT_STORE_ROW_HASHES=false: deliveries store no hashes, and reads compute them', async () => {
    const e = row(8);
    const c = await startTestGateway(db.url, { GATEWAY_MODE: 'production', AUTH_PUBLIC_KEYS_DIR: issuer.keysDir, CATALOG_LOAD_ON_START: 'false', RATE_LIMIT_PER_AGENCY: '0', AUDIT_STORE_ROW_HASHES: 'false' });
    try {
      const d = await as<{ deliverRows: { status: string } }>(c, 'HZ-SCJGJ', ['consumer'], undefined, `mutation($d: String!, $rows: [JSONObject!]!) { deliverRows(dataset: $d, rows: $rows) { status } }`, {
        d: ENTERPRISE,
        rows: [e],
      });
      expect(d.body.data?.deliverRows.status).toBe('ACCEPTED');
    } finally {
      await c.stop();
    }
    expect(await db.sql`SELECT _audit_kid, _audit_hashes FROM ds.enterprise WHERE uscc = ${e.uscc}`).toEqual([{ _audit_kid: null, _audit_hashes: null }]);
    const r = await as(a, 'HZ-RSJ', ['consumer'], 'employer-check', `query($k: String!) { enterprise(uscc: $k) { name } }`, { k: e.uscc });
    expect(r.body.errors).toBeUndefined();
    const rec = await lastRecord();
    expect(rec.row_key_hashes).toEqual([keys.dataHash(`${ENTERPRISE}\u001f${e.uscc}`)]);
    expect(rec.subject_hashes).toEqual([keys.subjectHash(e.uscc), keys.subjectHash(e.legalRepIdNumber)].sort());
  });

  it('records a failed operation, before the response leaves', async () => {
    const r = await as(a, 'HZ-RSJ', ['consumer'], 'employer-check', `{ enterprises(first: 5, after: "not-a-cursor") { nodes { uscc } } }`);
    expect(r.body.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
    expect(await lastRecord()).toMatchObject({ agency: 'HZ-RSJ', outcome: 'FAILED', error_codes: ['BAD_USER_INPUT'], row_count: 0 });
  });

  it('records an operation that does not even parse', async () => {
    const r = await as(a, 'HZ-RSJ', ['consumer'], 'employer-check', `{ enterprise(uscc: "x") { name `);
    expect(r.body.errors![0].extensions!.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(await lastRecord()).toMatchObject({ agency: 'HZ-RSJ', outcome: 'FAILED', error_codes: ['GRAPHQL_PARSE_FAILED'], operation_type: null, datasets: [] });
  });

  it('one record for an operation that reads through several plans: the union of their fields, sorted', async () => {
    const r = await as(a, 'HZ-RSJ', ['consumer'], 'employer-check', `query($k: String!, $j: String!) { a: enterprise(uscc: $k) { name } b: enterprise(uscc: $j) { uscc district } }`, {
      k: row(3).uscc,
      j: row(4).uscc,
    });
    expect(r.body.errors).toBeUndefined();
    expect(await lastRecord()).toMatchObject({
      datasets: [ENTERPRISE],
      fields_returned: [`${ENTERPRISE}#district`, `${ENTERPRISE}#name`, `${ENTERPRISE}#uscc`],
      fields_denied: [],
      row_count: 2,
      outcome: 'OK',
    });
    // The same query again: the cached plans give the same record content.
    await as(a, 'HZ-RSJ', ['consumer'], 'employer-check', `query($k: String!, $j: String!) { a: enterprise(uscc: $k) { name } b: enterprise(uscc: $j) { uscc district } }`, { k: row(3).uscc, j: row(4).uscc });
    expect(await lastRecord()).toMatchObject({ fields_returned: [`${ENTERPRISE}#district`, `${ENTERPRISE}#name`, `${ENTERPRISE}#uscc`], row_count: 2 });
  });

  it('gets exactly one record per operation: 100 concurrent queries → 100 records, one intact chain', async () => {
    const [{ n: before }] = await db.sql`SELECT count(*)::int AS n FROM access_record`;
    const headers = await issuer.headers('HZ-RSJ', ['consumer'], 'employer-check');
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).graphql(`query($k: String!) { enterprise(uscc: $k) { name } }`, { k: row(i).uscc }, headers)),
    );
    expect(replies.every((r) => r.status === 200 && !r.body.errors)).toBe(true);
    const [{ n: after }] = await db.sql`SELECT count(*)::int AS n FROM access_record`;
    expect(after - before).toBe(100);
    expect(await verifyAccessChain(db.sql, keys)).toMatchObject({ ok: true, checked: after });
  });

  it('when the record cannot be written, the caller gets an error, not the data', async () => {
    await db.sql`ALTER TABLE access_record ADD CONSTRAINT test_refuse_records CHECK (false) NOT VALID`;
    try {
      const r = await as(a, 'HZ-RSJ', ['consumer'], 'employer-check', `query($k: String!) { enterprise(uscc: $k) { name } }`, { k: row(7).uscc });
      expect(r.status).toBe(503);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(r.body.data).toBeUndefined();
      expect(r.body.errors![0].extensions!.code).toBe('SERVICE_UNAVAILABLE');
      expect(JSON.stringify(r.body)).not.toContain(row(7).name);
    } finally {
      await db.sql`ALTER TABLE access_record DROP CONSTRAINT test_refuse_records`;
    }
  });

  it('when a mutation\'s record cannot be written, the caller is told the change was made (so it is not repeated blindly)', async () => {
    const input = { agency: 'HZ-ZRZYJ', datasetCode: ENTERPRISE, fields: ['name'], purposeCode: 'record-down', purposeText: '记录不可写时的变更' };
    await db.sql`ALTER TABLE access_record ADD CONSTRAINT test_refuse_records CHECK (false) NOT VALID`;
    let r: Reply<unknown>;
    try {
      r = await as(a, 'HZ-SCJGJ', ['source_approver'], undefined, `mutation($i: GrantIssueInput!) { issueGrant(input: $i) { id fields } }`, { i: input });
    } finally {
      await db.sql`ALTER TABLE access_record DROP CONSTRAINT test_refuse_records`;
    }
    expect(r.status).toBe(503);
    expect(r.body.data).toBeUndefined();
    const [e] = r.body.errors!;
    expect(e.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', mutationApplied: true, errorId: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(e.message).toMatch(/change requested by this mutation was made.*do not repeat/);
    const stored = await db.sql`SELECT g.id FROM access_grant g JOIN department d ON d.id = g.agency_id WHERE g.purpose_code = 'record-down' AND d.code = 'HZ-ZRZYJ'`;
    expect(stored).toHaveLength(1);
    // A failed mutation (nothing changed) keeps the plain "try again" message.
    await db.sql`ALTER TABLE access_record ADD CONSTRAINT test_refuse_records CHECK (false) NOT VALID`;
    try {
      const refused = await as(a, 'HZ-SCJGJ', ['source_approver'], undefined, `mutation($i: GrantIssueInput!) { issueGrant(input: $i) { id } }`, { i: { ...input, datasetCode: '3.44.99.999/00000009' } });
      expect(refused.status).toBe(503);
      expect(refused.body.errors![0].extensions!.mutationApplied).toBeUndefined();
      expect(refused.body.errors![0].message).toMatch(/no data is returned; try again later/);
    } finally {
      await db.sql`ALTER TABLE access_record DROP CONSTRAINT test_refuse_records`;
    }
  });
});

describe('rate limit', () => {
  it('is shared by gateway processes: over the limit, HTTP 429 with Retry-After', async () => {
    const env = { GATEWAY_MODE: 'production', AUTH_PUBLIC_KEYS_DIR: issuer.keysDir, CATALOG_LOAD_ON_START: 'false', RATE_LIMIT_PER_AGENCY: '6', RATE_LIMIT_WINDOW_SECONDS: '3600' };
    // One gateway in this process, the other an operating-system process of its own (npm start's
    // dist/src/main.js): they share nothing but the database.
    const c = await startTestGateway(db.url, env);
    const d = await startGatewayProcess({ ...env, DATABASE_URL: db.url, AUDIT_HASH_KEY: TEST_AUDIT_KEY, JOBS: 'false', HOST: '127.0.0.1' }).catch(async (err) => {
      await c.stop();
      throw err;
    });
    try {
      const headers = await issuer.headers('HZ-HC-ZSJ', ['consumer']);
      const statuses: number[] = [];
      let limited: Response | undefined;
      for (let i = 0; i < 10; i++) {
        const res = await fetch((i % 2 ? c : d).url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: '{ departments { code } }' }) });
        statuses.push(res.status);
        if (res.status === 429) limited ??= res;
        else await res.arrayBuffer();
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429, 429, 429]);
      // The first refusal in the window is recorded by each process (written before its 429
      // left); the later ones are not, so a flood cannot fill the record.
      const refusedRecords = await db.sql`SELECT outcome, error_codes, row_count FROM access_record WHERE agency = 'HZ-HC-ZSJ' AND 'RATE_LIMITED' = ANY(error_codes)`;
      expect(refusedRecords).toEqual(Array(2).fill({ outcome: 'FAILED', error_codes: ['RATE_LIMITED'], row_count: 0 }));
      expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
      const body = (await limited!.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors[0].extensions.code).toBe('RATE_LIMITED');
      expect(body.errors[0].message).toMatch(/rate limit of 6 requests per 3600 s for agency HZ-HC-ZSJ/);
      // Another agency is not affected.
      const other = await c.graphql(`{ departments { code } }`, undefined, await issuer.headers('HZ-SSTHJJ', ['consumer']));
      expect(other.status).toBe(200);
    } finally {
      await c.stop();
      expect(await d.stop()).toBe(0);
    }
  });
});

