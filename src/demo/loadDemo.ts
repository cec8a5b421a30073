/**
 * Loads the synthetic demo rows through the gateway's own delivery path, each dataset as
 * its source department would deliver it. Deterministic (fixed seed); no real person's data.
 */
import type { Logger } from 'pino';
import type { DataPads } from '../audit/auditKeys';
import type { Catalog } from '../catalog/Catalog';
import type { Prisma } from '../db/createPrisma';
import type { Sql } from '../db/createSql';
import { deliverRecords } from '../delivery/deliverRows';
import {
  airQualities,
  DEMO_SEED,
  DEMO_SIZES,
  enterpriseLicenses,
  enterprises,
  householdRegistrations,
  realEstateRegistrations,
  socialInsurances,
} from './syntheticData';

const GENERATORS: Record<string, () => Iterable<Record<string, unknown>>> = {
  Enterprise: () => enterprises(DEMO_SIZES.enterprises, DEMO_SEED),
  EnterpriseLicense: () => enterpriseLicenses(DEMO_SIZES.enterprises, DEMO_SEED),
  HouseholdRegistration: () => householdRegistrations(DEMO_SIZES.householdRegistrations, DEMO_SEED),
  SocialInsurance: () => socialInsurances(DEMO_SIZES.socialInsurances, DEMO_SIZES.enterprises, DEMO_SEED),
  RealEstateRegistration: () => realEstateRegistrations(DEMO_SIZES.realEstateRegistrations, DEMO_SEED),
  AirQuality: () => airQualities(DEMO_SIZES.airQualityStations, DEMO_SIZES.airQualityHours, DEMO_SEED),
};

/** True when no delivery was ever accepted (a fresh database). */
export async function isDatabaseEmpty(sql: Sql): Promise<boolean> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM delivery WHERE status = 'ACCEPTED'`;
  return row.n === 0;
}

export async function loadDemo(deps: { sql: Sql; prisma: Prisma; log: Logger; rowAudit?: DataPads | null }, catalog: Catalog): Promise<Record<string, number>> {
  const loaded: Record<string, number> = {};
  for (const ds of catalog.datasets) {
    const generate = GENERATORS[ds.typeName];
    if (!generate) continue;
    const row = await deps.prisma.dataset.findUnique({ where: { code: ds.code }, select: { id: true, departmentId: true } });
    if (!row) continue;
    const started = Date.now();
    const result = await deliverRecords(
      deps.sql,
      { catalog, dataset: ds, datasetId: row.id, departmentId: row.departmentId },
      { deliveredBy: `${ds.departmentCode}/demo-loader`, channel: 'GRAPHQL' },
      generate() as Iterable<Record<string, unknown>>,
      { maxReportedProblems: 20, rowAudit: deps.rowAudit ?? null },
    );
    if (result.status !== 'ACCEPTED') {
      throw new Error(`demo rows of ${ds.code} were rejected: ${JSON.stringify(result.problems.slice(0, 5))}`);
    }
    loaded[ds.typeName] = result.rowCount;
    deps.log.info({ dataset: ds.code, rows: result.rowCount, ms: Date.now() - started }, 'demo rows delivered');
  }
  return loaded;
}
