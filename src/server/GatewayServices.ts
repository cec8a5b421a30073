import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/GatewayConfig';
import type { Prisma } from '../db/createPrisma';
import type { Sql } from '../db/createSql';
import type { TokenVerifier } from '../auth/createTokenVerifier';
import type { CatalogRuntime } from './createCatalogRuntime';

/** Long-lived resources shared by all requests of one gateway process. */
export interface GatewayServices {
  config: GatewayConfig;
  sql: Sql;
  prisma: Prisma;
  log: Logger;
  catalog: CatalogRuntime;
  tokens: TokenVerifier;
}
