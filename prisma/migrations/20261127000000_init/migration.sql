-- Foundation: departments, functional data list, catalog versions, datasets, fields, deliveries.
-- Written in the form `prisma migrate diff` produces; test/schemaDrift.test.ts checks it
-- against prisma/schema.prisma.

-- Row tables of published datasets live in their own schema (src/db/rowTables.ts).
CREATE SCHEMA IF NOT EXISTS "ds";

-- CreateEnum
CREATE TYPE "DepartmentLevel" AS ENUM ('CITY', 'DISTRICT');
CREATE TYPE "ShareClass" AS ENUM ('UNCONDITIONAL', 'CONDITIONAL', 'NOT_SHARED');
CREATE TYPE "OpenType" AS ENUM ('UNCONDITIONAL', 'CONDITIONAL', 'NOT_OPEN');
CREATE TYPE "Grade" AS ENUM ('CORE', 'IMPORTANT', 'GENERAL_4', 'GENERAL_3', 'GENERAL_2', 'GENERAL_1');
CREATE TYPE "UpdateCycle" AS ENUM ('REALTIME', 'DAILY', 'WEEKLY', 'MONTHLY', 'QUARTERLY', 'HALF_YEARLY', 'YEARLY', 'OTHER');
CREATE TYPE "ResourceFormat" AS ENUM ('DATABASE', 'SPREADSHEET', 'ELECTRONIC_FILE', 'IMAGE', 'STREAM', 'SELF_DESCRIBING', 'SERVICE_API');
CREATE TYPE "ShareMode" AS ENUM ('TABLE', 'API', 'FILE');
CREATE TYPE "FieldType" AS ENUM ('STRING', 'INT', 'FLOAT', 'DECIMAL', 'BOOLEAN', 'DATE', 'DATETIME');
CREATE TYPE "DatasetStatus" AS ENUM ('DRAFT', 'IN_REVIEW', 'PUBLISHED', 'RETIRED', 'REJECTED', 'SUPERSEDED');
CREATE TYPE "DeliveryChannel" AS ENUM ('GRAPHQL', 'CSV', 'NDJSON');
CREATE TYPE "DeliveryStatus" AS ENUM ('ACCEPTED', 'REJECTED');

-- CreateTable
CREATE TABLE "department" (
    "id" SERIAL NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "uscc" TEXT NOT NULL,
    "level" "DepartmentLevel" NOT NULL,
    "district" TEXT,
    "is_authority" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "department_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "function_item" (
    "id" SERIAL NOT NULL,
    "department_id" INTEGER NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "legal_basis" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "function_item_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "catalog_version" (
    "id" SERIAL NOT NULL,
    "source_hash" TEXT,
    "origin" TEXT NOT NULL,
    "note" TEXT,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "catalog_version_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dataset" (
    "id" SERIAL NOT NULL,
    "code" TEXT NOT NULL,
    "department_id" INTEGER NOT NULL,
    "type_name" TEXT NOT NULL,
    "table_name" TEXT NOT NULL,
    "published_version" INTEGER,
    "last_delivered_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dataset_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dataset_version" (
    "id" SERIAL NOT NULL,
    "dataset_id" INTEGER NOT NULL,
    "version" INTEGER NOT NULL,
    "status" "DatasetStatus" NOT NULL,
    "name" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "function_code" TEXT,
    "format" "ResourceFormat" NOT NULL,
    "update_cycle" "UpdateCycle" NOT NULL,
    "share_mode" "ShareMode" NOT NULL,
    "open_type" "OpenType" NOT NULL,
    "share_condition" TEXT,
    "definition" JSONB NOT NULL,
    "catalog_version_id" INTEGER,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "submitted_by" TEXT,
    "submitted_at" TIMESTAMPTZ(6),
    "reviewed_by" TEXT,
    "reviewed_at" TIMESTAMPTZ(6),
    "review_comment" TEXT,
    "published_at" TIMESTAMPTZ(6),

    CONSTRAINT "dataset_version_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dataset_field" (
    "id" SERIAL NOT NULL,
    "dataset_version_id" INTEGER NOT NULL,
    "position" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "data_type" "FieldType" NOT NULL,
    "required" BOOLEAN NOT NULL,
    "is_key" BOOLEAN NOT NULL,
    "share_class" "ShareClass" NOT NULL,
    "open_type" "OpenType" NOT NULL,
    "grade" "Grade" NOT NULL,
    "personal" BOOLEAN NOT NULL,
    "mask_rule" TEXT,
    "value_check" TEXT,
    "indexed" BOOLEAN NOT NULL,
    "subject_id" BOOLEAN NOT NULL,
    "description" TEXT,

    CONSTRAINT "dataset_field_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "delivery" (
    "id" BIGSERIAL NOT NULL,
    "dataset_id" INTEGER NOT NULL,
    "department_id" INTEGER NOT NULL,
    "delivered_by" TEXT NOT NULL,
    "channel" "DeliveryChannel" NOT NULL,
    "status" "DeliveryStatus" NOT NULL,
    "row_count" INTEGER NOT NULL,
    "inserted_count" INTEGER NOT NULL DEFAULT 0,
    "updated_count" INTEGER NOT NULL DEFAULT 0,
    "checksum" TEXT NOT NULL,
    "problems" JSONB,
    "request_id" TEXT,
    "started_at" TIMESTAMPTZ(6) NOT NULL,
    "finished_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "delivery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "department_code_key" ON "department"("code");
CREATE UNIQUE INDEX "department_uscc_key" ON "department"("uscc");
CREATE UNIQUE INDEX "function_item_department_id_code_key" ON "function_item"("department_id", "code");
CREATE UNIQUE INDEX "dataset_code_key" ON "dataset"("code");
CREATE UNIQUE INDEX "dataset_type_name_key" ON "dataset"("type_name");
CREATE UNIQUE INDEX "dataset_table_name_key" ON "dataset"("table_name");
CREATE INDEX "dataset_version_status_idx" ON "dataset_version"("status");
CREATE UNIQUE INDEX "dataset_version_dataset_id_version_key" ON "dataset_version"("dataset_id", "version");
CREATE UNIQUE INDEX "dataset_field_dataset_version_id_name_key" ON "dataset_field"("dataset_version_id", "name");
CREATE INDEX "delivery_dataset_id_finished_at_idx" ON "delivery"("dataset_id", "finished_at");

-- AddForeignKey
ALTER TABLE "function_item" ADD CONSTRAINT "function_item_department_id_fkey" FOREIGN KEY ("department_id") REFERENCES "department"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "dataset" ADD CONSTRAINT "dataset_department_id_fkey" FOREIGN KEY ("department_id") REFERENCES "department"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "dataset_version" ADD CONSTRAINT "dataset_version_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "dataset"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "dataset_version" ADD CONSTRAINT "dataset_version_catalog_version_id_fkey" FOREIGN KEY ("catalog_version_id") REFERENCES "catalog_version"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "dataset_field" ADD CONSTRAINT "dataset_field_dataset_version_id_fkey" FOREIGN KEY ("dataset_version_id") REFERENCES "dataset_version"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "delivery" ADD CONSTRAINT "delivery_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "dataset"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "delivery" ADD CONSTRAINT "delivery_department_id_fkey" FOREIGN KEY ("department_id") REFERENCES "department"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
