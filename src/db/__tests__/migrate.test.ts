import { createSql } from '../createSql';
import { loadMigrationFiles, migrate } from '../migrate';
import { buildExpectedShape, diffShapes, loadActualShape } from '../schemaDrift';
import { createTestDatabase, runId, urlFor, withAdmin } from '../../__testUtils__/testDatabase';
import { readFileSync } from 'node:fs';
import { PRISMA_SCHEMA_PATH } from '../schemaDrift';

describe('migrations', () => {
  const empty = `hzgw_t${runId()}_empty`;
  beforeAll(() => withAdmin((a) => a.unsafe(`CREATE DATABASE ${empty}`)));
  afterAll(() => withAdmin((a) => a.unsafe(`DROP DATABASE IF EXISTS ${empty} WITH (FORCE)`)));

  it('migrates an empty database, records each migration once, and matches prisma/schema.prisma', async () => {
    const sql = createSql(urlFor(empty), { max: 1 });
    try {
      const files = await loadMigrationFiles();
      const first = await migrate(sql);
      expect(first.applied).toEqual(files.map((f) => f.name));
      const second = await migrate(sql);
      expect(second).toEqual({ applied: [], alreadyApplied: files.map((f) => f.name) });
      const recorded = await sql`SELECT migration_name, checksum FROM _prisma_migrations ORDER BY migration_name`;
      expect(recorded.map((r) => [r.migration_name, r.checksum])).toEqual(files.map((f) => [f.name, f.checksum]));
      expect(diffShapes(buildExpectedShape(), await loadActualShape(sql))).toEqual([]);
    } finally {
      await sql.end();
    }
  });

  it('refuses a database that is not UTF8, before writing anything', async () => {
    const ascii = `hzgw_t${runId()}_ascii`;
    await withAdmin((a) => a.unsafe(`CREATE DATABASE ${ascii} ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`));
    const sql = createSql(urlFor(ascii), { max: 1 });
    try {
      await expect(migrate(sql)).rejects.toThrow("the database's encoding is SQL_ASCII; the gateway needs a UTF8 database");
      const [{ n }] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = '_prisma_migrations'`;
      expect(n).toBe(0);
    } finally {
      await sql.end();
      await withAdmin((a) => a.unsafe(`DROP DATABASE IF EXISTS ${ascii} WITH (FORCE)`));
    }
  });

  it('refuses to run when an applied migration file was edited', async () => {
    const db = await createTestDatabase();
    try {
      const files = await loadMigrationFiles();
      const edited = [{ ...files[0], sql: files[0].sql + '\n-- edited', checksum: 'f'.repeat(64) }];
      await expect(migrate(db.sql, edited)).rejects.toThrow(/was changed after it was applied/);
    } finally {
      await db.drop();
    }
  });

  it('rolls back a failing migration whole and records nothing', async () => {
    const db = await createTestDatabase();
    try {
      const bad = { name: '29990101000000_bad', sql: 'CREATE TABLE half_done (id int); SELECT no_such_function();', checksum: 'x' };
      await expect(migrate(db.sql, [...(await loadMigrationFiles()), bad])).rejects.toThrow(/no_such_function/);
      const [{ n }] = await db.sql`SELECT count(*)::int AS n FROM _prisma_migrations WHERE migration_name = ${bad.name}`;
      expect(n).toBe(0);
      const [{ t }] = await db.sql`SELECT to_regclass('public.half_done') IS NOT NULL AS t`;
      expect(t).toBe(false);
    } finally {
      await db.drop();
    }
  });
});

describe('schema drift detection', () => {
  it('reports a column changed in the database behind the migrations', async () => {
    const db = await createTestDatabase();
    try {
      await db.sql`ALTER TABLE department DROP COLUMN district`;
      await db.sql`ALTER TABLE delivery ALTER COLUMN checksum DROP NOT NULL`;
      await db.sql`CREATE INDEX stray_idx ON dataset (created_at)`;
      const diff = diffShapes(buildExpectedShape(), await loadActualShape(db.sql));
      expect(diff).toEqual(
        expect.arrayContaining([
          'column department.district: missing in database',
          expect.stringMatching(/^column delivery\.checksum: schema says "text notnull nodefault", database has "text null nodefault"/),
          'index dataset(index: created_at): in database, not in schema',
        ]),
      );
    } finally {
      await db.drop();
    }
  });

  it('reports a model added to schema.prisma without a migration', async () => {
    const db = await createTestDatabase();
    try {
      const schema = readFileSync(PRISMA_SCHEMA_PATH, 'utf8') + '\nmodel Unmigrated {\n  id Int @id\n  note String?\n  @@map("unmigrated")\n}\n';
      const diff = diffShapes(buildExpectedShape(schema), await loadActualShape(db.sql));
      expect(diff).toEqual(['table unmigrated: missing in database', 'index unmigrated(pk: id): missing in database']);
    } finally {
      await db.drop();
    }
  });
});
