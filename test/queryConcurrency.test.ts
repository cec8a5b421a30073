/**
 * `database.queryConcurrency` (DATABASE_QUERY_CONCURRENCY): no more dataset statements run at
 * once than configured; the next waits its turn and then runs. Made visible with a real lock:
 * while another session holds ds.enterprise locked, a query on enterprises waits inside
 * PostgreSQL, holding the only slot, so a query on another dataset must not reach PostgreSQL
 * until the lock is gone.
 */
import { createTestDatabase, withAdmin, type TestDatabase } from '../src/__testUtils__/testDatabase';
import { asAgency, startTestGateway, type TestGateway } from '../src/__testUtils__/testGateway';
import postgres from 'postgres';

const SCJGJ = asAgency('HZ-SCJGJ', 'consumer');

let db: TestDatabase & { drop(): Promise<void> };
let gw: TestGateway;

beforeAll(async () => {
  db = await createTestDatabase();
  gw = await startTestGateway(db.url, { DATABASE_QUERY_CONCURRENCY: '1', DEMO_LOAD: 'false' });
});

afterAll(async () => {
  await gw?.stop();
  await db?.drop();
});

/** The gateway's statements on `table` that PostgreSQL is running (or waiting in) now. */
async function activeOn(table: string): Promise<{ wait: string | null }[]> {
  return withAdmin((s) => s<{ wait: string | null }[]>`
    SELECT wait_event_type AS wait FROM pg_stat_activity
     WHERE datname = ${db.name} AND state = 'active' AND query LIKE ${`%"ds"."${table}"%`} AND pid <> pg_backend_pid()`);
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting until ${what}`);
}

it('runs one dataset statement at a time when DATABASE_QUERY_CONCURRENCY=1, and the waiting one after', async () => {
  const locker = postgres(db.url, { max: 1, onnotice: () => undefined });
  try {
    const lock = await locker.reserve();
    await lock`BEGIN`;
    await lock`LOCK TABLE ds.enterprise IN ACCESS EXCLUSIVE MODE`;

    const first = gw.graphql<{ enterprises: { nodes: unknown[] } }>(`{ enterprises(first: 1) { nodes { uscc } } }`, undefined, SCJGJ);
    await until('the enterprises statement waits for the lock', async () => (await activeOn('enterprise')).some((a) => a.wait === 'Lock'));

    let secondDone = false;
    const second = gw
      .graphql<{ enterpriseLicenses: { nodes: unknown[] } }>(`{ enterpriseLicenses(first: 1) { nodes { licenseNo } } }`, undefined, SCJGJ)
      .finally(() => (secondDone = true));
    // Unlocked, the licences' statement would take milliseconds; with the slot taken it waits
    // in the gateway and never reaches PostgreSQL.
    await new Promise((r) => setTimeout(r, 500));
    expect(secondDone).toBe(false);
    expect(await activeOn('enterprise_license')).toEqual([]);

    await lock`COMMIT`;
    lock.release();
    const [a, b] = await Promise.all([first, second]);
    expect(a.status).toBe(200);
    expect(a.body.errors).toBeUndefined();
    expect(a.body.data!.enterprises.nodes).toEqual([]);
    expect(b.status).toBe(200);
    expect(b.body.errors).toBeUndefined();
    expect(b.body.data!.enterpriseLicenses.nodes).toEqual([]);
  } finally {
    await locker.end({ timeout: 1 });
  }
});
