-- The keyed hashes of an access record (32 hex digits each; a page of 50 enterprises with their
-- licences records ~300) do not compress: pglz kept 7,400 of 6,765 bytes, and trying cost
-- PostgreSQL ~140 µs per such record. Stored out of line without compression from now on
-- (existing rows are not rewritten; both forms read alike).
ALTER TABLE "access_record"
    ALTER COLUMN "row_key_hashes" SET STORAGE EXTERNAL,
    ALTER COLUMN "subject_hashes" SET STORAGE EXTERNAL;
