/**
 * `database.readPoolSize` (DATABASE_READ_POOL_SIZE): GraphQL's dataset statements run on a pool
 * of their own, of that many connections, named `hz-share-gateway reads` in pg_stat_activity.
 * Made visible with a real lock: while another session holds ds.enterprise locked, a query on
 * enterprises waits inside PostgreSQL on the pool's only connection, so a query on another
 * dataset waits behind it (queued on that connection) and does not start until the lock is gone,
 * while the rest of the gateway (its main pool) goes on answering.
 */
import { createTestDatabase, withAdmin, type TestDatabase } from '../src/__testUtils__/testDatabase';
import { asAgency, startTestGateway, type TestGateway } from '../src/__testUtils__/testGateway';
import postgres from 'postgres';

const SCJGJ = asAgency('HZ-SCJGJ', 'consumer');

let db: TestDatabase & { drop(): Promise<void> };
let gw: TestGateway;

beforeAll(async () => {
  db = await createTestDatabase();
  gw = await startTestGateway(db.url, { DATABASE_READ_POOL_SIZE: '1', DEMO_LOAD: 'false' });
});

afterAll(async () => {
  await gw?.stop();
  await db?.drop();
});

/** The gateway's statements on `table` that PostgreSQL is running (or waiting in) now. */
async function activeOn(table: string): Promise<{ wait: string | null; app: string }[]> {
  return withAdmin((s) => s<{ wait: string | null; app: string }[]>`
    SELECT wait_event_type AS wait, application_name AS app FROM pg_stat_activity
     WHERE datname = ${db.name} AND state = 'active' AND query LIKE ${`%"ds"."${table}"%`} AND pid <> pg_backend_pid()`);
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting until ${what}`);
}

it('runs dataset statements on the read pool: one at a time with DATABASE_READ_POOL_SIZE=1, the waiting one after', async () => {
  const locker = postgres(db.url, { max: 1, onnotice: () => undefined });
  try {
    const lock = await locker.reserve();
    await lock`BEGIN`;
    await lock`LOCK TABLE ds.enterprise IN ACCESS EXCLUSIVE MODE`;

    const first = gw.graphql<{ enterprises: { nodes: unknown[] } }>(`{ enterprises(first: 1) { nodes { uscc } } }`, undefined, SCJGJ);
    await until('the enterprises statement waits for the lock', async () => (await activeOn('enterprise')).some((a) => a.wait === 'Lock'));
    expect(await activeOn('enterprise')).toEqual([{ wait: 'Lock', app: 'hz-share-gateway reads' }]);

    let secondDone = false;
    const second = gw
      .graphql<{ enterpriseLicenses: { nodes: unknown[] } }>(`{ enterpriseLicenses(first: 1) { nodes { licenseNo } } }`, undefined, SCJGJ)
      .finally(() => (secondDone = true));
    // Unlocked, the licences' statement would take milliseconds; with the pool's one connection
    // taken it waits behind the first and does not run.
    await new Promise((r) => setTimeout(r, 500));
    expect(secondDone).toBe(false);
    expect(await activeOn('enterprise_license')).toEqual([]);
    // The main pool is not held up: /readyz, which asks PostgreSQL through it, answers meanwhile.
    const ready = await fetch(`${gw.baseUrl}/readyz`);
    expect(ready.status).toBe(200);

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
