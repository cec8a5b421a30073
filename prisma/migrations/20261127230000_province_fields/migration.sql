-- The fields a dataset's pushed rows carry (a changed open catalog entry re-sends every row).

-- AlterTable
ALTER TABLE "province_sync" ADD COLUMN "pushed_fields" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[];
