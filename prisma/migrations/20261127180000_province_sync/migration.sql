-- Push of open data to the provincial platform (issue 5, R15).

-- CreateTable
CREATE TABLE "province_sync" (
    "dataset_code" TEXT NOT NULL,
    "acked_at" TEXT,
    "acked_key" TEXT,
    "status" TEXT NOT NULL DEFAULT 'OK',
    "last_run_at" TIMESTAMPTZ(6),
    "last_ack_at" TIMESTAMPTZ(6),
    "last_error" TEXT,
    "failures" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "province_sync_pkey" PRIMARY KEY ("dataset_code")
);

-- CreateTable
CREATE TABLE "province_chunk" (
    "idempotency_key" TEXT NOT NULL,
    "dataset_code" TEXT NOT NULL,
    "to_cursor" JSONB NOT NULL,
    "rows" INTEGER NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "state" TEXT NOT NULL,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "acked_at" TIMESTAMPTZ(6),

    CONSTRAINT "province_chunk_pkey" PRIMARY KEY ("idempotency_key")
);

-- CreateTable
CREATE TABLE "province_sync_run" (
    "id" SERIAL NOT NULL,
    "started_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(6),
    "report" JSONB,

    CONSTRAINT "province_sync_run_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "province_chunk_dataset_code_state_idx" ON "province_chunk"("dataset_code", "state");
