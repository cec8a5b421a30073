import { createSql } from '../db/createSql';
import { migrate } from '../db/migrate';
import { TEMPLATE_DB, urlFor, withAdmin } from './testDatabase';

/** Migrates a fresh template database once per test run (test files clone it). */
export default async function globalSetup(): Promise<void> {
  await withAdmin(async (a) => {
    // Leftovers of interrupted runs.
    const stale = await a<{ datname: string }[]>`SELECT datname FROM pg_database WHERE datname LIKE 'hzgw_test_%'`;
    for (const { datname } of stale) await a.unsafe(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    await a.unsafe(`CREATE DATABASE ${TEMPLATE_DB}`);
  });
  const sql = createSql(urlFor(TEMPLATE_DB), { max: 1 });
  try {
    await migrate(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
