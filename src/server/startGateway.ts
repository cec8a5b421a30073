/**
 * Composition of a running gateway, in start-up order: database (embedded when no URL) →
 * migrations → catalog as code → catalog runtime (schema) → demo rows on a fresh embedded
 * database → HTTP. `stop()` undoes it in reverse: drain HTTP, stop listening for catalog
 * changes, close pools, stop the embedded database.
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/GatewayConfig';
import { formatProblem } from '../catalog/Catalog';
import { hashSources, publishSdlCatalog } from '../catalog/catalogStore';
import { loadCatalogFiles } from '../catalog/loadCatalogFiles';
import { parseCatalogSdl } from '../catalog/parseCatalogSdl';
import { createTokenVerifier } from '../auth/createTokenVerifier';
import { createGrantStore } from '../access/grantStore';
import { loadAuditKeys } from '../audit/auditKeys';
import { createAccessRecordWriter } from '../audit/createAccessRecordWriter';
import { createRateLimiter } from './rateLimiter';
import { CALENDAR_CHANNEL, loadCalendar } from '../workflow/calendarStore';
import { createJobs } from '../jobs/createJobs';
import { createProvinceClient } from '../province/provinceClient';
import { pushOpenData } from '../province/pushOpenData';
import { parseBackflowMappings, pullBackflow } from '../province/pullBackflow';
import { createEmbeddedDatabase } from '../db/createEmbeddedDatabase';
import { createPrisma } from '../db/createPrisma';
import { createSql } from '../db/createSql';
import { migrate } from '../db/migrate';
import { isDatabaseEmpty, loadDemo } from '../demo/loadDemo';
import { buildGatewaySchema } from '../graphql/buildGatewaySchema';
import { createSqlRowSource } from '../graphql/sqlRowSource';
import { createCatalogRuntime } from './createCatalogRuntime';
import { createGateway, type Gateway } from './createGateway';
import type { GatewayServices } from './GatewayServices';

export interface RunningGateway {
  url: string;
  gateway: Gateway;
  services: GatewayServices;
  stop(): Promise<void>;
}

export class CatalogLoadError extends Error {
  constructor(readonly problems: string[]) {
    super(`catalog in schema/ has ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'CatalogLoadError';
  }
}

/** Parses schema/ and publishes it as a new catalog version when it changed. */
export async function loadSdlCatalog(services: Pick<GatewayServices, 'config' | 'sql' | 'prisma' | 'log'>): Promise<void> {
  const files = await loadCatalogFiles(services.config.catalog.dir);
  const { catalog, problems } = parseCatalogSdl(files, { resourceCodePattern: new RegExp(services.config.catalog.resourceCodePattern) });
  if (problems.length) throw new CatalogLoadError(problems.map(formatProblem));
  const r = await publishSdlCatalog(services.prisma, services.sql, catalog, hashSources(files));
  if (r.changed) services.log.info({ catalogVersion: r.catalogVersion, published: r.publishedDatasets }, 'catalog as code published');
}

export interface StartOptions {
  /** Observes every SQL statement of the row pool (tests count statements with it). */
  onQuery?: (query: string) => void;
}

export interface OpenedDatabase {
  url: string;
  sql: ReturnType<typeof createSql>;
  prisma: ReturnType<typeof createPrisma>;
  /** True on the first start of a new embedded database. */
  embeddedCreated: boolean;
  /** Closes pools and stops the embedded database, in reverse order of opening. */
  close(): Promise<void>;
}

/** DATABASE_URL or the embedded PostgreSQL, migrated, with both pools open. */
export async function openDatabase(config: GatewayConfig, log: Logger, options: StartOptions = {}): Promise<OpenedDatabase> {
  const cleanups: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of cleanups.reverse()) await c().catch((err) => log.error({ err }, 'error during shutdown'));
  };
  try {
    let url: string;
    let embeddedCreated = false;
    if (config.database.url) {
      url = config.database.url;
    } else {
      const embedded = await createEmbeddedDatabase({ ...config.database.embedded, log });
      cleanups.push(embedded.stop);
      url = embedded.url;
      embeddedCreated = embedded.created;
    }
    const sql = createSql(url, { max: config.database.poolSize, onQuery: options.onQuery });
    cleanups.push(() => sql.end({ timeout: 5 }));
    const prisma = createPrisma(url, 4);
    cleanups.push(() => prisma.$disconnect());
    const m = await migrate(sql);
    if (m.applied.length) log.info({ applied: m.applied }, 'migrations applied');
    return { url, sql, prisma, embeddedCreated, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export async function startGateway(config: GatewayConfig, log: Logger, options: StartOptions = {}): Promise<RunningGateway> {
  const db = await openDatabase(config, log, options);
  let stopCatalog: (() => Promise<void>) | null = null;
  const stops: (() => Promise<void>)[] = [];
  try {
    const { sql, prisma } = db;
    const base = { config, sql, prisma, log };
    if (config.catalog.loadOnStart) await loadSdlCatalog(base);

    // GraphQL's dataset statements: on their own pool when database.readPoolSize is set (about
    // twice the database server's cores; postgres.js pipelines further statements on busy
    // connections), else on the main pool. bench/README.md, "A pool of its own for the reads".
    const readSql = config.database.readPoolSize
      ? createSql(db.url, { max: config.database.readPoolSize, onQuery: options.onQuery, applicationName: 'hz-share-gateway reads' })
      : sql;
    if (readSql !== sql) stops.push(() => readSql.end({ timeout: 5 }));
    const catalog = await createCatalogRuntime({
      sql,
      prisma,
      log,
      pollIntervalMs: config.catalog.pollIntervalMs,
      buildSchema: (c) =>
        buildGatewaySchema(c, {
          defaultPageSize: config.limits.defaultPageSize,
          maxPageSize: config.limits.maxPageSize,
          source: createSqlRowSource(readSql, c, config.limits.maxPageSize, { audit: config.access.enforce }),
          permissions: config.access.enforce,
        }),
    });
    stopCatalog = () => catalog.stop();
    const tokens = await createTokenVerifier(config, (code) => !!catalog.current()?.catalog.departments.some((d) => d.code === code));
    const auditKeys = await loadAuditKeys(config);
    const grants = await createGrantStore(sql, log);
    stops.push(() => grants.stop());
    // The access record and the rate limit get their own small pool: every request waits for
    // them, so they must never queue behind the data queries for a connection.
    const controlSql = createSql(db.url, { max: 2, applicationName: 'hz-share-gateway access' });
    stops.push(() => controlSql.end({ timeout: 5 }));
    const accessRecords = createAccessRecordWriter(controlSql, auditKeys, log);
    stops.push(() => accessRecords.close());
    const rateLimiter = createRateLimiter(controlSql, { limit: config.access.enforce ? config.limits.ratePerAgency : 0, windowSeconds: config.limits.rateWindowSeconds, log });
    stops.push(() => rateLimiter.close());
    const rowAudit = config.audit.storeRowHashes ? auditKeys.dataPads : null;
    const services: GatewayServices = { ...base, catalog, tokens, grants, auditKeys, rowAudit, accessRecords, rateLimiter, calendar: await loadCalendar(sql) };
    // A year loaded by the data authority on any process reaches every process.
    const calendarListener = await sql.listen(CALENDAR_CHANNEL, () => {
      loadCalendar(sql).then((c) => (services.calendar = c), (err) => log.error({ err }, 'calendar reload failed'));
    });
    stops.push(() => calendarListener.unlisten());

    if (!config.database.url && config.demo.loadOnEmptyDatabase && (db.embeddedCreated || (await isDatabaseEmpty(sql)))) {
      log.info('empty embedded database: loading the synthetic demo rows');
      await loadDemo(services, catalog.current()!.catalog);
    }

    const p = config.province;
    const client = p.endpoint
        ? createProvinceClient({
            endpoint: p.endpoint,
            // The token itself never sits in the configuration: it is read from the variable named there.
            token: p.credentialsEnv ? process.env[p.credentialsEnv] : undefined,
            timeoutMs: p.timeoutMs,
          })
        : null;
    if (client) services.province = client;
    if (config.deadlines.jobs) {
      const jobs = await createJobs({
        url: db.url,
        sql: controlSql,
        log,
        sweepCron: config.deadlines.sweepCron,
        reminderBeforeHours: config.deadlines.reminderBeforeHours,
        calendar: () => services.calendar,
        province: client
          ? {
              cron: p.syncCron,
              run: async () => {
                const catalogNow = services.catalog.current()!.catalog;
                const push = await pushOpenData({ sql, client, catalog: catalogNow, log }, { chunkRows: p.chunkRows, maxAttempts: p.maxAttempts, backoffMs: p.backoffMs });
                const backflow = await pullBackflow({ sql, client, catalog: catalogNow, log }, parseBackflowMappings(p.backflow), {
                  pageRows: p.chunkRows,
                  maxAttempts: p.maxAttempts,
                  backoffMs: p.backoffMs,
                  maxReportedProblems: config.limits.maxReportedProblems,
                  rowAudit: services.rowAudit,
                });
                return { push, backflow };
              },
            }
          : undefined,
      });
      services.jobs = jobs;
      stops.push(() => jobs.stop());
    }

    const gateway = await createGateway(services);
    const graphqlUrl = await gateway.listen();
    log.info({ url: graphqlUrl, mode: config.mode, catalogVersion: catalog.current()?.version }, 'gateway ready');
    return {
      url: graphqlUrl,
      gateway,
      services,
      stop: async () => {
        await gateway.stop();
        log.debug('http stopped');
        for (const s of stops.reverse()) await s().catch((err) => log.error({ err }, 'error during shutdown'));
        await catalog.stop();
        log.debug('catalog listener stopped');
        await db.close();
      },
    };
  } catch (err) {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    await stopCatalog?.().catch(() => undefined);
    await db.close();
    throw err;
  }
}
