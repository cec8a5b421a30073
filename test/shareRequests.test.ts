/**
 * Share requests (issue 4, items 2 and 7) over real HTTP with real signed tokens: the procedure
 * of R8/R9, its working-day deadlines, invalid transitions, concurrent deciders, and the record
 * of every state change.
 */
import { addWorkingDays, WorkingDayCalendar } from '../src/calendar/workingDays';
import { createTestDatabase, type TestDatabase } from '../src/__testUtils__/testDatabase';
import { startTestGateway, type TestGateway } from '../src/__testUtils__/testGateway';
import { createTestIssuer, type TestIssuer } from '../src/__testUtils__/testTokens';
import { enterprises, householdRegistrations } from '../src/demo/syntheticData';
import { approveShareRequest, requestShare } from '../src/workflow/shareRequests';

jest.setTimeout(60_000);

const ENTERPRISE = '3.44.13.002/00000001';
const REAL_ESTATE = '3.44.13.005/00000001';
const ROWS = [...enterprises(30, 3)];
const calendar = WorkingDayCalendar.bundled();

let db: TestDatabase & { drop(): Promise<void> };
let issuer: TestIssuer;
let gw: TestGateway;

const FIELDS = `id agency datasetCode fields status answerDueAt fulfilDueAt dueProvisional decidedBy refusalBasis refusalReason grantId events { action fromStatus toStatus actor reason }`;
type Req = { id: number; status: string; fields: string[]; answerDueAt: string | null; fulfilDueAt: string | null; grantId: number | null; refusalBasis: string | null; refusalReason: string | null; events: { action: string; toStatus: string; actor: string; reason: string | null }[] };

async function call<T = Record<string, unknown>>(agency: string, roles: string[], query: string, variables?: Record<string, unknown>, purpose?: string) {
  return gw.graphql<T>(query, variables, await issuer.headers(agency, roles, purpose));
}

async function request(input: Record<string, unknown>, agency = 'HZ-RSJ'): Promise<Req> {
  const r = await call<{ requestShare: Req }>(agency, ['consumer'], `mutation($i: ShareRequestInput!) { requestShare(input: $i) { ${FIELDS} } }`, {
    i: { purposeText: '社保待遇资格核验', scenario: '参保单位登记状态核验', legalBasis: '《中华人民共和国社会保险法》第五十九条', ...input },
  });
  expect(r.body.errors).toBeUndefined();
  return r.body.data!.requestShare;
}

const approve = (id: number, change?: Record<string, unknown>) =>
  call<{ approveShareRequest: Req }>('HZ-SCJGJ', ['source_approver'], `mutation($id: Int!, $c: ShareApprovalInput) { approveShareRequest(id: $id, change: $c) { ${FIELDS} } }`, { id, c: change ?? null });

const LOOKUP = `query($k: String!) { enterprise(uscc: $k) { name legalRepresentative } }`;

beforeAll(async () => {
  db = await createTestDatabase();
  issuer = await createTestIssuer();
  gw = await startTestGateway(db.url, { GATEWAY_MODE: 'production', AUTH_PUBLIC_KEYS_DIR: issuer.keysDir });
  const r = await call<{ deliverRows: { status: string } }>('HZ-SCJGJ', ['consumer'], `mutation($rows: [JSONObject!]!) { deliverRows(dataset: "${ENTERPRISE}", rows: $rows) { status } }`, { rows: ROWS });
  expect(r.body.data?.deliverRows.status).toBe('ACCEPTED');
});

afterAll(async () => {
  await gw?.stop();
  await db?.drop();
  await issuer?.cleanup();
});

it('grants UNCONDITIONAL fields at once (R8)', async () => {
  const r = await request({ datasetCode: ENTERPRISE, fields: ['name', 'status'], purposeCode: 'sr-uncond' });
  expect(r).toMatchObject({ status: 'GRANTED', fields: ['uscc', 'name', 'status'], answerDueAt: null });
  expect(r.grantId).toEqual(expect.any(Number));
  expect(r.events.map((e) => e.toStatus)).toEqual(['PENDING', 'GRANTED']);
  const q = await call('HZ-RSJ', ['consumer'], `query($k: String!) { enterprise(uscc: $k) { name } }`, { k: ROWS[0].uscc }, 'sr-uncond');
  expect(q.body).toEqual({ data: { enterprise: { name: ROWS[0].name } } });
});

it('sends CONDITIONAL fields to the source department, answer due in 2 working days; approval (narrowed) makes the grant usable at once when the data is in the platform', async () => {
  const before = new Date();
  const r = await request({ datasetCode: ENTERPRISE, fields: ['name', 'legalRepresentative', 'phone'], purposeCode: 'sr-cond' });
  expect(r.status).toBe('PENDING');
  expect(r.grantId).toBeNull();
  const due = addWorkingDays(before, 2, calendar).due;
  expect(new Date(r.answerDueAt!).getTime()).toBe(due.getTime());
  const denied = await call('HZ-RSJ', ['consumer'], LOOKUP, { k: ROWS[1].uscc }, 'sr-cond');
  expect(denied.body.errors![0].extensions!.code).toBe('FORBIDDEN');

  const ok = await approve(r.id, { fields: ['name', 'legalRepresentative'], comment: '电话不在核验所需范围' });
  expect(ok.body.errors).toBeUndefined();
  const a = ok.body.data!.approveShareRequest;
  expect(a).toMatchObject({ status: 'FULFILLED', fields: ['uscc', 'name', 'legalRepresentative'], decidedBy: 'HZ-SCJGJ/hz-scjgj-officer' } as Partial<Req>);
  expect(a.events.at(-1)).toMatchObject({ action: 'APPROVED', toStatus: 'FULFILLED', actor: 'HZ-SCJGJ/hz-scjgj-officer', reason: '电话不在核验所需范围' });
  const q = await call<{ enterprise: { name: string; legalRepresentative: string } }>('HZ-RSJ', ['consumer'], LOOKUP, { k: ROWS[1].uscc }, 'sr-cond');
  expect(q.body.errors).toBeUndefined();
  expect(q.body.data!.enterprise.name).toBe(ROWS[1].name);
  expect(q.body.data!.enterprise.legalRepresentative).toMatch(/^.\*+$/u); // masked (NAME)
  const again = await approve(r.id);
  expect(again.body.errors![0]).toMatchObject({ extensions: { code: 'CONFLICT' }, message: expect.stringMatching(/is FULFILLED; approved needs it PENDING/) });
});

it('a refusal must cite its legal basis, and the requester sees it; a refused request cannot be approved', async () => {
  const r = await request({ datasetCode: ENTERPRISE, fields: ['legalRepIdNumber'], purposeCode: 'sr-refused' });
  const noBasis = await call('HZ-SCJGJ', ['source_approver'], `mutation { refuseShareRequest(id: ${r.id}, basis: " ", reason: "x") { status } }`);
  expect(noBasis.body.errors![0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' }, message: expect.stringMatching(/must cite the law, regulation or rule/) });
  const refused = await call('HZ-SCJGJ', ['source_approver'], `mutation { refuseShareRequest(id: ${r.id}, basis: "《中华人民共和国个人信息保护法》第三十四条", reason: "法定代表人身份证号超出核验所需的最小范围") { status } }`);
  expect(refused.body.data).toEqual({ refuseShareRequest: { status: 'REFUSED' } });
  const seen = await call<{ shareRequests: Req[] }>('HZ-RSJ', ['consumer'], `{ shareRequests(status: REFUSED) { ${FIELDS} } }`);
  expect(seen.body.data!.shareRequests.find((x) => x.id === r.id)).toMatchObject({
    refusalBasis: '《中华人民共和国个人信息保护法》第三十四条',
    refusalReason: '法定代表人身份证号超出核验所需的最小范围',
  });
  expect((await approve(r.id)).body.errors![0].extensions!.code).toBe('CONFLICT');
});

it('the requester can withdraw (others cannot), and a withdrawn request cannot be approved', async () => {
  const r = await request({ datasetCode: ENTERPRISE, fields: ['phone'], purposeCode: 'sr-withdrawn' });
  const other = await call('HZ-GAJ', ['consumer'], `mutation { withdrawShareRequest(id: ${r.id}) { status } }`);
  expect(other.body.errors![0]).toMatchObject({ extensions: { code: 'FORBIDDEN' }, message: expect.stringMatching(/only the requesting agency HZ-RSJ/) });
  const w = await call('HZ-RSJ', ['consumer'], `mutation { withdrawShareRequest(id: ${r.id}, reason: "业务已办结") { status } }`);
  expect(w.body.data).toEqual({ withdrawShareRequest: { status: 'WITHDRAWN' } });
  expect((await approve(r.id)).body.errors![0].message).toMatch(/is WITHDRAWN/);
});

it('only the source department with source_approver decides; NOT_SHARED fields are refused at once', async () => {
  const r = await request({ datasetCode: ENTERPRISE, fields: ['phone'], purposeCode: 'sr-who' });
  const notOwner = await call('HZ-GAJ', ['source_approver'], `mutation { approveShareRequest(id: ${r.id}) { status } }`);
  expect(notOwner.body.errors![0].message).toMatch(/only the source department HZ-SCJGJ decides/);
  const noRole = await call('HZ-SCJGJ', ['consumer'], `mutation { approveShareRequest(id: ${r.id}) { status } }`);
  expect(noRole.body.errors![0].message).toMatch(/needs the source_approver role/);
  const ns = await call('HZ-RSJ', ['consumer'], `mutation($i: ShareRequestInput!) { requestShare(input: $i) { id } }`, {
    i: { datasetCode: '3.44.13.003/00000001', fields: ['idNumber'], purposeCode: 'sr-ns', purposeText: 'x', scenario: 'x', legalBasis: 'x' },
  });
  expect(ns.body.errors![0]).toMatchObject({ extensions: { code: 'FORBIDDEN' }, message: expect.stringMatching(/NOT_SHARED.*verification/) });
});

it('two approvers at once: exactly one wins, the other gets CONFLICT, and one grant exists', async () => {
  const r = await request({ datasetCode: ENTERPRISE, fields: ['phone'], purposeCode: 'sr-race' });
  const results = await Promise.all([approve(r.id), approve(r.id), approve(r.id)]);
  const won = results.filter((x) => !x.body.errors);
  expect(won).toHaveLength(1);
  expect(results.filter((x) => x.body.errors?.[0].extensions?.code === 'CONFLICT')).toHaveLength(2);
  const [{ n }] = await db.sql`SELECT count(*)::int AS n FROM access_grant WHERE purpose_code = 'sr-race'`;
  expect(n).toBe(1);
});

it('without rows in the platform yet, an approval is due for fulfilment in 3 working days; the grant is usable once fulfilled', async () => {
  const r = await request({ datasetCode: REAL_ESTATE, fields: ['ownerName'], purposeCode: 'sr-fulfil' });
  const early = await call('HZ-ZRZYJ', ['source_approver'], `mutation { fulfilShareRequest(id: ${r.id}) { status } }`);
  expect(early.body.errors![0]).toMatchObject({ extensions: { code: 'CONFLICT' }, message: expect.stringMatching(/is PENDING; fulfilled needs it APPROVED/) });
  const before = new Date();
  const a = await call<{ approveShareRequest: Req }>('HZ-ZRZYJ', ['source_approver'], `mutation { approveShareRequest(id: ${r.id}) { ${FIELDS} } }`);
  const approved = a.body.data!.approveShareRequest;
  expect(approved).toMatchObject({ status: 'APPROVED', grantId: null });
  expect(new Date(approved.fulfilDueAt!).getTime()).toBe(addWorkingDays(before, 3, calendar).due.getTime());
  const f = await call<{ fulfilShareRequest: Req }>('HZ-ZRZYJ', ['source_approver'], `mutation { fulfilShareRequest(id: ${r.id}) { ${FIELDS} } }`);
  expect(f.body.data!.fulfilShareRequest).toMatchObject({ status: 'FULFILLED', grantId: expect.any(Number) });
  expect(f.body.data!.fulfilShareRequest.events.map((e) => `${e.action}>${e.toStatus}`)).toEqual(['REQUESTED>PENDING', 'APPROVED>APPROVED', 'FULFILLED>FULFILLED']);
  const q = await call('HZ-RSJ', ['consumer'], `{ realEstateRegistrations(first: 1) { nodes { certificateNo ownerName } } }`, undefined, 'sr-fulfil');
  expect(q.body.errors).toBeUndefined();
});

describe('deadlines in working days (Asia/Shanghai; the event day is not counted)', () => {
  it.each([
    // 2025 National Day and Mid-Autumn: Oct 1–8 off; Sat Oct 11 is an adjusted working day.
    ['request on Mon 2025-09-29', '2025-09-29T10:00:00+08:00', '2025-10-09T23:59:59.999+08:00', '2025-10-10T23:59:59.999+08:00'],
    ['request on Thu 2025-10-09 (counts Sat 10-11)', '2025-10-09T09:00:00+08:00', '2025-10-11T23:59:59.999+08:00', '2025-10-13T23:59:59.999+08:00'],
    // 2026 Spring Festival: Feb 15–23 off; Sat Feb 14 and Sat Feb 28 are adjusted working days.
    ['request on Fri 2026-02-13 (counts Sat 02-14)', '2026-02-13T16:00:00+08:00', '2026-02-24T23:59:59.999+08:00', '2026-02-25T23:59:59.999+08:00'],
    // Late evening in Shanghai is still that Shanghai day (UTC date differs).
    ['request on Tue 2026-03-03 23:30 +08:00', '2026-03-03T23:30:00+08:00', '2026-03-05T23:59:59.999+08:00', '2026-03-06T23:59:59.999+08:00'],
  ])('%s', async (_label, at, answerDue, fulfilDue) => {
    const services = { ...gw.services, now: () => new Date(at) };
    const catalog = gw.services.catalog.current()!.catalog;
    const r = await requestShare(services, catalog, { agency: 'HZ-RSJ', subject: 'clerk' }, {
      datasetCode: REAL_ESTATE,
      fields: ['location'],
      purposeCode: `sr-deadline-${at.slice(0, 10)}`,
      purposeText: '不动产登记核验',
      scenario: '办理住房补贴',
      legalBasis: '《不动产登记暂行条例》',
    });
    expect(r.answerDueAt!.getTime()).toBe(new Date(answerDue).getTime());
    expect(r.dueProvisional).toBe(false);
    // Approved the same moment it was asked (no rows delivered: fulfilment due in 3 working days).
    const a = await approveShareRequest(services, catalog, { agency: 'HZ-ZRZYJ', subject: 'approver' }, r.id);
    expect(a.fulfilDueAt!.getTime()).toBe(new Date(fulfilDue).getTime());
  });

  it('marks a deadline in a year without a loaded schedule as provisional', async () => {
    const services = { ...gw.services, now: () => new Date('2027-03-02T10:00:00+08:00') };
    const r = await requestShare(services, gw.services.catalog.current()!.catalog, { agency: 'HZ-RSJ', subject: 'clerk' }, {
      datasetCode: REAL_ESTATE,
      fields: ['location'],
      purposeCode: 'sr-2027',
      purposeText: 'x',
      scenario: 'x',
      legalBasis: 'x',
    });
    expect(r.dueProvisional).toBe(true);
    expect(r.answerDueAt!.getTime()).toBe(new Date('2027-03-04T23:59:59.999+08:00').getTime());
  });
});

describe('verification (核实比对, R10)', () => {
  const HOUSEHOLD = '3.44.13.003/00000001';
  const people = [...householdRegistrations(10, 4)];
  const VERIFY = `query($k: JSONObject!, $c: JSONObject!) { verify(datasetCode: "${HOUSEHOLD}", key: $k, claims: $c) { record results { field result } } }`;
  const verify = (key: Record<string, unknown>, claims: Record<string, unknown>, purpose = 'id-check') =>
    call<{ verify: { record: string; results: { field: string; result: string }[] } }>('HZ-RSJ', ['consumer'], VERIFY, { k: key, c: claims }, purpose);

  beforeAll(async () => {
    const r = await call<{ deliverRows: { status: string } }>('HZ-GAJ', ['consumer'], `mutation($rows: [JSONObject!]!) { deliverRows(dataset: "${HOUSEHOLD}", rows: $rows) { status } }`, { rows: people });
    expect(r.body.data?.deliverRows.status).toBe('ACCEPTED');
  });

  it('needs a verification grant, requested like a share request (NOT_SHARED fields included) and approved by the source department', async () => {
    const before = await verify({ recordNo: people[0].recordNo }, { idNumber: people[0].idNumber });
    expect(before.body.errors![0]).toMatchObject({ extensions: { code: 'FORBIDDEN' }, message: expect.stringMatching(/requestShare\(kind: VERIFY\).*HZ-GAJ/) });
    const r = await request({ kind: 'VERIFY', datasetCode: HOUSEHOLD, fields: ['idNumber', 'name'], purposeCode: 'id-check' });
    expect(r.status).toBe('PENDING');
    const a = await call<{ approveShareRequest: Req }>('HZ-GAJ', ['source_approver'], `mutation { approveShareRequest(id: ${r.id}) { ${FIELDS} } }`);
    expect(a.body.data!.approveShareRequest.status).toBe('FULFILLED');
  });

  it('answers MATCH / NO_MATCH per claim, NOT_FOUND for an unknown record, and never a value', async () => {
    const p = people[1];
    const r = await verify({ recordNo: p.recordNo }, { idNumber: ` ${p.idNumber.toLowerCase()} `, name: `${p.name}X` });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.verify).toEqual({ record: 'FOUND', results: [{ field: 'idNumber', result: 'MATCH' }, { field: 'name', result: 'NO_MATCH' }] });
    expect(JSON.stringify(r.body)).not.toContain(p.name);
    const none = await verify({ recordNo: 'NO-SUCH-RECORD' }, { idNumber: p.idNumber });
    expect(none.body.data!.verify).toEqual({ record: 'NOT_FOUND', results: [] });
    const rec = (await db.sql`SELECT * FROM access_record WHERE fields_returned @> ARRAY[${`${HOUSEHOLD}#idNumber:verify`}]::text[] ORDER BY seq`)[0];
    expect(rec).toMatchObject({ agency: 'HZ-RSJ', purpose_code: 'id-check', outcome: 'OK', row_count: 1 });
    expect(JSON.stringify(rec)).not.toContain(p.idNumber);
  });

  it('does not let a verification grant read the values', async () => {
    const q = await call('HZ-RSJ', ['consumer'], `query($k: String!) { householdRegistration(recordNo: $k) { idNumber } }`, { k: people[1].recordNo }, 'id-check');
    expect(q.body.errors![0].extensions!.code).toBe('FORBIDDEN');
  });

  it('keeps a verification grant’s row restriction, even next to another grant without one', async () => {
    const d = people[0].district;
    const inside = people.find((x) => x.district === d)!;
    const outside = people.find((x) => x.district !== d)!;
    const r = await request({ kind: 'VERIFY', datasetCode: HOUSEHOLD, fields: ['name'], purposeCode: 'rows-check', rowFilter: { district: { eq: d } } }, 'HZ-ZRZYJ');
    expect((await call('HZ-GAJ', ['source_approver'], `mutation { approveShareRequest(id: ${r.id}) { status } }`)).body.errors).toBeUndefined();
    // A second verification grant on another (UNCONDITIONAL) field, granted at once, without rows.
    expect((await request({ kind: 'VERIFY', datasetCode: HOUSEHOLD, fields: ['district'], purposeCode: 'rows-check' }, 'HZ-ZRZYJ')).status).toBe('GRANTED');
    const v = (who: { recordNo: string; name: string }) =>
      call<{ verify: { record: string } }>('HZ-ZRZYJ', ['consumer'], VERIFY, { k: { recordNo: who.recordNo }, c: { name: who.name } }, 'rows-check');
    expect((await v(inside)).body.data!.verify.record).toBe('FOUND');
    expect((await v(outside)).body.data!.verify.record).toBe('NOT_FOUND');
  });

  it('verifies an uploaded list in one request and answers a per-row result file, never a value; the batch is recorded', async () => {
    const [p4, p5] = [people[4], people[5]];
    const csv = ['recordNo,idNumber,name', `${p4.recordNo},${p4.idNumber},${p4.name}`, `${p5.recordNo},${p5.idNumber},错误姓名`, 'NO-SUCH,110101199003070000,张三'].join('\n');
    const res = await fetch(`${gw.baseUrl}/datasets/${encodeURIComponent(HOUSEHOLD)}/verifications`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', ...(await issuer.headers('HZ-RSJ', ['consumer'], 'id-check')) },
      body: csv,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = await res.text();
    expect(text.trim().split('\n')).toEqual(['row,record,idNumber,name,error', '1,FOUND,MATCH,MATCH,', '2,FOUND,MATCH,NO_MATCH,', '3,NOT_FOUND,,,']);
    expect(text).not.toContain(p4.name);
    const [rec] = await db.sql`SELECT operation_type, row_count, outcome FROM access_record ORDER BY seq DESC LIMIT 1`;
    expect(rec).toEqual({ operation_type: 'batch-verification', row_count: 2, outcome: 'OK' });
    const refused = await fetch(`${gw.baseUrl}/datasets/${encodeURIComponent(HOUSEHOLD)}/verifications`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', ...(await issuer.headers('HZ-RSJ', ['consumer'], 'no-such-purpose')) },
      body: csv,
    });
    expect(refused.status).toBe(403);
    // When its record cannot be written, no result file: a 503 with an errorId, and the
    // database's own message stays in the log.
    await db.sql`ALTER TABLE access_record ADD CONSTRAINT test_refuse_records CHECK (false) NOT VALID`;
    try {
      const down = await fetch(`${gw.baseUrl}/datasets/${encodeURIComponent(HOUSEHOLD)}/verifications`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv', ...(await issuer.headers('HZ-RSJ', ['consumer'], 'id-check')) },
        body: csv,
      });
      expect(down.status).toBe(503);
      const body = (await down.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('SERVICE_UNAVAILABLE');
      expect(body.error.message).toMatch(/verification could not be written, so no result is returned; try again later \(errorId [0-9a-f]{12}\)/);
      expect(JSON.stringify(body)).not.toMatch(/test_refuse_records|constraint|FOUND/);
    } finally {
      await db.sql`ALTER TABLE access_record DROP CONSTRAINT test_refuse_records`;
    }
  });

  it('stops enumeration: a few different claims per field and record, repeats allowed', async () => {
    const key = { recordNo: people[2].recordNo };
    for (let i = 0; i < 5; i++) expect((await verify(key, { name: `猜测${i}` })).body.data!.verify.results[0].result).toBe('NO_MATCH');
    const sixth = await verify(key, { name: '猜测5' });
    expect(sixth.body.errors![0]).toMatchObject({ extensions: { code: 'RATE_LIMITED' }, message: expect.stringMatching(/at most 5 different values/) });
    expect((await verify(key, { name: '猜测0' })).body.errors).toBeUndefined();
    // Aliases run at the same time: still counted one after the other.
    const key2 = { recordNo: people[6].recordNo };
    const aliases = Array.from({ length: 12 }, (_, i) => `g${i}: verify(datasetCode: "${HOUSEHOLD}", key: $k, claims: { name: "并发猜测${i}" }) { record }`).join(' ');
    const burst = await call<Record<string, { record: string } | null>>('HZ-RSJ', ['consumer'], `query($k: JSONObject!) { ${aliases} }`, { k: key2 }, 'id-check');
    expect(Object.values(burst.body.data!).filter((v) => v !== null)).toHaveLength(5);
    expect(burst.body.errors!.filter((e) => e.extensions!.code === 'RATE_LIMITED')).toHaveLength(7);
    // Another record is not affected.
    expect((await verify({ recordNo: people[3].recordNo }, { name: people[3].name })).body.data!.verify.results[0].result).toBe('MATCH');
    const [{ n }] = await db.sql`SELECT count(*)::int AS n FROM verification_attempt WHERE claim_hash LIKE '%猜%'`;
    expect(n).toBe(0); // claims are kept as keyed hashes only
  });
});
