import { createSql } from '../db/createSql';
import { migrate } from '../db/migrate';
import { templateDb, urlFor, withAdmin } from './testDatabase';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Migrates a fresh template database once per test run (test files clone it). */
export default async function globalSetup(): Promise<void> {
  process.env.HZGW_TEST_RUN = String(process.pid);
  await withAdmin(async (a) => {
    // Leftovers of runs that died (their process is gone); other live runs are left alone.
    const stale = await a<{ datname: string }[]>`SELECT datname FROM pg_database WHERE datname ~ '^hzgw_t[0-9]+_'`;
    for (const { datname } of stale) {
      const pid = Number(/^hzgw_t([0-9]+)_/.exec(datname)![1]);
      if (!alive(pid)) await a.unsafe(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    }
    await a.unsafe(`CREATE DATABASE ${templateDb()}`);
  });
  const sql = createSql(urlFor(templateDb()), { max: 1 });
  try {
    await migrate(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
