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
  ['too costly', `{ enterprises(first: 100000) { nodes { uscc licenses { licenseNo } } } }`, /cost/i],
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
