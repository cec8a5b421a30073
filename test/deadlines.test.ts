/**
 * Deadlines enforced (issue 4, item 6): the sweep's reminders and escalations (idempotent), the
 * authority's overview, and the durable job queue (pg-boss): each job done once across two
 * gateway processes, and a job still done after the process that queued it stopped.
 */
import { createTestDatabase, type TestDatabase } from '../src/__testUtils__/testDatabase';
import { asAgency, startTestGateway, type TestGateway } from '../src/__testUtils__/testGateway';
import { eventually } from '../src/__testUtils__/eventually';
import { requestShare, approveShareRequest } from '../src/workflow/shareRequests';
import { deadlineOverview, sweepDeadlines } from '../src/workflow/deadlines';
import { fileDataDemand } from '../src/workflow/dataIssues';

jest.setTimeout(90_000);

const ENTERPRISE = '3.44.13.002/00000001';
const REAL_ESTATE = '3.44.13.005/00000001';
let db: TestDatabase & { drop(): Promise<void> };

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('the deadline sweep', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway(db.url, { JOBS: 'false' });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('reminds before, escalates to the data authority after, each once; the authority sees it in its overview', async () => {
    const catalog = gw.services.catalog.current()!.catalog;
    const at = (t: string) => ({ ...gw.services, now: () => new Date(t) });
    // Asked Mon 2025-09-29: answer due at the end of Thu 2025-10-09 (National Day in between).
    const pending = await requestShare(at('2025-09-29T10:00:00+08:00'), catalog, { agency: 'HZ-RSJ', subject: 'clerk' }, {
      datasetCode: ENTERPRISE, fields: ['phone'], purposeCode: 'dl-answer', purposeText: '核验', scenario: '核验', legalBasis: '《社会保险法》',
    });
    expect(pending.answerDueAt!.toISOString()).toBe('2025-10-09T15:59:59.999Z');
    // Asked and approved (no rows yet) Fri 2026-02-13: sharing due at the end of Wed 2026-02-25.
    const asked = await requestShare(at('2026-02-13T09:00:00+08:00'), catalog, { agency: 'HZ-RSJ', subject: 'clerk' }, {
      datasetCode: REAL_ESTATE, fields: ['location'], purposeCode: 'dl-fulfil', purposeText: '核验', scenario: '核验', legalBasis: '《不动产登记暂行条例》',
    });
    const approved = await approveShareRequest(at('2026-02-13T11:00:00+08:00'), catalog, { agency: 'HZ-ZRZYJ', subject: 'approver' }, asked.id);
    expect(approved.fulfilDueAt!.toISOString()).toBe('2026-02-25T15:59:59.999Z');

    const sweep = (t: string) => sweepDeadlines(db.sql, { reminderBeforeHours: 24, now: new Date(t) });
    expect(await sweep('2025-10-08T10:00:00+08:00')).toEqual({ reminders: 0, escalations: 0 });
    expect(await sweep('2025-10-09T09:00:00+08:00')).toEqual({ reminders: 1, escalations: 0 });
    expect(await sweep('2025-10-09T09:01:00+08:00')).toEqual({ reminders: 0, escalations: 0 });
    // After the deadline: the authority (HZ-ZSJ) and the source department are told, once.
    expect(await sweep('2025-10-10T08:00:00+08:00')).toEqual({ reminders: 0, escalations: 2 });
    expect(await sweep('2025-10-10T08:01:00+08:00')).toEqual({ reminders: 0, escalations: 0 });
    const notes = await db.sql`SELECT department, kind, subject_id, message FROM notification ORDER BY id`;
    expect(notes.map((n) => `${n.department} ${n.kind} ${n.subject_id}`).sort()).toEqual(
      [`HZ-SCJGJ REMINDER ${pending.id}`, `HZ-SCJGJ ESCALATION ${pending.id}`, `HZ-ZSJ ESCALATION ${pending.id}`].sort(),
    );
    expect(notes.find((n) => n.department === 'HZ-ZSJ')!.message).toMatch(/逾期：共享申请 #\d+（HZ-RSJ → 3\.44\.13\.002\/00000001）应于 2025-10-09 23:59（北京时间）前答复，HZ-SCJGJ 尚未办理/);

    // The sharing deadline of the approved request, later.
    expect(await sweep('2026-02-26T00:00:01+08:00')).toEqual({ reminders: 0, escalations: 2 });
    const overview = await deadlineOverview(db.sql, new Date('2026-02-26T00:00:01+08:00'));
    expect(overview).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ department: 'HZ-SCJGJ', open: 1, overdue: 1 }),
        expect.objectContaining({ department: 'HZ-ZRZYJ', open: 1, overdue: 1 }),
      ]),
    );
    // Through GraphQL: the authority's notifications and overview; another department is refused the overview.
    const authority = asAgency('HZ-ZSJ', 'authority');
    const r = await gw.graphql<{ notifications: { kind: string; subjectId: number }[]; deadlineOverview: { department: string; overdue: number }[] }>(
      `{ notifications { kind subjectId } deadlineOverview { department overdue } }`, undefined, authority);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.notifications.filter((n) => n.kind === 'ESCALATION').map((n) => n.subjectId).sort()).toEqual([pending.id, asked.id].sort());
    const other = await gw.graphql(`{ deadlineOverview { department } }`, undefined, asAgency('HZ-RSJ', 'consumer'));
    expect(other.body.errors![0].extensions!.code).toBe('FORBIDDEN');
  });
});

describe('durable jobs (pg-boss)', () => {
  const env = { DEADLINE_SWEEP_CRON: '0 3 1 1 *', CATALOG_LOAD_ON_START: 'false' };

  it('does each job once when two gateway processes share the database', async () => {
    const a = await startTestGateway(db.url, env);
    const b = await startTestGateway(db.url, env);
    try {
      const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).services.jobs!.sweepNow()));
      await eventually(async () => (await db.sql`SELECT count(*)::int AS n FROM job_run WHERE job_id = ANY(${ids as string[]})`)[0].n === 12, 30_000);
      const runs = await db.sql`SELECT job_id, worker FROM job_run WHERE job_id = ANY(${ids as string[]})`;
      expect(new Set(runs.map((r) => r.job_id)).size).toBe(12);
      const failed = await db.sql`SELECT count(*)::int AS n FROM pgboss.job WHERE id = ANY(${ids as string[]}::uuid[]) AND state <> 'completed'`;
      expect(failed[0].n).toBe(0);
      expect([...a.logs, ...b.logs].filter((l) => l.msg === 'job queue error')).toEqual([]);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('keeps a job across a restart: queued by a process that stops, done by the next', async () => {
    const a = await startTestGateway(db.url, env);
    const id = await a.services.jobs!.boss.send('deadline-sweep', {}, { startAfter: 3 });
    await a.stop();
    const c = await startTestGateway(db.url, env);
    try {
      await eventually(async () => (await db.sql`SELECT count(*)::int AS n FROM job_run WHERE job_id = ${id!}`)[0].n === 1, 30_000);
    } finally {
      await c.stop();
    }
  });
});

describe('the working-day calendar at run time', () => {
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    a = await startTestGateway(db.url, { JOBS: 'false' });
    b = await startTestGateway(db.url, { JOBS: 'false', CATALOG_LOAD_ON_START: 'false' });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  // A made-up 2027 schedule for the test (not the real notice): Fri 2027-02-05 off, Sat 2027-02-20 worked.
  const schedule2027 = {
    year: 2027,
    papers: ['https://example.invalid/test-notice-2027'],
    days: [
      { name: '春节', date: '2027-02-05', isOffDay: true },
      { name: '春节', date: '2027-02-06', isOffDay: true },
      { name: '春节', date: '2027-02-07', isOffDay: true },
      { name: '春节', date: '2027-02-08', isOffDay: true },
      { name: '春节', date: '2027-02-09', isOffDay: true },
      { name: '春节', date: '2027-02-10', isOffDay: true },
      { name: '春节', date: '2027-02-11', isOffDay: true },
      { name: '春节', date: '2027-02-20', isOffDay: false },
    ],
  };

  it('warns the data authority once about a missing year; the authority loads it, open deadlines are recomputed, every gateway follows', async () => {
    const catalog = a.services.catalog.current()!.catalog;
    const before = a.services.calendar;
    expect(before.years).toEqual([2024, 2025, 2026]);
    // The job runs above (real time, late 2026) may have warned about 2027 already.
    await db.sql`DELETE FROM notification WHERE kind = 'CALENDAR'`;
    const r = await sweepDeadlines(db.sql, { reminderBeforeHours: 24, now: new Date('2027-02-03T09:00:00+08:00'), calendar: before });
    expect(r.calendarWarnings).toBe(1);
    expect((await sweepDeadlines(db.sql, { reminderBeforeHours: 24, now: new Date('2027-02-03T09:05:00+08:00'), calendar: before })).calendarWarnings).toBe(0);
    const [warning] = await db.sql`SELECT department, message FROM notification WHERE kind = 'CALENDAR'`;
    expect(warning).toMatchObject({ department: 'HZ-ZSJ', message: expect.stringMatching(/缺少 2027 年放假安排/) });

    // Asked Thu 2027-02-04 without the 2027 schedule: provisional.
    const asked = await requestShare({ ...a.services, now: () => new Date('2027-02-04T10:00:00+08:00') }, catalog, { agency: 'HZ-RSJ', subject: 'clerk' }, {
      datasetCode: REAL_ESTATE, fields: ['location'], purposeCode: 'cal-2027', purposeText: '核验', scenario: '核验', legalBasis: '《不动产登记暂行条例》',
    });
    expect(asked.dueProvisional).toBe(true);
    const provisionalDue = asked.answerDueAt!.toISOString();
    const demand = await fileDataDemand({ ...a.services, now: () => new Date('2027-02-04T10:00:00+08:00') }, catalog, { agency: 'HZ-RSJ', subject: 'clerk' }, {
      department: 'HZ-SSTHJJ', description: '噪声数据', purposeText: '核查', legalBasis: '《噪声污染防治法》',
    });
    expect(demand.dueProvisional).toBe(true);

    const authority = asAgency('HZ-ZSJ', 'authority');
    const bad = await a.graphql(`mutation($s: JSONObject!) { loadHolidayYear(schedule: $s) { year } }`, { s: { year: 2027, papers: [], days: [{ name: '', date: '2027-13-01', isOffDay: 'yes' }] } }, authority);
    expect(bad.body.errors![0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' }, message: expect.stringMatching(/3 problem\(s\).*days\[0\]\.name.*days\[0\]\.date.*days\[0\]\.isOffDay/) });
    const notAuthority = await a.graphql(`mutation($s: JSONObject!) { loadHolidayYear(schedule: $s) { year } }`, { s: schedule2027 }, asAgency('HZ-RSJ', 'authority'));
    expect(notAuthority.body.errors![0].extensions!.code).toBe('FORBIDDEN');

    const loaded = await a.graphql<{ loadHolidayYear: { year: number; recomputed: number } }>(`mutation($s: JSONObject!) { loadHolidayYear(schedule: $s) { year recomputed } }`, { s: schedule2027 }, authority);
    expect(loaded.body.errors).toBeUndefined();
    expect(loaded.body.data!.loadHolidayYear).toEqual({ year: 2027, recomputed: 2 });
    const [dd] = await db.sql`SELECT due_at, due_provisional FROM data_demand WHERE id = ${demand.id}`;
    expect(new Date(dd.due_at).toISOString()).toBe('2027-02-18T15:59:59.999Z'); // 5th working day: Thu 02-18
    expect(dd.due_provisional).toBe(false);
    const [row] = await db.sql`SELECT answer_due_at, due_provisional FROM share_request WHERE id = ${asked.id}`;
    // 02-05 to 02-11 off: the 1st working day after Thu 02-04 is Fri 02-12, the 2nd Mon 02-15.
    expect(new Date(row.answer_due_at).toISOString()).toBe('2027-02-15T15:59:59.999Z');
    expect(new Date(row.answer_due_at).toISOString()).not.toBe(provisionalDue);
    expect(row.due_provisional).toBe(false);
    const [event] = await db.sql`SELECT action, actor FROM share_request_event WHERE share_request_id = ${asked.id} ORDER BY id DESC LIMIT 1`;
    expect(event).toEqual({ action: 'DEADLINE_RECOMPUTED', actor: 'HZ-ZSJ/developer' });
    await eventually(async () => {
      const s = await b.graphql<{ calendarStatus: { years: number[] } }>(`{ calendarStatus { years } }`);
      return s.body.data?.calendarStatus.years.includes(2027) ?? false;
    });
  });
});
