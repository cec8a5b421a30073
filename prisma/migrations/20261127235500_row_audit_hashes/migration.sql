-- Row tables (schema "ds", one per dataset, made by src/db/rowTables.ts) carry each row's keyed
-- hashes for the access record, stored by the delivery that wrote the row (README "Access record").
-- Tables made before get the two columns here, empty: reads compute the hashes of such rows.
-- Without this, a gateway upgraded on an unchanged catalog would query columns that do not exist.
DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'ds' AND c.relkind IN ('r', 'p')
    LOOP
        EXECUTE format('ALTER TABLE %s ADD COLUMN IF NOT EXISTS "_audit_kid" text, ADD COLUMN IF NOT EXISTS "_audit_hashes" text', t);
    END LOOP;
END
$$;
