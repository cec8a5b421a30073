import { runId, withAdmin } from './testDatabase';

/** Drops every database of this run (test files drop their own; this catches the rest). */
export default async function globalTeardown(): Promise<void> {
  await withAdmin(async (a) => {
    const mine = await a<{ datname: string }[]>`SELECT datname FROM pg_database WHERE datname LIKE ${`hzgw_t${runId()}\\_%`}`;
    for (const { datname } of mine) await a.unsafe(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  });
}
