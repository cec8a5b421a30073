-- Requests from the public for data outside the open catalog (issue 5, R16).

-- CreateTable
CREATE TABLE "public_request" (
    "id" SERIAL NOT NULL,
    "department" TEXT NOT NULL,
    "requester_ref" TEXT NOT NULL,
    "dataset_code" TEXT,
    "description" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "scenario" TEXT NOT NULL,
    "safeguards" TEXT NOT NULL,
    "period_from" TIMESTAMPTZ(6),
    "period_until" TIMESTAMPTZ(6),
    "status" TEXT NOT NULL,
    "filed_by" TEXT NOT NULL,
    "filed_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "due_at" TIMESTAMPTZ(6) NOT NULL,
    "due_provisional" BOOLEAN NOT NULL DEFAULT false,
    "answer" TEXT,
    "answered_by" TEXT,
    "answered_at" TIMESTAMPTZ(6),

    CONSTRAINT "public_request_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "public_request_department_status_idx" ON "public_request"("department", "status");
