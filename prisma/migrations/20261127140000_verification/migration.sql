-- Verification (核实比对, R10): share requests and grants of kind VERIFY, and the claims checked.

-- AlterTable
ALTER TABLE "share_request" ADD COLUMN "kind" "GrantKind" NOT NULL DEFAULT 'READ';

-- CreateTable
CREATE TABLE "verification_attempt" (
    "id" BIGSERIAL NOT NULL,
    "agency" TEXT NOT NULL,
    "dataset_id" INTEGER NOT NULL,
    "key_hash" TEXT NOT NULL,
    "field" TEXT NOT NULL,
    "claim_hash" TEXT NOT NULL,
    "result" TEXT NOT NULL,
    "at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "verification_attempt_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "verification_attempt_agency_dataset_id_key_hash_field_at_idx" ON "verification_attempt"("agency", "dataset_id", "key_hash", "field", "at");
