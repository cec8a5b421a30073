-- Precomputed keyed hashes of every dataset row for the access record (src/db/rowTables.ts,
-- ROW_HASHES_COLUMN): row tables created before this get the column, empty; their rows are
-- hashed when read until a delivery writes them again. New row tables are created with it.
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'ds' AND c.relkind = 'r'
  LOOP
    EXECUTE format('ALTER TABLE ds.%I ADD COLUMN IF NOT EXISTS _audit_hashes bytea', t.relname);
  END LOOP;
END $$;
