import { createTestDatabase, withAdmin, type TestDatabase } from '../src/__testUtils__/testDatabase';
import { startTestGateway, type TestGateway } from '../src/__testUtils__/testGateway';
import { createTestIssuer, type TestIssuer } from '../src/__testUtils__/testTokens';

let db: TestDatabase & { drop(): Promise<void> };
let gw: TestGateway;

beforeAll(async () => {
  db = await createTestDatabase();
  gw = await startTestGateway(db.url);
});

afterAll(async () => {
  await gw?.stop();
  await withAdmin((s) => s.unsafe(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`));
  await db?.drop();
});

it('is ready with the database up, 503 while it is unreachable, ready again after, and alive throughout', async () => {
  expect((await fetch(`${gw.baseUrl}/readyz`)).status).toBe(200);

  await withAdmin(async (s) => {
    await s.unsafe(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
    await s`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${db.name} AND pid <> pg_backend_pid()`;
  });
  const down = await fetch(`${gw.baseUrl}/readyz`);
  expect(down.status).toBe(503);
  expect(await down.json()).toEqual({ status: 'not ready', reason: 'database unreachable' });
  expect((await fetch(`${gw.baseUrl}/healthz`)).status).toBe(200);

  await withAdmin((s) => s.unsafe(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`));
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i++) {
    status = (await fetch(`${gw.baseUrl}/readyz`)).status;
    if (status !== 200) await new Promise((r) => setTimeout(r, 100));
  }
  expect(status).toBe(200);
});

describe('production mode', () => {
  let prod: TestGateway;
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await createTestIssuer();
    prod = await startTestGateway(db.url, { GATEWAY_MODE: 'production', CATALOG_LOAD_ON_START: 'false', AUTH_PUBLIC_KEYS_DIR: issuer.keysDir });
  });
  afterAll(async () => {
    await prod?.stop();
    await issuer?.cleanup();
  });

  it('refuses anonymous data requests with 401 UNAUTHENTICATED and ignores development identity headers', async () => {
    const r = await prod.graphql(`{ enterprises(first: 1) { nodes { uscc } } }`, undefined, { 'x-dev-agency': 'HZ-SCJGJ' });
    expect(r.status).toBe(401);
    expect(r.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(r.body.data).toBeUndefined();
    expect((await fetch(`${prod.baseUrl}/healthz`)).status).toBe(200);
  });
});
