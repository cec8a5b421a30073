import type { Logger } from 'pino';
import type { GrantStore } from '../access/grantStore';
import type { AccessRecordWriter } from '../audit/AccessRecord';
import type { AuditKeys, DataPads } from '../audit/auditKeys';
import type { GatewayConfig } from '../config/GatewayConfig';
import type { Prisma } from '../db/createPrisma';
import type { Sql } from '../db/createSql';
import type { TokenVerifier } from '../auth/createTokenVerifier';
import type { WorkingDayCalendar } from '../calendar/workingDays';
import type { Jobs } from '../jobs/createJobs';
import type { CatalogRuntime } from './createCatalogRuntime';
import type { RateLimiter } from './rateLimiter';

/** Long-lived resources shared by all requests of one gateway process. */
export interface GatewayServices {
  config: GatewayConfig;
  sql: Sql;
  prisma: Prisma;
  log: Logger;
  catalog: CatalogRuntime;
  tokens: TokenVerifier;
  grants: GrantStore;
  auditKeys: AuditKeys;
  /** `auditKeys.dataPads` when deliveries store rows' keyed hashes (`audit.storeRowHashes`), else null. */
  rowAudit: DataPads | null;
  accessRecords: AccessRecordWriter;
  rateLimiter: RateLimiter;
  /** Working days (statutory holidays and 调休) for deadlines. */
  calendar: WorkingDayCalendar;
  /** The provincial platform client (absent when no `province.endpoint` is configured). */
  province?: import('../province/provinceClient').ProvinceClient;
  /** Durable jobs (absent when `deadlines.jobs` is off). */
  jobs?: Jobs;
}
