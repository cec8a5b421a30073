-- Share requests (issue 4): the procedure of R8/R9 with working-day deadlines.

-- CreateEnum
CREATE TYPE "ShareRequestStatus" AS ENUM ('GRANTED', 'PENDING', 'APPROVED', 'FULFILLED', 'REFUSED', 'WITHDRAWN');

-- CreateTable
CREATE TABLE "share_request" (
    "id" SERIAL NOT NULL,
    "agency_id" INTEGER NOT NULL,
    "dataset_id" INTEGER NOT NULL,
    "fields" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "purpose_code" TEXT NOT NULL,
    "purpose_text" TEXT NOT NULL,
    "scenario" TEXT NOT NULL,
    "legal_basis" TEXT NOT NULL,
    "row_filter" JSONB,
    "valid_from" TIMESTAMPTZ(6),
    "valid_until" TIMESTAMPTZ(6),
    "status" "ShareRequestStatus" NOT NULL,
    "requested_by" TEXT NOT NULL,
    "requested_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "answer_due_at" TIMESTAMPTZ(6),
    "fulfil_due_at" TIMESTAMPTZ(6),
    "due_provisional" BOOLEAN NOT NULL DEFAULT false,
    "decided_by" TEXT,
    "decided_at" TIMESTAMPTZ(6),
    "refusal_basis" TEXT,
    "refusal_reason" TEXT,
    "grant_id" INTEGER,

    CONSTRAINT "share_request_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "share_request_event" (
    "id" BIGSERIAL NOT NULL,
    "share_request_id" INTEGER NOT NULL,
    "action" TEXT NOT NULL,
    "from_status" TEXT,
    "to_status" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "reason" TEXT,
    "at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "share_request_event_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "share_request_agency_id_status_idx" ON "share_request"("agency_id", "status");
CREATE INDEX "share_request_dataset_id_status_idx" ON "share_request"("dataset_id", "status");
CREATE INDEX "share_request_event_share_request_id_idx" ON "share_request_event"("share_request_id");

-- AddForeignKey
ALTER TABLE "share_request" ADD CONSTRAINT "share_request_agency_id_fkey" FOREIGN KEY ("agency_id") REFERENCES "department"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "share_request" ADD CONSTRAINT "share_request_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "dataset"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "share_request" ADD CONSTRAINT "share_request_grant_id_fkey" FOREIGN KEY ("grant_id") REFERENCES "access_grant"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "share_request_event" ADD CONSTRAINT "share_request_event_share_request_id_fkey" FOREIGN KEY ("share_request_id") REFERENCES "share_request"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
