// Prisma CLI configuration (Prisma 7). Only `prisma generate` runs on our machines (see
// scripts/prismaGenerate.mjs); the migrate commands work where Prisma's engine can be
// downloaded, because migrations keep Prisma's folder layout and bookkeeping.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres' },
});
