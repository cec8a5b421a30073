/**
 * Demands for uncatalogued data (R11), error reports and data subjects' requests (R17–R19), over
 * real HTTP with real signed tokens: deadlines, answers, the `underVerification` flag, and the
 * deadline sweep that covers them.
 */
import { addWorkingDays, WorkingDayCalendar } from '../src/calendar/workingDays';
import { createTestDatabase, type TestDatabase } from '../src/__testUtils__/testDatabase';
import { startTestGateway, type TestGateway } from '../src/__testUtils__/testGateway';
import { createTestIssuer, type TestIssuer } from '../src/__testUtils__/testTokens';
import { enterprises, householdRegistrations } from '../src/demo/syntheticData';
import { sweepDeadlines } from '../src/workflow/deadlines';

jest.setTimeout(60_000);

const ENTERPRISE = '3.44.13.002/00000001';
const HOUSEHOLD = '3.44.13.003/00000001';
const AIR = '3.44.13.006/00000001';
const ROWS = [...enterprises(10, 8)];
const PEOPLE = [...householdRegistrations(5, 8)];
const calendar = WorkingDayCalendar.bundled();

let db: TestDatabase & { drop(): Promise<void> };
let issuer: TestIssuer;
let gw: TestGateway;

async function call<T = Record<string, unknown>>(agency: string, roles: string[], query: string, variables?: Record<string, unknown>, purpose?: string) {
  return gw.graphql<T>(query, variables, await issuer.headers(agency, roles, purpose));
}

beforeAll(async () => {
  db = await createTestDatabase();
  issuer = await createTestIssuer();
  gw = await startTestGateway(db.url, { GATEWAY_MODE: 'production', AUTH_PUBLIC_KEYS_DIR: issuer.keysDir, JOBS: 'false' });
  for (const [agency, code, rows] of [['HZ-SCJGJ', ENTERPRISE, ROWS], ['HZ-GAJ', HOUSEHOLD, PEOPLE]] as const) {
    const r = await call<{ deliverRows: { status: string } }>(agency, ['consumer'], `mutation($d: String!, $rows: [JSONObject!]!) { deliverRows(dataset: $d, rows: $rows) { status } }`, { d: code, rows });
    expect(r.body.data?.deliverRows.status).toBe('ACCEPTED');
  }
  const g = await call(`HZ-RSJ`, ['consumer'], `mutation { applyForGrant(input: { datasetCode: "${ENTERPRISE}", fields: ["name"], purposeCode: "check", purposeText: "核验" }) { id } }`);
  expect(g.body.errors).toBeUndefined();
});

afterAll(async () => {
  await gw?.stop();
  await db?.drop();
  await issuer?.cleanup();
});

describe('demands for uncatalogued data (R11)', () => {
  const FILE = `mutation($d: String!) { fileDataDemand(department: $d, description: "各监测站点噪声小时数据", purposeText: "噪声投诉核查", legalBasis: "《噪声污染防治法》") { id status dueAt } }`;

  it('are due in 5 working days; the department answers by an explanation or a published entry of its own, once', async () => {
    const before = new Date();
    const filed = await call<{ fileDataDemand: { id: number; status: string; dueAt: string } }>('HZ-RSJ', ['consumer'], FILE, { d: 'HZ-SSTHJJ' });
    expect(filed.body.errors).toBeUndefined();
    const d = filed.body.data!.fileDataDemand;
    expect(d.status).toBe('OPEN');
    expect(new Date(d.dueAt).getTime()).toBe(addWorkingDays(before, 5, calendar).due.getTime());

    const other = await call('HZ-GAJ', ['source_approver'], `mutation { answerDataDemand(id: ${d.id}, explanation: "x") { status } }`);
    expect(other.body.errors![0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    const notPublished = await call('HZ-SSTHJJ', ['source_approver'], `mutation { answerDataDemand(id: ${d.id}, datasetCode: "3.44.13.006/00000099") { status } }`);
    expect(notPublished.body.errors![0].message).toMatch(/not a published dataset; publish the entry through the catalog review first/);
    const answered = await call<{ answerDataDemand: { status: string; datasetCode: string } }>('HZ-SSTHJJ', ['source_approver'], `mutation { answerDataDemand(id: ${d.id}, datasetCode: "${AIR}") { status datasetCode } }`);
    expect(answered.body.data).toEqual({ answerDataDemand: { status: 'CATALOGUED', datasetCode: AIR } });
    const again = await call('HZ-SSTHJJ', ['source_approver'], `mutation { answerDataDemand(id: ${d.id}, explanation: "无此数据") { status } }`);
    expect(again.body.errors![0].extensions!.code).toBe('CONFLICT');

    const second = (await call<{ fileDataDemand: { id: number } }>('HZ-RSJ', ['consumer'], FILE, { d: 'HZ-SSTHJJ' })).body.data!.fileDataDemand;
    const declined = await call<{ answerDataDemand: { status: string; explanation: string } }>('HZ-SSTHJJ', ['source_approver'], `mutation { answerDataDemand(id: ${second.id}, explanation: "本局未采集该数据，建议向生态环境部门监测站申请") { status explanation } }`);
    expect(declined.body.data!.answerDataDemand.status).toBe('DECLINED');
    const seen = await call<{ dataDemands: { id: number; status: string; explanation: string | null }[] }>('HZ-RSJ', ['consumer'], `{ dataDemands { id status explanation } }`);
    expect(seen.body.data!.dataDemands.find((x) => x.id === second.id)!.explanation).toMatch(/未采集/);
  });

  it('are escalated to the data authority when unanswered past their deadline', async () => {
    const d = (await call<{ fileDataDemand: { id: number; dueAt: string } }>('HZ-RSJ', ['consumer'], FILE, { d: 'HZ-ZRZYJ' })).body.data!.fileDataDemand;
    const after = new Date(new Date(d.dueAt).getTime() + 1000);
    const r = await sweepDeadlines(db.sql, { reminderBeforeHours: 24, now: after });
    expect(r.escalations).toBeGreaterThanOrEqual(2);
    const [n] = await db.sql`SELECT message FROM notification WHERE department = 'HZ-ZSJ' AND subject_type = 'data_demand' AND subject_id = ${d.id}`;
    expect(n.message).toMatch(/逾期：数据需求 #\d+（HZ-RSJ → 未编目数据）.*HZ-ZRZYJ 尚未办理/);
  });
});

describe('error reports (R17) and data subjects’ requests (R18), and the flag (R19)', () => {
  const FLAG = `query($k: String!) { enterprise(uscc: $k) { name underVerification } }`;

  it('an agency reports doubtful data: the record is flagged while it is handled, queries still work, the result is told', async () => {
    const e = ROWS[2];
    const notFound = await call('HZ-RSJ', ['consumer'], `mutation { reportDataError(datasetCode: "${ENTERPRISE}", key: { uscc: "91441300MA0000000X" }, description: "x") { id } }`);
    expect(notFound.body.errors![0].extensions!.code).toBe('NOT_FOUND');
    // Without a grant on the dataset, no report (and no answer about whether the record exists).
    const noGrant = await call('HZ-SSTHJJ', ['consumer'], `mutation($k: JSONObject!) { reportDataError(datasetCode: "${ENTERPRISE}", key: $k, description: "x") { id } }`, { k: { uscc: e.uscc } });
    expect(noGrant.body.errors![0]).toMatchObject({ extensions: { code: 'FORBIDDEN' }, message: expect.stringMatching(/holds no grant on 3\.44\.13\.002\/00000001/) });
    const before = new Date();
    const rep = await call<{ reportDataError: { id: number; status: string; dueAt: string } }>(
      'HZ-RSJ', ['consumer'], `mutation($k: JSONObject!) { reportDataError(datasetCode: "${ENTERPRISE}", key: $k, fields: ["name"], description: "企业名称与营业执照不一致") { id status dueAt } }`, { k: { uscc: e.uscc } });
    expect(rep.body.errors).toBeUndefined();
    const c = rep.body.data!.reportDataError;
    expect(new Date(c.dueAt).getTime()).toBe(addWorkingDays(before, 10, calendar).due.getTime());

    const flagged = await call<{ enterprise: { name: string; underVerification: boolean } }>('HZ-RSJ', ['consumer'], FLAG, { k: e.uscc }, 'check');
    expect(flagged.body).toEqual({ data: { enterprise: { name: e.name, underVerification: true } } });
    const other = await call<{ enterprise: { underVerification: boolean } }>('HZ-RSJ', ['consumer'], FLAG, { k: ROWS[3].uscc }, 'check');
    expect(other.body.data!.enterprise.underVerification).toBe(false);

    const notOwner = await call('HZ-RSJ', ['source_approver'], `mutation { resolveCorrection(id: ${c.id}, outcome: "CORRECTED", resolution: "x") { status } }`);
    expect(notOwner.body.errors![0].extensions!.code).toBe('FORBIDDEN');
    const resolved = await call('HZ-SCJGJ', ['source_approver'], `mutation { resolveCorrection(id: ${c.id}, outcome: "CORRECTED", resolution: "已按营业执照更正企业名称，下次交付生效") { status } }`);
    expect(resolved.body.data).toEqual({ resolveCorrection: { status: 'RESOLVED' } });
    expect((await call('HZ-SCJGJ', ['source_approver'], `mutation { resolveCorrection(id: ${c.id}, outcome: "CONFIRMED", resolution: "x") { status } }`)).body.errors![0].extensions!.code).toBe('CONFLICT');
    const after = await call<{ enterprise: { underVerification: boolean } }>('HZ-RSJ', ['consumer'], FLAG, { k: e.uscc }, 'check');
    expect(after.body.data!.enterprise.underVerification).toBe(false);
    const told = await call<{ corrections: { id: number; outcome: string; resolution: string }[] }>('HZ-RSJ', ['consumer'], `{ corrections { id outcome resolution } }`);
    expect(told.body.data!.corrections.find((x) => x.id === c.id)).toMatchObject({ outcome: 'CORRECTED', resolution: expect.stringMatching(/已按营业执照更正/) });
  });

  it('a data subject’s request is filed by the data authority only, due in 10 working days at the source department', async () => {
    const p = PEOPLE[1];
    const Q = `mutation($k: JSONObject!, $t: String!) { fileSubjectRequest(datasetCode: "${HOUSEHOLD}", key: $k, requestType: $t, description: "本人对户籍地址记载提出异议", reference: "HZ-ZSJ-2026-0042") { id status kind requestType } }`;
    const byAgency = await call('HZ-RSJ', ['authority'], Q, { k: { recordNo: p.recordNo }, t: 'OBJECTION' });
    expect(byAgency.body.errors![0].extensions!.code).toBe('FORBIDDEN');
    const badType = await call('HZ-ZSJ', ['authority'], Q, { k: { recordNo: p.recordNo }, t: 'SELL' });
    expect(badType.body.errors![0].message).toMatch(/requestType: one of OBJECTION, VIEW, COPY, CORRECT, DELETE/);
    const filed = await call<{ fileSubjectRequest: { id: number; status: string; kind: string; requestType: string } }>('HZ-ZSJ', ['authority'], Q, { k: { recordNo: p.recordNo }, t: 'OBJECTION' });
    expect(filed.body.data!.fileSubjectRequest).toMatchObject({ status: 'OPEN', kind: 'SUBJECT_REQUEST', requestType: 'OBJECTION' });
    const seenBySource = await call<{ corrections: { id: number; reference: string }[] }>('HZ-GAJ', ['source_approver'], `{ corrections { id reference } }`);
    expect(seenBySource.body.data!.corrections.map((x) => x.id)).toContain(filed.body.data!.fileSubjectRequest.id);
    expect(JSON.stringify(seenBySource.body)).not.toContain(p.idNumber);
  });
});

describe('requests from the public (R16)', () => {
  it('are filed by the portal, answered by the agency within 20 working days, and escalated when late', async () => {
    const FILE = `mutation { filePublicRequest(department: "HZ-SSTHJJ", requesterRef: "PORTAL-2026-000123", datasetCode: "${AIR}", description: "各站点逐小时 PM2.5 历史数据", purpose: "学术研究", scenario: "空气质量模型训练", safeguards: "仅用于研究，不对外提供原始数据", periodUntil: "2027-12-31T00:00:00Z") { id status dueAt } }`;
    const byAgency = await call('HZ-RSJ', ['consumer'], FILE);
    expect(byAgency.body.errors![0].extensions!.code).toBe('FORBIDDEN');
    const before = new Date();
    const filed = await call<{ filePublicRequest: { id: number; status: string; dueAt: string } }>('HZ-ZSJ', ['sync_job'], FILE);
    expect(filed.body.errors).toBeUndefined();
    const r = filed.body.data!.filePublicRequest;
    expect(new Date(r.dueAt).getTime()).toBe(addWorkingDays(before, 20, calendar).due.getTime());
    const missing = await call('HZ-ZSJ', ['sync_job'], `mutation { filePublicRequest(department: "HZ-SSTHJJ", requesterRef: "x", description: "x", purpose: "x", scenario: "x", safeguards: " ") { id } }`);
    expect(missing.body.errors![0].message).toMatch(/required: safeguards/);
    // Late: escalated to the data authority.
    await sweepDeadlines(db.sql, { reminderBeforeHours: 24, now: new Date(new Date(r.dueAt).getTime() + 1000) });
    const [n] = await db.sql`SELECT message FROM notification WHERE kind = 'ESCALATION' AND subject_type = 'public_request' AND department = 'HZ-ZSJ'`;
    expect(n.message).toMatch(/逾期：公众数据申请 #\d+（PORTAL-2026-000123 → 3\.44\.13\.006\/00000001）.*HZ-SSTHJJ 尚未办理/);
    const answered = await call<{ answerPublicRequest: { status: string; answer: string } }>('HZ-SSTHJJ', ['source_approver'], `mutation { answerPublicRequest(id: ${r.id}, grant: true, answer: "已通过开放平台以有条件开放方式提供") { status answer } }`);
    expect(answered.body.data!.answerPublicRequest.status).toBe('GRANTED');
    expect((await call('HZ-SSTHJJ', ['source_approver'], `mutation { answerPublicRequest(id: ${r.id}, grant: false, answer: "x") { status } }`)).body.errors![0].extensions!.code).toBe('CONFLICT');
  });
});
