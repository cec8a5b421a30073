-- Annual opening plans (issue 5, R13).

-- CreateTable
CREATE TABLE "open_plan" (
    "id" SERIAL NOT NULL,
    "agency" TEXT NOT NULL,
    "year" INTEGER NOT NULL,
    "items" JSONB NOT NULL,
    "status" TEXT NOT NULL,
    "drafted_by" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "filed_at" TIMESTAMPTZ(6),
    "published_at" TIMESTAMPTZ(6),
    "forwarded_at" TIMESTAMPTZ(6),

    CONSTRAINT "open_plan_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "open_plan_agency_year_key" ON "open_plan"("agency", "year");
