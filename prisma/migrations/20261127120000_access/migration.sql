-- Identity and access (issue 3): grants with their history, the append-only access record
-- with its hash chain, and the shared per-agency rate-limit windows.

-- CreateEnum
CREATE TYPE "GrantKind" AS ENUM ('READ', 'VERIFY');
CREATE TYPE "GrantStatus" AS ENUM ('ACTIVE', 'REVOKED');
CREATE TYPE "GrantBasis" AS ENUM ('UNCONDITIONAL', 'ISSUED');
CREATE TYPE "AccessOutcome" AS ENUM ('OK', 'PARTIAL', 'DENIED', 'FAILED');

-- CreateTable
CREATE TABLE "access_grant" (
    "id" SERIAL NOT NULL,
    "agency_id" INTEGER NOT NULL,
    "dataset_id" INTEGER NOT NULL,
    "kind" "GrantKind" NOT NULL DEFAULT 'READ',
    "fields" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "clear_fields" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "purpose_code" TEXT NOT NULL,
    "purpose_text" TEXT NOT NULL,
    "row_filter" JSONB,
    "valid_from" TIMESTAMPTZ(6) NOT NULL,
    "valid_until" TIMESTAMPTZ(6),
    "status" "GrantStatus" NOT NULL DEFAULT 'ACTIVE',
    "basis" "GrantBasis" NOT NULL,
    "legal_basis" TEXT,
    "issued_by" TEXT NOT NULL,
    "issued_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_by" TEXT,
    "revoked_at" TIMESTAMPTZ(6),
    "revoke_reason" TEXT,

    CONSTRAINT "access_grant_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "grant_event" (
    "id" BIGSERIAL NOT NULL,
    "grant_id" INTEGER NOT NULL,
    "action" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "reason" TEXT,
    "before" JSONB,
    "after" JSONB NOT NULL,
    "at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "grant_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "access_record" (
    "seq" BIGINT NOT NULL,
    "at" TIMESTAMPTZ(6) NOT NULL,
    "request_id" TEXT NOT NULL,
    "agency" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "purpose_code" TEXT,
    "purpose_text" TEXT,
    "operation_type" TEXT,
    "operation_name" TEXT,
    "operation_hash" TEXT NOT NULL,
    "grant_ids" INTEGER[] NOT NULL DEFAULT ARRAY[]::INTEGER[],
    "datasets" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "fields_returned" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "fields_denied" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "masking" JSONB NOT NULL,
    "row_count" INTEGER NOT NULL,
    "row_key_hashes" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "subject_hashes" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "outcome" "AccessOutcome" NOT NULL,
    "error_codes" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "prev_hash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "access_record_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "access_chain_head" (
    "id" INTEGER NOT NULL,
    "seq" BIGINT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "access_chain_head_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rate_window" (
    "agency" TEXT NOT NULL,
    "window_start" TIMESTAMPTZ(6) NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "rate_window_pkey" PRIMARY KEY ("agency","window_start")
);

-- CreateIndex
CREATE INDEX "access_grant_agency_id_purpose_code_idx" ON "access_grant"("agency_id", "purpose_code");
CREATE INDEX "access_grant_dataset_id_idx" ON "access_grant"("dataset_id");
CREATE INDEX "grant_event_grant_id_idx" ON "grant_event"("grant_id");
CREATE INDEX "access_record_at_idx" ON "access_record"("at");
CREATE INDEX "access_record_agency_at_idx" ON "access_record"("agency", "at");
CREATE INDEX "access_record_datasets_idx" ON "access_record" USING GIN ("datasets");
CREATE INDEX "access_record_subject_hashes_idx" ON "access_record" USING GIN ("subject_hashes");

-- AddForeignKey
ALTER TABLE "access_grant" ADD CONSTRAINT "access_grant_agency_id_fkey" FOREIGN KEY ("agency_id") REFERENCES "department"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "access_grant" ADD CONSTRAINT "access_grant_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "dataset"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "grant_event" ADD CONSTRAINT "grant_event_grant_id_fkey" FOREIGN KEY ("grant_id") REFERENCES "access_grant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The chain starts at seq 0 with an all-zero hash.
INSERT INTO "access_chain_head" ("id", "seq", "hash") VALUES (1, 0, repeat('0', 64));

-- Append-only: the access record can be read and appended to, never changed or removed
-- through normal means. (An owner can still disable the trigger; the hash chain is what
-- detects that: npm run audit:verify.)
CREATE FUNCTION "access_record_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'access_record is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER "access_record_no_update" BEFORE UPDATE OR DELETE ON "access_record"
  FOR EACH ROW EXECUTE FUNCTION "access_record_append_only"();
CREATE TRIGGER "access_record_no_truncate" BEFORE TRUNCATE ON "access_record"
  FOR EACH STATEMENT EXECUTE FUNCTION "access_record_append_only"();
