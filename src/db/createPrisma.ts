import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client';

export type Prisma = PrismaClient;

/** Prisma 7 client on the pg driver adapter (no Rust engine needed; ENVIRONMENT.md). */
export function createPrisma(url: string, max = 5): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max }) });
}
