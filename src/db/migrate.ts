import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../projectRoot';
import type { Sql } from './createSql';

export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'prisma/migrations');

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

/** Reads prisma/migrations/<timestamp>_<name>/migration.sql in order. */
export async function loadMigrationFiles(dir = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const out: MigrationFile[] = [];
  for (const name of names) {
    const sql = await readFile(path.join(dir, name, 'migration.sql'), 'utf8');
    out.push({ name, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return out;
}

// Same table as Prisma Migrate keeps, so `prisma migrate status|deploy` agree with us where
// Prisma's engine can run.
const BOOKKEEPING = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

/** Arbitrary constant: serialises migrations of gateways starting at once on one database. */
const MIGRATION_LOCK = 7_204_519_311;

/**
 * The gateway needs a UTF8 database: catalogs and rows hold Chinese text, data hashes are taken
 * over text's UTF-8 bytes (`textsend`), and access records travel with `\uXXXX` escapes that
 * PostgreSQL decodes only into UTF8 (createAccessRecordWriter.ts, format 2). Any other encoding is
 * refused before anything is written, with what to do instead.
 */
async function checkEncoding(sql: Sql): Promise<void> {
  const [{ server_encoding: encoding }] = await sql<{ server_encoding: string }[]>`SHOW server_encoding`;
  if (encoding !== 'UTF8') {
    throw new Error(
      `the database's encoding is ${encoding}; the gateway needs a UTF8 database (CREATE DATABASE … ENCODING 'UTF8' TEMPLATE template0)`,
    );
  }
}

/**
 * Applies pending migrations without Prisma's native engine, each in its own transaction,
 * recorded in `_prisma_migrations` so each runs once. Refuses to continue when an applied
 * migration's file changed (checksum) or an earlier attempt failed half-way.
 */
export async function migrate(sql: Sql, files?: MigrationFile[]): Promise<MigrateResult> {
  const migrations = files ?? (await loadMigrationFiles());
  await checkEncoding(sql);
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx.unsafe(BOOKKEEPING);
    const rows = await tx<{ migration_name: string; checksum: string; finished_at: string | null; rolled_back_at: string | null }[]>`
      SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"`;
    const done = new Map(rows.filter((r) => r.rolled_back_at === null).map((r) => [r.migration_name, r]));
    const result: MigrateResult = { applied: [], alreadyApplied: [] };
    for (const m of migrations) {
      const prev = done.get(m.name);
      if (prev) {
        if (prev.finished_at === null) {
          throw new Error(`migration ${m.name} started earlier but did not finish; repair the database, then mark it rolled back`);
        }
        if (prev.checksum !== m.checksum) {
          throw new Error(`migration ${m.name} was changed after it was applied (checksum differs); add a new migration instead`);
        }
        result.alreadyApplied.push(m.name);
        continue;
      }
      await tx.savepoint(async (sp) => {
        await sp.unsafe(m.sql);
        await sp`INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
                 VALUES (${randomUUID()}, ${m.checksum}, now(), ${m.name}, 1)`;
      });
      result.applied.push(m.name);
    }
    return result;
  });
}
