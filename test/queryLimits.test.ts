/** Hostile query shapes are refused before execution, with an error that names the limit. */
import { createTestDatabase, type TestDatabase } from '../src/__testUtils__/testDatabase';
import { asAgency, startTestGateway, type TestGateway } from '../src/__testUtils__/testGateway';

let db: TestDatabase & { drop(): Promise<void> };
let gw: TestGateway;
let closed: TestGateway;
let statements = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  gw = await startTestGateway(db.url, { MAX_QUERY_DEPTH: '6', MAX_QUERY_ALIASES: '3', MAX_QUERY_TOKENS: '300' }, { onQuery: (q) => void (q.includes('"ds".') && statements++) });
  closed = await startTestGateway(db.url, { INTROSPECTION: 'false', CATALOG_LOAD_ON_START: 'false' });
});
afterAll(async () => {
  await gw?.stop();
  await closed?.stop();
  await db?.drop();
});

function nested(levels: number): string {
  let sel = 'licenseNo';
  for (let i = 0; i < levels; i++) sel = i % 2 === 0 ? `licenses { ${sel} }` : `enterprise { ${sel} }`;
  return `{ enterprises(first: 1) { nodes { uscc ${sel} } } }`;
}

it.each([
  ['too deep', nested(8), /depth/i],
  ['too many aliases', `{ a: departments { code } b: departments { code } c: departments { code } d: departments { code } }`, /alias/i],
  ['too costly', `{ enterprises(first: 100) { nodes { uscc licenses { licenseNo licenseType issuingAuthority validUntil status } } } }`, /query cost 214475 exceeds the limit of 200000/],
  ['too many tokens', `{ ${Array.from({ length: 120 }, (_, i) => `f${i}: __typename`).join(' ')} }`, /token/i],
])('refuses a query that is %s, with 400 and no SQL run', async (_name, query, limit) => {
  statements = 0;
  const r = await gw.graphql(query);
  expect(r.status).toBe(400);
  expect(r.body.data).toBeUndefined();
  expect(r.body.errors?.[0].message).toMatch(limit);
  expect(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_USER_INPUT']).toContain(r.body.errors?.[0].extensions?.code);
  expect(statements).toBe(0);
});

describe('cost and page size, with the variables', () => {
  const THREE_PAGES = `query($n: Int) {
    a: enterprises(first: $n) { nodes { uscc licenses { licenseNo } } }
    b: enterprises(first: $n) { nodes { uscc licenses { licenseNo } } }
    c: enterprises(first: $n) { nodes { uscc licenses { licenseNo } } } }`;

  it('counts first given in a variable: the same query is refused for 100 rows a page and served for 10', async () => {
    statements = 0;
    const big = await gw.graphql(THREE_PAGES, { n: 100 }, asAgency('HZ-SCJGJ'));
    expect(big.status).toBe(400);
    expect(big.body.data).toBeUndefined();
    expect(big.body.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
    // 3 × 100 × (2 + 1.5 × (2 + 1.5 × (1 + 100 × (2 + 1.5)))) = 238,425: nested lists count with their default (100)
    expect(big.body.errors![0].message).toMatch(/query cost 238425 exceeds the limit of 200000 \(limits.maxCost\)/);
    expect(statements).toBe(0);
    const small = await gw.graphql(THREE_PAGES, { n: 10 }, asAgency('HZ-SCJGJ'));
    expect(small.status).toBe(200);
    expect(small.body.errors).toBeUndefined();
  });

  // The answer for a query whose cost reads no variable is kept with its parsed document (which
  // Apollo keeps): a query seen before is answered the same way, one sized by a variable each time.
  it('answers a query it has seen before the same way, and one sized by a variable by its variables each time', async () => {
    const costly = `{ a: enterprises(first: 100) { nodes { uscc licenses { licenseNo } } } b: enterprises(first: 100) { nodes { uscc licenses { licenseNo } } } c: enterprises(first: 100) { nodes { uscc licenses { licenseNo } } } }`;
    for (let i = 0; i < 3; i++) {
      statements = 0;
      const r = await gw.graphql(costly, undefined, asAgency('HZ-SCJGJ'));
      expect(r.status).toBe(400);
      expect(r.body.errors![0].message).toMatch(/query cost 238425 exceeds/);
      expect(statements).toBe(0);
    }
    const page = `query($n: Int) { enterprises(first: $n) { nodes { uscc } } }`;
    for (const [n, status] of [[10, 200], [101, 400], [10, 200], [101, 400]] as const) {
      const r = await gw.graphql(page, { n }, asAgency('HZ-SCJGJ'));
      expect(r.status).toBe(status);
      if (status === 400) expect(r.body.errors![0].message).toMatch(/got 101/);
      else expect(r.body.errors).toBeUndefined();
    }
  });

  it('counts a nested list without first as its default page, and one with first as given', async () => {
    const q = (nested: string) => `{ a: enterprises(first: 100) { nodes { uscc ${nested} } } b: enterprises(first: 100) { nodes { uscc ${nested} } } c: enterprises(first: 100) { nodes { uscc ${nested} } } }`;
    expect((await gw.graphql(q('licenses { licenseNo }'), undefined, asAgency('HZ-SCJGJ'))).body.errors![0].message).toMatch(/query cost 238425 exceeds/);
    expect((await gw.graphql(q('licenses(first: 5) { licenseNo }'), undefined, asAgency('HZ-SCJGJ'))).body.errors).toBeUndefined();
  });

  it.each([
    ['a page, in a variable', `query($n: Int) { enterprises(first: $n) { nodes { uscc } } }`, { n: 101 }, /first must be between 0 and 100 \(limits.maxPageSize\) on enterprises, got 101/],
    ['a nested list', `{ enterprises(first: 1) { nodes { uscc licenses(first: 1000) { licenseNo } } } }`, undefined, /first must be between 0 and 100 \(limits.maxPageSize\) on licenses, got 1000/],
    ['a negative page', `query($n: Int) { enterprises(first: $n) { nodes { uscc } } }`, { n: -1 }, /first must be between 0 and 100 .* got -1/],
  ])('refuses first beyond limits.maxPageSize on %s before anything runs', async (_name, query, variables, message) => {
    statements = 0;
    const r = await gw.graphql(query, variables, asAgency('HZ-SCJGJ'));
    expect(r.status).toBe(400);
    expect(r.body.data).toBeUndefined();
    expect(r.body.errors![0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argumentName: 'first' } });
    expect(r.body.errors![0].message).toMatch(message);
    expect(statements).toBe(0);
  });

  // Walked spread by spread, this would take 3^23 steps on the event loop (hours).
  it('walks each fragment once: a chain of fragments each spreading the next three times is refused by its cost', async () => {
    const levels = 24;
    const chain = Array.from({ length: levels }, (_, i) => (i + 1 < levels ? `fragment F${i} on Enterprise { ...F${i + 1} ...F${i + 1} ...F${i + 1} }` : `fragment F${i} on Enterprise { uscc }`)).join(' ');
    statements = 0;
    const r = await gw.graphql(`{ enterprises(first: 1) { nodes { ...F0 } } } ${chain}`, undefined, asAgency('HZ-SCJGJ'));
    expect(r.status).toBe(400);
    // 3^23 spreads of uscc, far above the limit.
    expect(r.body.errors![0].message).toMatch(/query cost \d{8,} exceeds the limit of 200000/);
    expect(statements).toBe(0);
  });

  it('serves the benchmark\'s Q2 shape (50 enterprises with their licences: cost ~108,000)', async () => {
    const r = await gw.graphql(
      `query Q2($district: String!) { enterprises(filter: { district: { eq: $district } }, first: 50) { nodes { uscc name legalRepresentative status establishedOn licenses { licenseNo licenseType issuingAuthority validUntil status } } } }`,
      { district: '惠城区' },
      asAgency('HZ-SCJGJ'),
    );
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
  });
});

it('serves a query within the limits', async () => {
  const r = await gw.graphql(nested(3), undefined, asAgency('HZ-SCJGJ'));
  expect(r.body.errors).toBeUndefined();
});

it('refuses introspection when it is switched off', async () => {
  const r = await closed.graphql(`{ __schema { types { name } } }`);
  expect(r.status).toBe(400);
  expect(r.body.errors?.[0].message).toMatch(/introspection/i);
  expect((await gw.graphql(`{ __schema { queryType { name } } }`)).body.errors).toBeUndefined();
});
