/**
 * `npm run audit:verify`: checks the access record's hash chain in DATABASE_URL (or the embedded
 * database) with the configured audit key (AUDIT_HASH_KEY, or in development mode the key file).
 * Exit 0 and `access record chain intact: N records`; exit 1 and the first problem, e.g.
 * `seq 42: altered — record 42 was changed: …`; exit 2 when it cannot verify at all
 * (configuration, key or database problem).
 *
 * Read-only: it opens the database itself (no migrations, and without loading the GraphQL
 * layer that src/server/startGateway.ts brings along).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import fileConfig from '../../gateway.config';
import { loadAuditKeys, type AuditKeys } from '../audit/auditKeys';
import { verifyAccessChain } from '../audit/verifyAccessChain';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/GatewayConfig';
import { loadConfig } from '../config/loadConfig';
import { createEmbeddedDatabase } from '../db/createEmbeddedDatabase';
import { createSql, type Sql } from '../db/createSql';
import { createLogger } from '../server/createLogger';

/** Cannot tell either way: exit 2, so scripts never read it as "tampered" (1) or "intact" (0). */
class CannotVerify extends Error {}

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig(fileConfig, process.env);
  } catch (err) {
    throw new CannotVerify(err instanceof Error ? err.message : String(err));
  }
  const log = createLogger(config.log.level);
  // A new development key would "find" every record altered: verify only with the key in use.
  if (!config.audit.hashKey && !existsSync(path.resolve(config.audit.keyFile))) {
    throw new CannotVerify(
      `no audit key: AUDIT_HASH_KEY is not set and the key file ${config.audit.keyFile} does not exist; verify with the key the gateway writes with`,
    );
  }
  let keys: AuditKeys;
  try {
    keys = await loadAuditKeys(config);
  } catch (err) {
    throw new CannotVerify(`audit key: ${err instanceof Error ? err.message : String(err)}`);
  }
  let db: OpenedDatabase;
  try {
    db = await openDatabase(config, log);
  } catch (err) {
    throw new CannotVerify(`database: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    const result = await (async () => {
      const [{ migrated }] = await db.sql`SELECT to_regclass('access_chain_head') IS NOT NULL AS migrated`;
      if (!migrated) throw new Error('the database has no access record tables (not migrated? npm run db:migrate)');
      return verifyAccessChain(db.sql, keys);
    })().catch((err: unknown) => {
      throw new CannotVerify(`database: ${err instanceof Error ? err.message : String(err)}`);
    });
    if (result.ok) {
      process.stdout.write(`access record chain intact: ${result.checked} records\n`);
      return 0;
    }
    const p = result.problem!;
    // A wrong key makes the very first record fail: say so, it is the likelier cause.
    const hint = p.seq === '1' && p.kind === 'altered' ? ' (if every record fails, check that the audit key is the one the gateway writes with)' : '';
    process.stderr.write(`seq ${p.seq}: ${p.kind} — ${p.message}${hint}\n`);
    return 1;
  } finally {
    await db.close();
  }
}

interface OpenedDatabase {
  sql: Sql;
  close(): Promise<void>;
}

/** DATABASE_URL, or the embedded database (started here; stop the gateway using it first). */
async function openDatabase(config: GatewayConfig, log: Logger): Promise<OpenedDatabase> {
  const open = (url: string) => createSql(url, { max: 2, applicationName: 'hz-share-gateway audit:verify' });
  if (config.database.url) {
    const sql = open(config.database.url);
    return { sql, close: () => sql.end({ timeout: 5 }) };
  }
  const embedded = await createEmbeddedDatabase({ ...config.database.embedded, log });
  const sql = open(embedded.url);
  return {
    sql,
    close: async () => {
      await sql.end({ timeout: 5 });
      await embedded.stop();
    },
  };
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`cannot verify the access record: ${message}\n`);
    if (!(err instanceof CannotVerify) && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 2;
  },
);
