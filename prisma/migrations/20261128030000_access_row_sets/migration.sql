-- Row sets (README "Access record"): an operation that returns many rows (a page of 50 enterprises
-- with their licences: ~200 rows, ~300 keyed hashes) keeps its rows' keyed hashes in
-- access_row_set, once per distinct set, and its record names the set by its SHA-256 digest
-- (`row_set`, covered by the record's chain hash, format 3). A consumer reading the same page
-- again stores 64 hex digits instead of ~10 KB. A set is never changed or removed; audit:verify
-- recomputes each set's digest and subject hashes from its row_hashes.
CREATE TABLE "access_row_set" (
    -- SHA-256 (hex) of 'hz-row-set/1' || chr(10) || array_to_string(row_hashes, ',')
    "digest"         TEXT NOT NULL,
    -- Per returned row, in the order returned: its key's hash, then the hashes of its data-subject
    -- identifiers (32 hex digits each; auditKeys.ts, compileQuery.ts auditHashes).
    "row_hashes"     TEXT[] NOT NULL,
    -- The distinct subject hashes of row_hashes, sorted (for the data-subject access report).
    "subject_hashes" TEXT[] NOT NULL,

    CONSTRAINT "access_row_set_pkey" PRIMARY KEY ("digest")
);
-- Hex digits do not compress (see 20261127235000_access_hash_storage).
ALTER TABLE "access_row_set"
    ALTER COLUMN "row_hashes" SET STORAGE EXTERNAL,
    ALTER COLUMN "subject_hashes" SET STORAGE EXTERNAL;
CREATE INDEX "access_row_set_subject_hashes_idx" ON "access_row_set" USING GIN ("subject_hashes");

-- Append-only like access_record: its trigger function now names the table it guards.
CREATE OR REPLACE FUNCTION "access_record_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege'; END $$;
CREATE TRIGGER "access_row_set_no_update" BEFORE UPDATE OR DELETE ON "access_row_set" FOR EACH ROW EXECUTE FUNCTION "access_record_append_only"();
CREATE TRIGGER "access_row_set_no_truncate" BEFORE TRUNCATE ON "access_row_set" FOR EACH STATEMENT EXECUTE FUNCTION "access_record_append_only"();

-- The digest of the record's row set; NULL when the record holds its hashes itself (few rows).
ALTER TABLE "access_record" ADD COLUMN "row_set" TEXT;
CREATE INDEX "access_record_row_set_idx" ON "access_record" ("row_set");
