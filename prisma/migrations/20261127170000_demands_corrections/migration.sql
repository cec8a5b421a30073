-- Demands for uncatalogued data (R11), error reports and data-subject requests (R17–R19).

-- CreateTable
CREATE TABLE "data_demand" (
    "id" SERIAL NOT NULL,
    "agency" TEXT NOT NULL,
    "department" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "purpose_text" TEXT NOT NULL,
    "legal_basis" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "filed_by" TEXT NOT NULL,
    "filed_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "due_at" TIMESTAMPTZ(6) NOT NULL,
    "due_provisional" BOOLEAN NOT NULL DEFAULT false,
    "answered_by" TEXT,
    "answered_at" TIMESTAMPTZ(6),
    "dataset_code" TEXT,
    "explanation" TEXT,

    CONSTRAINT "data_demand_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "data_correction" (
    "id" SERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "request_type" TEXT,
    "dataset_id" INTEGER NOT NULL,
    "record_key" TEXT NOT NULL,
    "fields" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "description" TEXT NOT NULL,
    "reference" TEXT,
    "agency" TEXT NOT NULL,
    "filed_by" TEXT NOT NULL,
    "filed_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "due_at" TIMESTAMPTZ(6) NOT NULL,
    "due_provisional" BOOLEAN NOT NULL DEFAULT false,
    "status" TEXT NOT NULL,
    "outcome" TEXT,
    "resolution" TEXT,
    "resolved_by" TEXT,
    "resolved_at" TIMESTAMPTZ(6),

    CONSTRAINT "data_correction_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "data_demand_department_status_idx" ON "data_demand"("department", "status");
CREATE INDEX "data_correction_dataset_id_record_key_status_idx" ON "data_correction"("dataset_id", "record_key", "status");
