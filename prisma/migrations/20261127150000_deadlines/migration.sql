-- Deadlines enforced (issue 4, item 6): notifications (reminders, escalations) and job runs.

-- CreateTable
CREATE TABLE "notification" (
    "id" BIGSERIAL NOT NULL,
    "department" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "subject_type" TEXT NOT NULL,
    "subject_id" INTEGER NOT NULL,
    "due_at" TIMESTAMPTZ(6) NOT NULL,
    "message" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "read_at" TIMESTAMPTZ(6),

    CONSTRAINT "notification_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "job_run" (
    "job_id" TEXT NOT NULL,
    "queue" TEXT NOT NULL,
    "worker" TEXT NOT NULL,
    "result" JSONB,
    "at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "job_run_pkey" PRIMARY KEY ("job_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "notification_department_kind_subject_type_subject_id_due_at_key" ON "notification"("department", "kind", "subject_type", "subject_id", "due_at");
CREATE INDEX "notification_department_created_at_idx" ON "notification"("department", "created_at");
