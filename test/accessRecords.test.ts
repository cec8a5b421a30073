/**
 * Querying the access record (R7/R18) over real HTTP: an agency sees its own use, the source
 * department who read its datasets (cut down to them), the data authority everything, and the
 * data-subject access report is the authority's alone. No data value appears in any answer.
 */
import { ROW_SET_MIN_ROWS } from '../src/audit/rowSet';
import { createTestDatabase, type TestDatabase } from '../src/__testUtils__/testDatabase';
import { asAgency, startTestGateway, type GraphQLReply, type TestGateway } from '../src/__testUtils__/testGateway';
import { enterprises, type EnterpriseRow } from '../src/demo/syntheticData';

const ENTERPRISES = 20;
const SEED = 11;
const PURPOSE = 'P-CASE-CHECK';
const HOUSEHOLD = '3.44.13.003/00000001';

const SCJGJ = asAgency('HZ-SCJGJ', 'consumer');
const SCJGJ_APPROVER = asAgency('HZ-SCJGJ', 'source_approver');
const GAJ = { ...asAgency('HZ-GAJ', 'consumer', PURPOSE), 'x-purpose-text': encodeURIComponent('案件核查') };
const RSJ = asAgency('HZ-RSJ', 'consumer');
const AUTHORITY = asAgency('HZ-ZSJ', 'authority');

let db: TestDatabase & { drop(): Promise<void> };
let gw: TestGateway;
let code: string;
let rows: EnterpriseRow[];
let grantId: number;
let t0: Date;
let t1: Date;
/** JSON of every accessRecords / subjectAccessReport answer, checked for data values at the end. */
const answers: string[] = [];

interface RecordItem {
  seq: string;
  at: string;
  requestId: string;
  agency: string;
  subject: string;
  purposeCode: string | null;
  purposeText: string | null;
  operationType: string | null;
  operationName: string | null;
  grantIds: number[];
  datasets: string[];
  fieldsReturned: string[];
  fieldsDenied: string[];
  masking: Record<string, string>;
  rowCount: number | null;
  outcome: string;
  errorCodes: string[];
  restricted: boolean;
}
type Page = { accessRecords: { items: RecordItem[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };

const RECORDS = `query AR($filter: AccessRecordFilter, $first: Int, $after: String) {
  accessRecords(filter: $filter, first: $first, after: $after) {
    items { seq at requestId agency subject purposeCode purposeText operationType operationName grantIds datasets
            fieldsReturned fieldsDenied masking rowCount outcome errorCodes restricted }
    pageInfo { hasNextPage endCursor }
  }
}`;

async function records(headers: Record<string, string>, filter?: Record<string, unknown>, first = 500, after?: string): Promise<GraphQLReply<Page>> {
  const r = await gw.graphql<Page>(RECORDS, { filter, first, after }, headers);
  answers.push(JSON.stringify(r.body));
  return r;
}

async function items(headers: Record<string, string>, filter?: Record<string, unknown>): Promise<RecordItem[]> {
  const r = await records(headers, filter);
  expect(r.body.errors).toBeUndefined();
  return r.body.data!.accessRecords.items;
}

const REPORT = `query SAR($idNumber: String, $uscc: String, $from: DateTimeISO, $to: DateTimeISO) {
  subjectAccessReport(idNumber: $idNumber, uscc: $uscc, from: $from, to: $to) {
    identifierType truncated
    entries { seq at agency subject purposeCode purposeText datasets fieldsReturned grantIds outcome }
  }
}`;
type Report = {
  subjectAccessReport: {
    identifierType: string;
    truncated: boolean;
    entries: { seq: string; at: string; agency: string; subject: string; purposeCode: string | null; purposeText: string | null; datasets: string[]; fieldsReturned: string[]; grantIds: number[]; outcome: string }[];
  };
};

async function report(headers: Record<string, string>, vars: Record<string, unknown>): Promise<GraphQLReply<Report>> {
  const r = await gw.graphql<Report>(REPORT, vars, headers);
  answers.push(JSON.stringify(r.body));
  return r;
}

const key = (field: string) => `${code}#${field}`;
const byName = (list: RecordItem[], name: string) => list.filter((i) => i.operationName === name);

beforeAll(async () => {
  db = await createTestDatabase();
  gw = await startTestGateway(db.url);
  const cat = await gw.graphql<{ datasets: { code: string; typeName: string }[] }>(`{ datasets { code typeName } }`);
  code = cat.body.data!.datasets.find((d) => d.typeName === 'Enterprise')!.code;
  rows = [...enterprises(ENTERPRISES, SEED)];
  const delivered = await gw.graphql<{ deliverRows: { status: string } }>(
    `mutation($d: String!, $rows: [JSONObject!]!) { deliverRows(dataset: $d, rows: $rows) { status } }`,
    { d: code, rows },
    SCJGJ,
  );
  expect(delivered.body.errors).toBeUndefined();
  expect(delivered.body.data!.deliverRows.status).toBe('ACCEPTED');

  const issued = await gw.graphql<{ issueGrant: { id: number } }>(
    `mutation($i: GrantIssueInput!) { issueGrant(input: $i) { id } }`,
    { i: { agency: 'HZ-GAJ', datasetCode: code, fields: ['name', 'legalRepresentative', 'district'], purposeCode: PURPOSE, purposeText: '涉企案件核查' } },
    SCJGJ_APPROVER,
  );
  expect(issued.body.errors).toBeUndefined();
  grantId = issued.body.data!.issueGrant.id;

  t0 = new Date();
  // A lookup asking for a field outside the grant: phone is refused (FORBIDDEN), the rest returned.
  const lookup = await gw.graphql<{ enterprise: Record<string, string | null> }>(
    `query GajLookup($k: String!) { enterprise(uscc: $k) { uscc name legalRepresentative phone } }`,
    { k: rows[0].uscc },
    GAJ,
  );
  expect(lookup.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  expect(lookup.body.data!.enterprise).toMatchObject({ uscc: rows[0].uscc, name: rows[0].name, phone: null });
  expect(lookup.body.data!.enterprise.legalRepresentative).not.toBe(rows[0].legalRepresentative); // masked
  const list = await gw.graphql(`query GajList { enterprises(first: 5) { nodes { uscc name district } } }`, undefined, GAJ);
  expect(list.body.errors).toBeUndefined();
  // GAJ's own dataset and the source department's in one operation.
  const mixed = await gw.graphql(
    `query GajMixed { enterprises(first: 2) { nodes { uscc name } } householdRegistrations(first: 1) { nodes { recordNo district } } }`,
    undefined,
    GAJ,
  );
  expect(mixed.body.errors).toBeUndefined();
  // Another purpose: no grant, refused as a whole.
  const other = await gw.graphql(`query GajOther { enterprises(first: 1) { nodes { uscc } } }`, undefined, asAgency('HZ-GAJ', 'consumer', 'P-OTHER'));
  expect(other.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  await gw.graphql(`query RsjOwn { departments { code } }`, undefined, RSJ);
  t1 = new Date();
});

afterAll(async () => {
  await gw?.stop();
  await db?.drop();
});

describe('an agency queries its own use', () => {
  it('sees its own records with fields returned and refused, masking, grant, purpose and outcome', async () => {
    const mine = await items(GAJ);
    expect(mine.length).toBeGreaterThanOrEqual(4);
    expect(mine.every((i) => i.agency === 'HZ-GAJ' && !i.restricted)).toBe(true);
    const [lookup] = byName(mine, 'GajLookup');
    expect(lookup).toMatchObject({
      agency: 'HZ-GAJ',
      subject: 'developer',
      purposeCode: PURPOSE,
      purposeText: '案件核查',
      operationType: 'query',
      grantIds: [grantId],
      datasets: [code],
      fieldsDenied: [key('phone')],
      masking: { [key('legalRepresentative')]: 'NAME' },
      rowCount: 1,
      outcome: 'PARTIAL',
      errorCodes: ['FORBIDDEN'],
    });
    expect(lookup.fieldsReturned).toEqual(expect.arrayContaining([key('uscc'), key('name'), key('legalRepresentative')]));
    expect(lookup.fieldsReturned).not.toContain(key('phone'));
    expect(new Date(lookup.at).getTime()).toBeGreaterThanOrEqual(t0.getTime() - 5);
    const [list] = byName(mine, 'GajList');
    expect(list).toMatchObject({ outcome: 'OK', rowCount: 5, fieldsDenied: [], grantIds: [grantId] });
    expect(byName(mine, 'GajOther')[0]).toMatchObject({ purposeCode: 'P-OTHER', outcome: 'DENIED', fieldsReturned: [] });
    // Its own mixed record is shown whole, its own dataset included.
    expect(byName(mine, 'GajMixed')[0].datasets).toEqual([code, HOUSEHOLD].sort());
  });

  it('lists newest first, and includes its earlier accessRecords queries', async () => {
    const mine = await items(GAJ);
    const seqs = mine.map((i) => BigInt(i.seq));
    expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)));
    expect(byName(mine, 'AR').length).toBeGreaterThan(0);
  });
});

describe('the source department queries who read its datasets', () => {
  it('sees the other agency’s reads of its dataset, cut down to its datasets', async () => {
    const seen = await items(SCJGJ, { agency: 'HZ-GAJ' });
    expect(seen.map((i) => i.operationName).sort()).toEqual(['GajList', 'GajLookup', 'GajMixed', 'GajOther']);
    expect(seen.every((i) => i.restricted && i.datasets.includes(code))).toBe(true);
    expect(byName(seen, 'GajLookup')[0]).toMatchObject({
      purposeCode: PURPOSE,
      grantIds: [grantId],
      fieldsDenied: [key('phone')],
      masking: { [key('legalRepresentative')]: 'NAME' },
      rowCount: 1,
      outcome: 'PARTIAL',
    });
    const [mixed] = byName(seen, 'GajMixed');
    expect(mixed.datasets).toEqual([code]);
    expect(mixed.fieldsReturned.every((f) => f.startsWith(`${code}#`))).toBe(true);
    expect(mixed.fieldsReturned).toEqual(expect.arrayContaining([key('uscc'), key('name')]));
    expect(mixed.rowCount).toBeNull(); // not attributable: the operation read HZ-GAJ's own dataset too
    // GAJ's queries of its own use do not touch HZ-SCJGJ's datasets: not shown.
    expect(byName(seen, 'AR')).toEqual([]);
  });

  it('filters by field, agency, purpose, outcome and period', async () => {
    const phone = await items(SCJGJ, { datasetCode: code, field: 'phone' });
    expect(phone.map((i) => i.operationName)).toEqual(['GajLookup']);
    const district = await items(SCJGJ, { datasetCode: code, field: 'district', agency: 'HZ-GAJ' });
    expect(district.map((i) => i.operationName)).toEqual(['GajList']);
    const purpose = await items(SCJGJ, { purposeCode: 'P-OTHER' });
    expect(purpose.map((i) => i.operationName)).toEqual(['GajOther']);
    const partial = await items(SCJGJ, { outcome: 'PARTIAL', agency: 'HZ-GAJ' });
    expect(partial.map((i) => i.operationName)).toEqual(['GajLookup']);
    const inPeriod = await items(SCJGJ, { agency: 'HZ-GAJ', from: t0.toISOString(), to: t1.toISOString() });
    expect(inPeriod).toHaveLength(4);
    expect(await items(SCJGJ, { agency: 'HZ-GAJ', from: t1.toISOString() })).toEqual([]);
    expect(await items(SCJGJ, { agency: 'HZ-GAJ', to: t0.toISOString() })).toEqual([]);
  });

  it('cannot filter other agencies’ records by another department’s dataset (it would reveal what else they read)', async () => {
    // GajMixed read HZ-SCJGJ's enterprises and HZ-GAJ's own household registrations.
    expect(await items(SCJGJ, { datasetCode: HOUSEHOLD })).toEqual([]);
    expect(await items(SCJGJ, { datasetCode: HOUSEHOLD, field: 'idNumber' })).toEqual([]);
    // HZ-GAJ itself filters its own records by any dataset.
    expect((await items(GAJ, { datasetCode: HOUSEHOLD })).map((i) => i.operationName)).toContain('GajMixed');
  });

  it('refuses a field filter without its dataset, and a period that ends before it starts', async () => {
    expect((await records(SCJGJ, { field: 'phone' })).body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect((await records(SCJGJ, { from: t1.toISOString(), to: t0.toISOString() })).body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('other departments', () => {
  it('see neither the reads of HZ-SCJGJ’s datasets nor HZ-GAJ’s use', async () => {
    const rsj = await items(RSJ);
    expect(rsj.length).toBeGreaterThan(0);
    expect(rsj.every((i) => i.agency === 'HZ-RSJ')).toBe(true);
    expect(await items(RSJ, { agency: 'HZ-GAJ' })).toEqual([]);
    expect(await items(RSJ, { datasetCode: code })).toEqual([]);
  });

  it('the authority’s department without the authority role is an ordinary agency', async () => {
    const zsj = await items(asAgency('HZ-ZSJ', 'consumer'));
    expect(zsj.every((i) => i.agency === 'HZ-ZSJ')).toBe(true);
  });
});

describe('the data authority', () => {
  it('sees every record, whole', async () => {
    const all = await items(AUTHORITY);
    const agencies = new Set(all.map((i) => i.agency));
    expect([...agencies]).toEqual(expect.arrayContaining(['HZ-GAJ', 'HZ-SCJGJ', 'HZ-RSJ']));
    expect(all.every((i) => !i.restricted)).toBe(true);
    expect(byName(all, 'GajMixed')[0]).toMatchObject({ datasets: [code, HOUSEHOLD].sort(), rowCount: 2 });
  });

  it('pages by cursor, newest first, without repeats or gaps', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 200; page++) {
      const r = await records(AUTHORITY, undefined, 3, after);
      expect(r.body.errors).toBeUndefined();
      const p = r.body.data!.accessRecords;
      expect(p.items.length).toBeLessThanOrEqual(3);
      seen.push(...p.items.map((i) => i.seq));
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor!;
    }
    const expected = (await db.sql<{ seq: string }[]>`SELECT seq::text AS seq FROM access_record WHERE seq <= ${seen[0]}::bigint ORDER BY seq DESC`).map((r) => r.seq);
    expect(seen).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen[seen.length - 1]).toBe('1');
  });

  it('refuses a forged cursor and a page size above 500 with BAD_USER_INPUT', async () => {
    expect((await records(AUTHORITY, undefined, 10, 'bm90LWEtY3Vyc29y')).body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect((await records(AUTHORITY, undefined, 501)).body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('subjectAccessReport', () => {
  it('lists who read rows about a credit code, when and for what purpose', async () => {
    const r = await report(AUTHORITY, { uscc: rows[0].uscc.toLowerCase() });
    expect(r.body.errors).toBeUndefined();
    const rep = r.body.data!.subjectAccessReport;
    expect(rep.identifierType).toBe('USCC');
    expect(rep.truncated).toBe(false);
    const gaj = rep.entries.filter((e) => e.agency === 'HZ-GAJ');
    const lookup = gaj.find((e) => e.fieldsReturned.includes(key('legalRepresentative')) && !e.fieldsReturned.includes(key('district')));
    expect(lookup).toMatchObject({ subject: 'developer', purposeCode: PURPOSE, purposeText: '案件核查', datasets: [code], grantIds: [grantId], outcome: 'PARTIAL' });
    expect(new Date(lookup!.at).getTime()).toBeGreaterThanOrEqual(t0.getTime() - 5);
    expect(new Date(lookup!.at).getTime()).toBeLessThanOrEqual(t1.getTime() + 5);
    // Another enterprise's report does not list this lookup.
    const otherSeqs = (await report(AUTHORITY, { uscc: rows[ENTERPRISES - 1].uscc })).body.data!.subjectAccessReport.entries.map((e) => e.seq);
    expect(otherSeqs).not.toContain(lookup!.seq);
    // The period narrows it.
    expect((await report(AUTHORITY, { uscc: rows[0].uscc, from: t1.toISOString() })).body.data!.subjectAccessReport.entries).toEqual([]);
  });

  it('answers for an ID number too, also for reads that did not select it (the row was about the person)', async () => {
    const r = await report(AUTHORITY, { idNumber: rows[0].legalRepIdNumber });
    expect(r.body.errors).toBeUndefined();
    const rep = r.body.data!.subjectAccessReport;
    expect(rep.identifierType).toBe('ID_NUMBER');
    const lookup = rep.entries.find((e) => e.agency === 'HZ-GAJ' && e.outcome === 'PARTIAL');
    expect(lookup).toMatchObject({ purposeCode: PURPOSE, datasets: [code] });
    expect(lookup!.fieldsReturned).not.toContain(key('legalRepIdNumber'));
  });

  it('finds reads of many rows, whose hashes the record keeps in a row set', async () => {
    const page = await gw.graphql<{ enterprises: { nodes: { uscc: string }[] } }>(
      `query GajPage { enterprises(first: 15) { nodes { uscc name } } }`,
      undefined,
      GAJ,
    );
    expect(page.body.errors).toBeUndefined();
    const read = page.body.data!.enterprises.nodes.map((n) => n.uscc);
    expect(read.length).toBeGreaterThan(ROW_SET_MIN_ROWS);
    const [rec] = await db.sql`SELECT seq::text AS seq, row_set FROM access_record WHERE operation_name = 'GajPage'`;
    expect(rec.row_set).toMatch(/^[0-9a-f]{64}$/);
    const onPage = rows.find((e) => e.uscc === read[read.length - 1])!;
    const offPage = rows.find((e) => !read.includes(e.uscc))!;
    for (const v of [{ uscc: onPage.uscc }, { idNumber: onPage.legalRepIdNumber }]) {
      const entry = (await report(AUTHORITY, v)).body.data!.subjectAccessReport.entries.find((e) => e.seq === rec.seq);
      expect(entry).toMatchObject({ agency: 'HZ-GAJ', purposeCode: PURPOSE, datasets: [code], fieldsReturned: [key('name'), key('uscc')], outcome: 'OK' });
    }
    const other = (await report(AUTHORITY, { uscc: offPage.uscc })).body.data!.subjectAccessReport.entries;
    expect(other.map((e) => e.seq)).not.toContain(rec.seq);
    // The period applies to reads through row sets too.
    const [{ ms }] = await db.sql`SELECT (extract(epoch FROM at) * 1000)::float8 AS ms FROM access_record WHERE seq = ${rec.seq}::bigint`;
    const at = new Date(ms as number);
    const seqsIn = async (period: Record<string, string>) =>
      (await report(AUTHORITY, { uscc: onPage.uscc, ...period })).body.data!.subjectAccessReport.entries.map((e) => e.seq);
    expect(await seqsIn({ from: at.toISOString() })).toContain(rec.seq);
    expect(await seqsIn({ from: new Date(at.getTime() + 1).toISOString() })).not.toContain(rec.seq);
    expect(await seqsIn({ to: at.toISOString() })).not.toContain(rec.seq);
  });

  it('refuses an invalid code, both or neither identifier with BAD_USER_INPUT, never echoing the value', async () => {
    const u = rows[0].uscc;
    const bad = u.slice(0, 17) + (u[17] === '0' ? '1' : '0');
    const r = await gw.graphql(REPORT, { uscc: bad }, { ...AUTHORITY, 'x-request-id': 'req-sar-bad' });
    expect(r.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(r.body)).not.toContain(bad);
    expect(JSON.stringify(gw.logs.filter((l) => l.reqId === 'req-sar-bad'))).not.toContain(bad.slice(0, 17));
    expect((await report(AUTHORITY, { idNumber: '11010519491231002Y' })).body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect((await report(AUTHORITY, { uscc: u, idNumber: rows[0].legalRepIdNumber })).body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect((await report(AUTHORITY, {})).body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('is the data authority’s alone: FORBIDDEN to others, also with the role or the department alone', async () => {
    for (const h of [GAJ, SCJGJ, asAgency('HZ-SCJGJ', 'authority'), asAgency('HZ-ZSJ', 'consumer')]) {
      const r = await report(h, { uscc: rows[0].uscc });
      expect(r.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(r.body.data?.subjectAccessReport ?? null).toBeNull();
    }
  });
});

describe('callers without identity', () => {
  it('get UNAUTHENTICATED for both queries', async () => {
    expect((await gw.graphql(RECORDS, {})).body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect((await gw.graphql(REPORT, { uscc: rows[0].uscc })).body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('no data values', () => {
  it('no answer of accessRecords or subjectAccessReport contains a delivered value', () => {
    expect(answers.length).toBeGreaterThan(10);
    const text = answers.join('\n');
    for (const e of rows) {
      for (const v of [e.uscc, e.name, e.legalRepresentative, e.legalRepIdNumber, e.phone]) {
        if (v) expect(text).not.toContain(v);
      }
    }
  });
});
