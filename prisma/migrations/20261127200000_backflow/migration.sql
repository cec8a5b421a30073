-- Backflow of provincial vertical-system data into city datasets (issue 5, R6).

-- AlterEnum
ALTER TYPE "DeliveryChannel" ADD VALUE 'BACKFLOW';

-- CreateTable
CREATE TABLE "province_backflow" (
    "source" TEXT NOT NULL,
    "dataset_code" TEXT NOT NULL,
    "cursor" TEXT,
    "rows_pulled" INTEGER NOT NULL DEFAULT 0,
    "status" TEXT NOT NULL DEFAULT 'OK',
    "last_run_at" TIMESTAMPTZ(6),
    "last_error" TEXT,

    CONSTRAINT "province_backflow_pkey" PRIMARY KEY ("source")
);
