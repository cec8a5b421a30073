-- The open catalog reviewed by the data authority, with history (issue 5, R14).

-- CreateTable
CREATE TABLE "open_catalog_entry" (
    "id" SERIAL NOT NULL,
    "agency" TEXT NOT NULL,
    "dataset_code" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "fields" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "status" TEXT NOT NULL,
    "proposed_by" TEXT NOT NULL,
    "proposed_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "reviewed_by" TEXT,
    "reviewed_at" TIMESTAMPTZ(6),
    "comment" TEXT,

    CONSTRAINT "open_catalog_entry_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "open_catalog_entry_dataset_code_version_key" ON "open_catalog_entry"("dataset_code", "version");
