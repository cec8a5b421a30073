-- Holiday schedules loaded at run time by the data authority (issue 4, item 1).

-- CreateTable
CREATE TABLE "holiday_year" (
    "year" INTEGER NOT NULL,
    "data" JSONB NOT NULL,
    "loaded_by" TEXT NOT NULL,
    "loaded_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "holiday_year_pkey" PRIMARY KEY ("year")
);
