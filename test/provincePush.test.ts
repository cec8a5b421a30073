/**
 * Push of open data to the provincial platform (issue 5, R15) against the simulator
 * (src/province/simulator.ts) over real HTTP: only open fields, incremental by acknowledged
 * cursor, each row exactly once across a crash and resume and a dropped acknowledgement, retries
 * with backoff, dead letter and the authority's alert, reconciliation, the durable job.
 */
import { spawn } from 'node:child_process';
import { createTestDatabase, type TestDatabase } from '../src/__testUtils__/testDatabase';
import { asAgency, startTestGateway, type TestGateway } from '../src/__testUtils__/testGateway';
import { eventually } from '../src/__testUtils__/eventually';
import { enterpriseLicenses, enterprises, socialInsurances } from '../src/demo/syntheticData';
import { createProvinceClient, ProvinceError, type ProvinceClient } from '../src/province/provinceClient';
import { pushOpenData, retryProvinceSync, type PushOptions } from '../src/province/pushOpenData';
import { pullBackflow } from '../src/province/pullBackflow';
import { startProvinceSimulator, type ProvinceSimulator } from '../src/province/simulator';

jest.setTimeout(90_000);

const ENTERPRISE = '3.44.13.002/00000001';
const LICENCE = '3.44.13.002/00000002';
const N = 1200;
let db: TestDatabase & { drop(): Promise<void> };
let gw: TestGateway;
let sim: ProvinceSimulator;

const fast: PushOptions = { chunkRows: 100, maxAttempts: 4, backoffMs: 1, sleep: async () => undefined };
const push = (opts: Partial<PushOptions> = {}, client: ProvinceClient = createProvinceClient({ endpoint: sim.url, timeoutMs: 2000 })) =>
  pushOpenData({ sql: db.sql, client, catalog: gw.services.catalog.current()!.catalog, log: gw.services.log }, { ...fast, ...opts });

/** A client whose first chunk is stored by the platform but whose acknowledgement never arrives. */
function losingFirstAck(): ProvinceClient {
  const real = createProvinceClient({ endpoint: sim.url, timeoutMs: 2000 });
  let lost = false;
  return {
    ...real,
    async pushChunk(code, chunk) {
      const r = await real.pushChunk(code, chunk);
      if (!lost) {
        lost = true;
        throw new ProvinceError('connection reset before the acknowledgement arrived', true);
      }
      return r;
    },
  };
}
const faults = (f: Record<string, unknown>) => fetch(`${sim.url}/_faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(f) });
const deliver = async (code: string, rows: unknown[]) => {
  const r = await gw.graphql<{ deliverRows: { status: string } }>(`mutation($d: String!, $rows: [JSONObject!]!) { deliverRows(dataset: $d, rows: $rows) { status } }`, { d: code, rows }, asAgency('HZ-SCJGJ'));
  expect(r.body.data?.deliverRows.status).toBe('ACCEPTED');
};

beforeAll(async () => {
  db = await createTestDatabase();
  gw = await startTestGateway(db.url, { JOBS: 'false' });
  sim = await startProvinceSimulator({ port: 0 });
  const ents = [...enterprises(N, 21)];
  for (let i = 0; i < ents.length; i += 600) await deliver(ENTERPRISE, ents.slice(i, i + 600));
  const lic = [...enterpriseLicenses(N, 21)];
  for (let i = 0; i < lic.length; i += 1000) await deliver(LICENCE, lic.slice(i, i + 1000));
  // The open catalog as the data authority published it: what the push sends.
  for (const [code, fields] of [
    [ENTERPRISE, ['uscc', 'name', 'registeredCapital', 'establishedOn', 'district', 'status']],
    [LICENCE, ['licenseNo', 'uscc', 'licenseType', 'issuingAuthority', 'issuedOn', 'validUntil', 'status']],
  ] as const) {
    const p = await gw.graphql<{ proposeOpenCatalogEntry: { id: number } }>(`mutation($c: String!, $f: [String!]!) { proposeOpenCatalogEntry(datasetCode: $c, fields: $f) { id } }`, { c: code, f: fields }, asAgency('HZ-SCJGJ', 'catalog_editor'));
    const r = await gw.graphql(`mutation($id: Int!) { reviewOpenCatalogEntry(id: $id, approve: true) { status } }`, { id: p.body.data!.proposeOpenCatalogEntry.id }, asAgency('HZ-ZSJ', 'authority'));
    expect(r.body.errors).toBeUndefined();
  }
});

afterAll(async () => {
  await sim?.stop();
  await gw?.stop();
  await db?.drop();
});

async function local(code: string): Promise<number> {
  const table = code === ENTERPRISE ? 'enterprise' : 'enterprise_license';
  return (await db.sql.unsafe(`SELECT count(*)::int AS n FROM ds.${table}`))[0].n as number;
}

it('pushes the open catalog and only the open fields of open datasets; a crash mid-push resumes with each row exactly once', async () => {
  // A "crash" after 5 chunks: the run stops, nothing after the acknowledged cursor was skipped.
  const first = await push({ stopAfterChunks: 5 });
  expect(first.datasets[0]).toMatchObject({ code: ENTERPRISE, chunksSent: 5, rowsAcknowledged: 500 });
  expect(sim.state.rowCount(ENTERPRISE)).toBe(500);
  // The next chunk's acknowledgement is lost: the platform stored it, we did not learn it.
  const second = await push({}, losingFirstAck());
  expect(second.datasets.find((d) => d.code === ENTERPRISE)).toMatchObject({ status: 'OK', duplicatesIgnored: 1, localRows: N, provinceRows: N, differing: 0 });
  expect(second.datasets.find((d) => d.code === LICENCE)).toMatchObject({ status: 'OK', differing: 0 });
  expect(sim.state.rowCount(ENTERPRISE)).toBe(await local(ENTERPRISE));
  expect(sim.state.rowCount(LICENCE)).toBe(await local(LICENCE));
  // Each row applied once: rows upserted = rows held (the resent chunk was ignored as a duplicate).
  expect(sim.state.counters.rowsUpserted).toBe((await local(ENTERPRISE)) + (await local(LICENCE)));
  expect(sim.state.counters.duplicatesIgnored).toBe(1);
  // Only open, UNCONDITIONAL fields leave: no legal representative, no registered capital (conditionally open).
  const row = [...sim.state.rows.get(ENTERPRISE)!.values()][0];
  expect(Object.keys(row).sort()).toEqual(['district', 'establishedOn', 'name', 'status', 'uscc']);
  expect(sim.state.catalog.has('3.44.13.003/00000001')).toBe(false); // household registration is not open
  expect(sim.state.catalog.has('3.44.13.006/00000001')).toBe(false); // open, but no published open-catalog entry
  expect(sim.state.catalog.get(ENTERPRISE)!.fields.map((f) => f.name)).toContain('registeredCapital'); // listed (CONDITIONAL), not pushed
});

it('sends only what changed since the acknowledged version', async () => {
  const changed = [...enterprises(N, 21)].slice(0, 7).map((e) => ({ ...e, status: '注销' }));
  await deliver(ENTERPRISE, changed);
  const r = await push();
  expect(r.datasets.find((d) => d.code === ENTERPRISE)).toMatchObject({ rowsSent: 7, rowsAcknowledged: 7, differing: 0 });
  expect(r.datasets.find((d) => d.code === LICENCE)).toMatchObject({ rowsSent: 0 });
  expect(sim.state.rows.get(ENTERPRISE)!.get(changed[0].uscc)).toMatchObject({ status: '注销' });
});

it('retries failures with backoff, then dead-letters, alerts the authority, and goes on once retried', async () => {
  const waits: number[] = [];
  await deliver(ENTERPRISE, [...enterprises(N, 21)].slice(10, 13).map((e) => ({ ...e, status: '吊销' })));
  await faults({ failNext: 2, status: 503 });
  const retried = await push({ sleep: async (ms) => void waits.push(ms), random: () => 1 });
  expect(retried.datasets.find((d) => d.code === ENTERPRISE)).toMatchObject({ status: 'OK', rowsAcknowledged: 3 });
  expect(waits).toEqual([1, 2]); // exponential: base × 2^(attempt−1), full jitter (random = 1 here)

  await deliver(ENTERPRISE, [...enterprises(N, 21)].slice(20, 22).map((e) => ({ ...e, status: '迁出' })));
  await faults({ failNext: 10, status: 503 });
  const dead = await push();
  expect(dead.datasets.find((d) => d.code === ENTERPRISE)).toMatchObject({ status: 'FAILED', rowsAcknowledged: 0 });
  const [chunk] = await db.sql`SELECT state, attempts FROM province_chunk WHERE state = 'DEAD'`;
  expect(chunk).toEqual({ state: 'DEAD', attempts: 4 });
  const [alert] = await db.sql`SELECT department, message FROM notification WHERE kind = 'ALERT'`;
  expect(alert).toMatchObject({ department: 'HZ-ZSJ', message: expect.stringMatching(/向省平台推送 3\.44\.13\.002\/00000001.*4 次尝试/) });
  const status = await gw.graphql<{ provinceSyncStatus: { datasetCode: string; status: string; lag: number; deadChunks: number }[] }>(
    `{ provinceSyncStatus { datasetCode status lag deadChunks } }`, undefined, asAgency('HZ-ZSJ', 'authority'));
  expect(status.body.data!.provinceSyncStatus.find((s) => s.datasetCode === ENTERPRISE)).toMatchObject({ status: 'FAILED', lag: 2, deadChunks: 1 });
  // Still blocked until the authority retries it.
  await faults({ reset: true });
  expect((await push()).datasets.find((d) => d.code === ENTERPRISE)!.status).toBe('FAILED');
  expect(await retryProvinceSync(db.sql, ENTERPRISE)).toBe(true);
  expect((await push()).datasets.find((d) => d.code === ENTERPRISE)).toMatchObject({ status: 'OK', rowsAcknowledged: 2, differing: 0 });
});

it('with 10% of chunks failing once and some acknowledgements dropped, still holds each row exactly once', async () => {
  await faults({ reset: true });
  await faults({ failRate: 0.1, seed: 7, dropAckNext: 3 });
  const before = sim.state.counters.errorsInjected;
  await deliver(ENTERPRISE, [...enterprises(N, 21)].map((e) => ({ ...e, status: '在业' })));
  // 120 chunks: that none of them draws a failure at 10% has a probability of 3·10⁻⁶.
  const r = await push({ chunkRows: 10 });
  expect(r.datasets.find((d) => d.code === ENTERPRISE)).toMatchObject({ status: 'OK', rowsAcknowledged: N, differing: 0 });
  expect(sim.state.counters.errorsInjected).toBeGreaterThan(before);
  expect([...sim.state.rows.get(ENTERPRISE)!.values()].every((v) => v.status === '在业')).toBe(true);
});

it('runs as a durable job, one run at a time across gateway processes', async () => {
  const env = { PROVINCE_ENDPOINT: sim.url, PROVINCE_SYNC_CRON: '0 3 1 1 *', DEADLINE_SWEEP_CRON: '0 3 1 1 *', CATALOG_LOAD_ON_START: 'false' };
  const a = await startTestGateway(db.url, env);
  const b = await startTestGateway(db.url, env);
  try {
    const ids = await Promise.all([a.services.jobs!.pushNow(), b.services.jobs!.pushNow()]);
    await eventually(async () => (await db.sql`SELECT count(*)::int AS n FROM job_run WHERE job_id = ANY(${ids as string[]})`)[0].n === 2, 30_000);
    const runs = await db.sql`SELECT result FROM job_run WHERE job_id = ANY(${ids as string[]})`;
    // Both jobs ran once each; if they overlapped, the second found the push running and did nothing.
    expect(runs.every((r) => typeof r.result.push.ran === 'boolean' && Array.isArray(r.result.backflow))).toBe(true);
  } finally {
    await a.stop();
    await b.stop();
  }
});

describe('backflow (回流, R6)', () => {
  const SOCIAL = '3.44.13.004/00000001';
  const seed = (rows: Record<string, unknown>[]) =>
    fetch(`${sim.url}/_backflow/gd-social-insurance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rows: rows.map((r) => ({ key: String(r.recordId), data: r })) }) });
  const pull = (opts: Record<string, unknown> = {}) =>
    pullBackflow({ sql: db.sql, client: createProvinceClient({ endpoint: sim.url, timeoutMs: 2000 }), catalog: gw.services.catalog.current()!.catalog, log: gw.services.log },
      [{ source: 'gd-social-insurance', dataset: SOCIAL }], { pageRows: 40, maxAttempts: 3, backoffMs: 1, maxReportedProblems: 10, sleep: async () => undefined, ...opts });
  const count = async () => (await db.sql`SELECT count(*)::int AS n FROM ds.social_insurance`)[0].n as number;
  const rows = [...socialInsurances(150, N, 5)] as unknown as Record<string, unknown>[];

  it('pulls pages into the city dataset through the delivery path, resumes without duplicates or gaps, and the rows are served under the sharing rules', async () => {
    await faults({ reset: true });
    await seed(rows.slice(0, 100));
    await faults({ failNext: 2, status: 503 });
    const first = await pull();
    expect(first[0]).toMatchObject({ status: 'OK', rows: 100 });
    expect(await count()).toBe(100);
    await seed(rows.slice(100));
    const second = await pull();
    expect(second[0].status).toBe('OK');
    expect(await count()).toBe(150); // the last page was read again (upsert by key), then the new rows
    const deliveries = await db.sql`SELECT count(*)::int AS n FROM delivery WHERE channel = 'BACKFLOW' AND status = 'ACCEPTED'`;
    expect(deliveries[0].n).toBeGreaterThanOrEqual(4);
    // Served like any dataset: the source department reads it, masked fields stay masked for others.
    const r = await gw.graphql<{ socialInsurance: { recordId: string; insuranceType: string } }>(`query($k: String!) { socialInsurance(recordId: $k) { recordId insuranceType } }`, { k: rows[120].recordId }, asAgency('HZ-RSJ'));
    expect(r.body.data!.socialInsurance).toEqual({ recordId: rows[120].recordId, insuranceType: rows[120].insuranceType });
  });

  it('stops on a page with invalid rows, keeps the dataset as it was, and alerts the authority', async () => {
    await seed([{ ...rows[0], recordId: 'SI-BAD-1', idNumber: '110101199003070001' }]);
    const before = await count();
    const r = await pull();
    expect(r[0]).toMatchObject({ status: 'FAILED', error: expect.stringMatching(/rejected: row \d+ idNumber/) });
    expect(await count()).toBe(before);
    const [alert] = await db.sql`SELECT message FROM notification WHERE kind = 'ALERT' AND subject_type = 'province_backflow'`;
    expect(alert.message).toMatch(/省级回流 gd-social-insurance → 3\.44\.13\.004\/00000001 停止/);
    expect(await retryProvinceSync(db.sql, 'gd-social-insurance')).toBe(true);
  });
});

describe('the open catalog (R14)', () => {
  const propose = (agency: string, code: string, fields: string[]) =>
    gw.graphql<{ proposeOpenCatalogEntry: { id: number; version: number; status: string } }>(
      `mutation($c: String!, $f: [String!]!) { proposeOpenCatalogEntry(datasetCode: $c, fields: $f) { id version status } }`, { c: code, f: fields }, asAgency(agency, 'catalog_editor'));
  const review = (id: number, approve: boolean, comment?: string) =>
    gw.graphql<{ reviewOpenCatalogEntry: { status: string } }>(`mutation($id: Int!, $a: Boolean!, $c: String) { reviewOpenCatalogEntry(id: $id, approve: $a, comment: $c) { status } }`, { id, a: approve, c: comment ?? null }, asAgency('HZ-ZSJ', 'authority'));

  it('is proposed by the source department, reviewed by the authority, versioned; shared-in data is refused', async () => {
    const sharedIn = await propose('HZ-RSJ', ENTERPRISE, ['name']);
    expect(sharedIn.body.errors![0]).toMatchObject({ extensions: { code: 'FORBIDDEN' }, message: expect.stringMatching(/belongs to HZ-SCJGJ: data HZ-RSJ obtained through sharing can never be in its open catalog/) });
    const closed = await propose('HZ-SCJGJ', ENTERPRISE, ['legalRepresentative']);
    expect(closed.body.errors![0].message).toMatch(/legalRepresentative cannot be opened/);
    const v1 = (await propose('HZ-SCJGJ', ENTERPRISE, ['uscc', 'name'])).body.data!.proposeOpenCatalogEntry;
    expect(v1).toMatchObject({ version: 2, status: 'IN_REVIEW' });
    expect((await review(v1.id, false)).body.errors![0].message).toMatch(/comment: say why/);
    expect((await review(v1.id, true)).body.data!.reviewOpenCatalogEntry.status).toBe('PUBLISHED');
    const v2 = (await propose('HZ-SCJGJ', ENTERPRISE, ['uscc', 'name', 'district'])).body.data!.proposeOpenCatalogEntry;
    expect((await review(v2.id, true)).body.data!.reviewOpenCatalogEntry.status).toBe('PUBLISHED');
    const history = await gw.graphql<{ openCatalog: { datasetCode: string; version: number; status: string }[] }>(`{ openCatalog(agency: "HZ-SCJGJ") { datasetCode version status } }`);
    // Version 1 was published before the push tests; then the two above.
    expect(history.body.data!.openCatalog.filter((e) => e.datasetCode === ENTERPRISE).map((e) => [e.version, e.status])).toEqual([
      [1, 'SUPERSEDED'],
      [2, 'SUPERSEDED'],
      [3, 'PUBLISHED'],
    ]);
  });
});

describe('annual opening plans (R13)', () => {
  it('are drafted and filed by agencies, published and forwarded upward by the authority, and exported as CSV and JSON', async () => {
    const p = await startTestGateway(db.url, { PROVINCE_ENDPOINT: sim.url, JOBS: 'false', CATALOG_LOAD_ON_START: 'false' });
    try {
      const editor = asAgency('HZ-SSTHJJ', 'catalog_editor');
      const notOwn = await p.graphql(`mutation { draftOpenPlan(year: 2027, items: [{ datasetCode: "${ENTERPRISE}", title: "企业登记信息" }]) { id } }`, undefined, editor);
      expect(notOwn.body.errors![0]).toMatchObject({ extensions: { code: 'FORBIDDEN' }, message: expect.stringMatching(/belongs to HZ-SCJGJ/) });
      const draft = await p.graphql(`mutation { draftOpenPlan(year: 2027, items: [{ datasetCode: "3.44.13.006/00000001", title: "空气质量小时数据（含历史）", plannedDate: "2027-03-31" }, { title: "噪声监测数据, 新编目" }]) { status } }`, undefined, editor);
      expect(draft.body.data).toEqual({ draftOpenPlan: { status: 'DRAFT' } });
      expect((await p.graphql(`mutation { fileOpenPlan(year: 2027) { status } }`, undefined, editor)).body.data).toEqual({ fileOpenPlan: { status: 'FILED' } });
      const again = await p.graphql(`mutation { draftOpenPlan(year: 2027, items: [{ title: "x" }]) { status } }`, undefined, editor);
      expect(again.body.errors![0].extensions!.code).toBe('CONFLICT');
      const published = await p.graphql<{ publishOpenPlans: { agency: string; status: string; forwardedAt: string | null }[] }>(`mutation { publishOpenPlans(year: 2027) { agency status forwardedAt } }`, undefined, asAgency('HZ-ZSJ', 'authority'));
      expect(published.body.data!.publishOpenPlans).toEqual([{ agency: 'HZ-SSTHJJ', status: 'PUBLISHED', forwardedAt: expect.any(String) }]);
      expect(sim.state.plans.get(2027)).toHaveLength(1);
      const csv = await (await fetch(`${p.baseUrl}/open-plans/2027.csv`)).text();
      expect(csv.split('\n')).toEqual(['agency,year,datasetCode,title,plannedDate', 'HZ-SSTHJJ,2027,3.44.13.006/00000001,空气质量小时数据（含历史）,2027-03-31', 'HZ-SSTHJJ,2027,,"噪声监测数据, 新编目",', '']);
      const json = (await (await fetch(`${p.baseUrl}/open-plans/2027.json`)).json()) as { agency: string; items: unknown[] }[];
      expect(json[0]).toMatchObject({ agency: 'HZ-SSTHJJ', items: expect.any(Array) });
    } finally {
      await p.stop();
    }
  });
});

describe('a push process killed mid-push', () => {
  it('resumes in the next run: the simulator holds each row exactly once', async () => {
    await db.sql`DELETE FROM province_chunk`;
    await db.sql`DELETE FROM province_sync`;
    await fetch(`${sim.url}/_reset`, { method: 'POST' });
    await faults({ slowMs: 40 });
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/__testUtils__/fixtures/pushOnce.ts'], {
      env: { ...process.env, DATABASE_URL: db.url, PROVINCE_URL: sim.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await eventually(async () => sim.state.counters.chunksApplied >= 4, 30_000);
    child.kill('SIGKILL');
    await exited;
    const appliedBeforeKill = sim.state.counters.rowsUpserted;
    expect(appliedBeforeKill).toBeGreaterThan(0);
    expect(sim.state.rowCount(ENTERPRISE) + sim.state.rowCount(LICENCE)).toBeLessThan((await local(ENTERPRISE)) + (await local(LICENCE)));
    await faults({ reset: true });
    const r = await push();
    expect(r.datasets.every((d) => d.status === 'OK' && d.differing === 0)).toBe(true);
    expect(sim.state.rowCount(ENTERPRISE)).toBe(await local(ENTERPRISE));
    expect(sim.state.rowCount(LICENCE)).toBe(await local(LICENCE));
    // Every row applied once: what a resent chunk carried was recognised by its idempotency key.
    expect(sim.state.counters.rowsUpserted).toBe((await local(ENTERPRISE)) + (await local(LICENCE)));
  });
});

describe('changes and faults at the province', () => {
  it('a narrowed open catalog entry sends every row again without the removed field; timeouts and duplicates are survived', async () => {
    await faults({ reset: true });
    const before = await push();
    expect(before.datasets.find((d) => d.code === LICENCE)!.rowsSent).toBe(0);
    // The authority publishes a narrower licence entry: issuingAuthority leaves the open catalog.
    const p = await gw.graphql<{ proposeOpenCatalogEntry: { id: number } }>(`mutation { proposeOpenCatalogEntry(datasetCode: "${LICENCE}", fields: ["licenseNo", "uscc", "licenseType", "status"]) { id } }`, undefined, asAgency('HZ-SCJGJ', 'catalog_editor'));
    await gw.graphql(`mutation($id: Int!) { reviewOpenCatalogEntry(id: $id, approve: true) { status } }`, { id: p.body.data!.proposeOpenCatalogEntry.id }, asAgency('HZ-ZSJ', 'authority'));
    // The platform times out once and delivers one chunk twice on its side: both are harmless.
    await faults({ timeoutNext: 1, duplicateNext: 1 });
    const r = await pushOpenData(
      { sql: db.sql, client: createProvinceClient({ endpoint: sim.url, timeoutMs: 300 }), catalog: gw.services.catalog.current()!.catalog, log: gw.services.log },
      { ...fast },
    );
    const lic = r.datasets.find((d) => d.code === LICENCE)!;
    expect(lic).toMatchObject({ status: 'OK', rowsAcknowledged: await local(LICENCE), differing: 0 });
    expect([...sim.state.rows.get(LICENCE)!.values()].every((row) => !('issuingAuthority' in row) && 'licenseType' in row)).toBe(true);
    expect(sim.state.catalog.get(LICENCE)!.fields.map((f) => f.name)).not.toContain('issuingAuthority');
  });
});
