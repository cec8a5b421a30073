/**
 * Real PostgreSQL for tests: globalSetup migrates a template database once per run; every
 * test file gets its own database cloned from it (fast, and row tables in schema "ds" stay
 * private to the file). Server from TEST_DATABASE_URL (default: the local PostgreSQL).
 */
import { randomBytes } from 'node:crypto';
import { createSql, type Sql } from '../db/createSql';
import { createPrisma, type Prisma } from '../db/createPrisma';

/**
 * Databases of one test run are named after the run (the jest parent's pid, set by
 * globalSetup), so concurrent runs on one server never touch each other's databases.
 */
export function runId(): string {
  return process.env.HZGW_TEST_RUN ?? String(process.pid);
}

export function templateDb(): string {
  return `hzgw_t${runId()}_template`;
}

export function serverUrl(): string {
  return process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export function urlFor(database: string): string {
  const u = new URL(serverUrl());
  u.pathname = `/${database}`;
  return u.toString();
}

export async function withAdmin<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
  const admin = createSql(serverUrl(), { max: 1 });
  try {
    return await fn(admin);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  sql: Sql;
  prisma: Prisma;
}

/** Creates a fresh migrated database for one test file; `drop()` removes it. */
export async function createTestDatabase(): Promise<TestDatabase & { drop(): Promise<void> }> {
  const name = `hzgw_t${runId()}_${process.env.JEST_WORKER_ID ?? '0'}_${randomBytes(4).toString('hex')}`;
  await withAdmin((a) => a.unsafe(`CREATE DATABASE ${name} TEMPLATE ${templateDb()}`));
  const url = urlFor(name);
  const sql = createSql(url, { max: 4 });
  const prisma = createPrisma(url, 2);
  return {
    name,
    url,
    sql,
    prisma,
    drop: async () => {
      await prisma.$disconnect();
      await sql.end({ timeout: 5 });
      await withAdmin((a) => a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** jest helper: one database per test file, created in beforeAll, dropped in afterAll. */
export function useTestDatabase(): TestDatabase {
  const holder = {} as TestDatabase & { drop(): Promise<void> };
  beforeAll(async () => {
    Object.assign(holder, await createTestDatabase());
  });
  afterAll(async () => {
    await holder.drop?.();
  });
  return holder;
}
