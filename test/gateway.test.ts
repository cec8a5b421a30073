/**
 * The gateway end to end over real HTTP against a real PostgreSQL: the shipped catalog is
 * published from schema/, synthetic rows are delivered through the delivery mutation, and the
 * generated query API is exercised.
 */
import http from 'node:http';
import { createTestDatabase, type TestDatabase } from '../src/__testUtils__/testDatabase';
import { asAgency, startTestGateway, type TestGateway } from '../src/__testUtils__/testGateway';
import { enterpriseLicenses, enterprises } from '../src/demo/syntheticData';

const ENTERPRISES = 300;
const SEED = 7;
const SCJGJ = asAgency('HZ-SCJGJ', 'consumer');

let db: TestDatabase & { drop(): Promise<void> };
let gw: TestGateway;
let statements: string[] = [];
let enterpriseCode: string;
let licenceCode: string;

async function deliver(code: string, rows: unknown[]) {
  const r = await gw.graphql<{ deliverRows: { status: string; rowCount: number; problems: unknown[] } }>(
    `mutation($d: String!, $rows: [JSONObject!]!) { deliverRows(dataset: $d, rows: $rows) { status rowCount problems { row field reason } } }`,
    { d: code, rows },
    SCJGJ,
  );
  expect(r.body.errors).toBeUndefined();
  return r.body.data!.deliverRows;
}

beforeAll(async () => {
  db = await createTestDatabase();
  gw = await startTestGateway(db.url, {}, { onQuery: (q) => statements.push(q) });
  // The query API is exercised as the source department, which reads its own datasets
  // without a grant (grants and their enforcement: test/authorization.test.ts).
  const raw = gw.graphql.bind(gw);
  gw.graphql = ((q: string, v?: Record<string, unknown>, h?: Record<string, string>) => raw(q, v, h ?? SCJGJ)) as typeof gw.graphql;
  const cat = await gw.graphql<{ datasets: { code: string; typeName: string }[] }>(`{ datasets { code typeName } }`);
  enterpriseCode = cat.body.data!.datasets.find((d) => d.typeName === 'Enterprise')!.code;
  licenceCode = cat.body.data!.datasets.find((d) => d.typeName === 'EnterpriseLicense')!.code;
  expect((await deliver(enterpriseCode, [...enterprises(ENTERPRISES, SEED)])).status).toBe('ACCEPTED');
  expect((await deliver(licenceCode, [...enterpriseLicenses(ENTERPRISES, SEED)])).status).toBe('ACCEPTED');
});

afterAll(async () => {
  await gw?.stop();
  await db?.drop();
});

describe('health', () => {
  it('answers /healthz and /readyz with 200 while the database is up', async () => {
    expect((await fetch(`${gw.baseUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${gw.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
  });
});

describe('catalog browsing', () => {
  it('lists departments and datasets with Chinese labels, classes and grades but no values', async () => {
    const r = await gw.graphql<{ departments: { code: string; name: string }[]; dataset: { name: string; fields: { name: string; label: string; shareClass: string; grade: string }[] } }>(
      `query($c: String!) { departments { code name } dataset(code: $c) { name fields { name label shareClass grade } } }`,
      { c: enterpriseCode },
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.departments.map((d) => d.code)).toEqual(expect.arrayContaining(['HZ-SCJGJ', 'HZ-GAJ', 'HZ-ZSJ']));
    expect(r.body.data!.dataset.name).toMatch(/企业/);
    const uscc = r.body.data!.dataset.fields.find((f) => f.name === 'uscc')!;
    expect(uscc.label).toBe('统一社会信用代码');
    expect(uscc.shareClass).toBe('UNCONDITIONAL');
  });
});

describe('query API generated from the catalog', () => {
  const all = [...enterprises(ENTERPRISES, SEED)];
  const byUscc = [...all].sort((a, b) => (a.uscc < b.uscc ? -1 : 1));

  it('looks a row up by its key', async () => {
    const e = all[42];
    const r = await gw.graphql<{ enterprise: Record<string, unknown> }>(
      `query($k: String!) { enterprise(uscc: $k) { uscc name legalRepresentative registeredCapital establishedOn } }`,
      { k: e.uscc },
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.enterprise).toEqual({
      uscc: e.uscc,
      name: e.name,
      legalRepresentative: e.legalRepresentative,
      registeredCapital: e.registeredCapital,
      establishedOn: e.establishedOn,
    });
  });

  it('answers the same lookup document with different keys correctly (statement reuse)', async () => {
    const q = `query($k: String!) { enterprise(uscc: $k) { uscc name licenses { licenseNo } } e2: enterprise(uscc: $k) { uscc } }`;
    const simple = `query($k: String!) { enterprise(uscc: $k) { uscc name } }`;
    for (const e of all.slice(0, 5)) {
      const r1 = await gw.graphql<{ enterprise: { uscc: string; name: string } }>(simple, { k: e.uscc });
      expect(r1.body.data!.enterprise).toEqual({ uscc: e.uscc, name: e.name });
      const r2 = await gw.graphql<{ enterprise: { uscc: string }; e2: { uscc: string } }>(q, { k: e.uscc });
      expect(r2.body.data!.enterprise.uscc).toBe(e.uscc);
      expect(r2.body.data!.e2.uscc).toBe(e.uscc);
    }
  });

  it('answers null for an unknown key', async () => {
    const r = await gw.graphql(`{ enterprise(uscc: "914413000000000000") { uscc } }`);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data).toEqual({ enterprise: null });
  });

  it('pages through a filtered list in a stable key order without gaps or repeats', async () => {
    const district = all[0].district;
    const expected = byUscc.filter((e) => e.district === district).map((e) => e.uscc);
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 100; page++) {
      const r: Awaited<ReturnType<typeof gw.graphql<{ enterprises: { nodes: { uscc: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string }; totalCount: number } }>>> =
        await gw.graphql(
          `query($d: String!, $after: String) { enterprises(filter: { district: { eq: $d } }, first: 7, after: $after) { totalCount nodes { uscc } pageInfo { hasNextPage endCursor } } }`,
          { d: district, after },
        );
      expect(r.body.errors).toBeUndefined();
      const c = r.body.data!.enterprises;
      expect(c.totalCount).toBe(expected.length);
      seen.push(...c.nodes.map((n) => n.uscc));
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    expect(seen).toEqual(expected);
  });

  it('orders by an indexed field descending with pagination, keys breaking ties', async () => {
    const expected = [...all]
      .sort((a, b) => (a.status === b.status ? (a.uscc < b.uscc ? 1 : -1) : a.status < b.status ? 1 : -1))
      .map((e) => e.uscc);
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 100; page++) {
      const r: { body: { data?: { enterprises: { edges: { cursor: string; node: { uscc: string } }[]; pageInfo: { hasNextPage: boolean } } } } } =
        await gw.graphql(`query($after: String) { enterprises(orderBy: STATUS_DESC, first: 50, after: $after) { edges { cursor node { uscc } } pageInfo { hasNextPage } } }`, { after });
      const c = r.body.data!.enterprises;
      seen.push(...c.edges.map((e) => e.node.uscc));
      if (!c.pageInfo.hasNextPage) break;
      after = c.edges[c.edges.length - 1].cursor;
    }
    expect(seen).toEqual(expected);
  });

  it('filters with in / gte / startsWith and combines conditions', async () => {
    const some = byUscc.slice(10, 14).map((e) => e.uscc);
    const r = await gw.graphql<{ enterprises: { nodes: { uscc: string }[] } }>(
      `query($in: [String!]) { enterprises(filter: { uscc: { in: $in }, or: [{ status: { eq: "存续" } }, { status: { ne: "存续" } }] }, first: 10) { nodes { uscc } } }`,
      { in: some },
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.enterprises.nodes.map((n) => n.uscc)).toEqual(some);
  });

  it('refuses a page size above the limit with BAD_USER_INPUT', async () => {
    const r = await gw.graphql(`{ enterprises(first: 101) { nodes { uscc } } }`);
    expect(r.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses a forged cursor with BAD_USER_INPUT', async () => {
    const r = await gw.graphql(`{ enterprises(first: 5, after: "bm90LWEtY3Vyc29y") { nodes { uscc } } }`);
    expect(r.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('loads nested references for a page in one SQL statement, never one per row', async () => {
    const district = all[0].district;
    statements = [];
    const r = await gw.graphql<{ enterprises: { nodes: { uscc: string; licenses: { licenseNo: string; uscc: string; enterprise: { uscc: string } }[] }[] } }>(
      `query($d: String!) { enterprises(filter: { district: { eq: $d } }, first: 50) { nodes { uscc name licenses { licenseNo uscc enterprise { uscc } } } } }`,
      { d: district },
    );
    expect(r.body.errors).toBeUndefined();
    const nodes = r.body.data!.enterprises.nodes;
    expect(nodes.length).toBeGreaterThan(5);
    const licences = [...enterpriseLicenses(ENTERPRISES, SEED)];
    for (const n of nodes) {
      const mine = licences.filter((l) => l.uscc === n.uscc).map((l) => l.licenseNo).sort();
      expect(n.licenses.map((l) => l.licenseNo)).toEqual(mine);
      for (const l of n.licenses) expect(l.enterprise.uscc).toBe(n.uscc);
    }
    const rowStatements = statements.filter((s) => s.includes('"ds".'));
    expect(rowStatements).toHaveLength(1);
  });
});

describe('errors', () => {
  it('masks an internal error: no SQL or stack for the client, an errorId that finds the full log entry with the request id', async () => {
    await db.sql`ALTER TABLE ds.enterprise RENAME TO enterprise_hidden`;
    try {
      const r = await gw.graphql(`{ enterprises(first: 1) { nodes { uscc } } }`, undefined, { ...SCJGJ, 'x-request-id': 'req-mask-1' });
      const err = r.body.errors![0];
      expect(err.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(JSON.stringify(r.body)).not.toMatch(/SELECT|enterprise_hidden|relation|stack|at /i);
      const errorId = err.extensions!.errorId as string;
      const entry = gw.logs.find((l) => l.errorId === errorId);
      expect(entry).toMatchObject({ reqId: 'req-mask-1', level: 50 });
      expect(JSON.stringify(entry)).toMatch(/does not exist/);
    } finally {
      await db.sql`ALTER TABLE ds.enterprise_hidden RENAME TO enterprise`;
    }
  });

  it('writes the request id on every log line of a request', async () => {
    await gw.graphql(`{ departments { code } }`, undefined, { 'x-request-id': 'req-lines-2' });
    const lines = gw.logs.filter((l) => l.reqId === 'req-lines-2');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.reqId === 'req-lines-2')).toBe(true);
  });
});

describe('update cycle (R3)', () => {
  it('lists a dataset past its update cycle as late, and not one delivered within it', async () => {
    await db.sql`UPDATE dataset_version SET published_at = now() - interval '40 days'
                 WHERE dataset_id IN (SELECT id FROM dataset WHERE type_name IN ('HouseholdRegistration', 'Enterprise'))`;
    const r = await gw.graphql<{ lateDatasets: { typeName: string; late: boolean; dueAt: string }[]; deliveries: { status: string; channel: string; rowCount: number; checksum: string; deliveredBy: string }[] }>(
      `query($c: String!) { lateDatasets { typeName late dueAt } deliveries(dataset: $c) { status channel rowCount checksum deliveredBy } }`,
      { c: enterpriseCode },
    );
    expect(r.body.errors).toBeUndefined();
    const late = r.body.data!.lateDatasets.map((d) => d.typeName);
    expect(late).toContain('HouseholdRegistration');
    expect(late).not.toContain('Enterprise');
    expect(r.body.data!.deliveries[0]).toMatchObject({ status: 'ACCEPTED', channel: 'GRAPHQL', rowCount: ENTERPRISES, deliveredBy: 'HZ-SCJGJ/developer' });
    expect(r.body.data!.deliveries[0].checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a delivery by a department that is not the source department', async () => {
    const r = await gw.graphql(
      `mutation($d: String!, $rows: [JSONObject!]!) { deliverRows(dataset: $d, rows: $rows) { status } }`,
      { d: enterpriseCode, rows: [...enterprises(1, SEED)] },
      asAgency('HZ-GAJ'),
    );
    expect(r.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});

describe('response media type (Accept)', () => {
  // Apollo's choice of media type is kept per Accept header (patches/negotiator+1.1.0.patch):
  // each header is asked twice, so the second answer comes from what was kept.
  // node:http rather than fetch, which would send `Accept: */*` when none is given.
  const ask = (accept: string | undefined) =>
    new Promise<{ status: number; type: string | undefined; body: { data?: { departments: unknown[] }; errors?: unknown[] } }>((resolve, reject) => {
      const body = JSON.stringify({ query: '{ departments { code } }' });
      const req = http.request(
        `${gw.baseUrl}/graphql`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(accept === undefined ? {} : { accept }), ...SCJGJ } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  it.each([
    ['application/json', 200, 'application/json; charset=utf-8'],
    ['application/graphql-response+json', 200, 'application/graphql-response+json; charset=utf-8'],
    ['application/graphql-response+json, application/json;q=0.9', 200, 'application/graphql-response+json; charset=utf-8'],
    ['application/graphql-response+json;q=0.5, application/json', 200, 'application/json; charset=utf-8'],
    ['*/*', 200, 'application/json; charset=utf-8'],
    [undefined, 200, 'application/json; charset=utf-8'],
    ['text/html', 406, 'application/json; charset=utf-8'],
  ])('Accept: %s gives %i with content-type %s, the same the second time', async (accept, status, type) => {
    for (let i = 0; i < 2; i++) {
      const r = await ask(accept);
      expect(r.status).toBe(status);
      expect(r.type).toBe(type);
      if (status === 200) expect(r.body.data!.departments.length).toBeGreaterThan(0);
      else expect(r.body).toMatchObject({ errors: [expect.objectContaining({ message: expect.stringMatching(/accept/i) })] });
    }
  });
});

describe('hostile requests', () => {
  it('answers 413 to an oversized body and 400 to malformed JSON, and keeps serving', async () => {
    const big = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ departments { code } }`, pad: 'x'.repeat(2_000_000) }) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const bad = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(bad.status).toBe(400);
    const ok = await gw.graphql(`{ departments { code } }`);
    expect(ok.status).toBe(200);
  });

  it('answers 404 with a JSON error for an unknown route', async () => {
    const r = await fetch(`${gw.baseUrl}/nope`);
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no route GET /nope' } });
  });
});

describe('file delivery over HTTP', () => {
  const csv = (rows: Record<string, unknown>[]) => {
    const cols = Object.keys(rows[0]);
    const cell = (v: unknown) => (v === null || v === undefined ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
    return [cols.join(','), ...rows.map((r) => cols.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
  };
  const upload = (code: string, body: string, headers: Record<string, string>) =>
    fetch(`${gw.baseUrl}/datasets/${encodeURIComponent(code)}/deliveries`, { method: 'POST', headers: { 'content-type': 'text/csv', ...headers }, body });

  it('accepts a CSV from the source department, upserting by key', async () => {
    const rows = [...enterprises(ENTERPRISES + 20, SEED)].slice(ENTERPRISES);
    const r = await upload(enterpriseCode, csv(rows), SCJGJ);
    expect(r.status).toBe(201);
    expect(await r.json()).toMatchObject({ status: 'ACCEPTED', rowCount: 20, inserted: 20, updated: 0 });
    const one = await gw.graphql<{ enterprise: { name: string } }>(`query($k: String!) { enterprise(uscc: $k) { name } }`, { k: rows[3].uscc });
    expect(one.body.data!.enterprise.name).toBe(rows[3].name);
  });

  it('rejects a CSV with one bad row as 422, listing it, and changes nothing', async () => {
    const rows = [...enterprises(5, SEED)].map((e, i) => (i === 2 ? { ...e, establishedOn: '2024-02-30' } : { ...e, name: `${e.name}（改）` }));
    const r = await upload(enterpriseCode, csv(rows), SCJGJ);
    expect(r.status).toBe(422);
    const body = (await r.json()) as { status: string; problems: { row: number; field: string; reason: string }[] };
    expect(body.status).toBe('REJECTED');
    expect(body.problems).toEqual([expect.objectContaining({ row: 3, field: 'establishedOn' })]);
    expect(JSON.stringify(body)).not.toContain('2024-02-30');
    const first = await gw.graphql<{ enterprise: { name: string } }>(`query($k: String!) { enterprise(uscc: $k) { name } }`, { k: rows[0].uscc });
    expect(first.body.data!.enterprise.name).not.toMatch(/（改）$/);
  });

  it('answers 403 to another department and 404 to an unknown dataset', async () => {
    const rows = [...enterprises(1, SEED)];
    expect((await upload(enterpriseCode, csv(rows), asAgency('HZ-GAJ'))).status).toBe(403);
    const missing = await upload('9.99.99.999/99999999', csv(rows), SCJGJ);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});
