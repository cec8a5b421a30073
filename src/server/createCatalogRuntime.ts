/**
 * Keeps the served schema equal to the published catalog on every gateway process attached
 * to the database: a LISTEN on CATALOG_CHANNEL reacts at once to a publish by any process,
 * and a poll of the newest CatalogVersion id catches anything a dropped connection missed.
 */
import type { GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { Catalog } from '../catalog/Catalog';
import { CATALOG_CHANNEL, currentCatalogVersion, loadPublishedCatalog } from '../catalog/catalogStore';
import type { Prisma } from '../db/createPrisma';
import type { Sql } from '../db/createSql';

export interface CatalogSnapshot {
  catalog: Catalog;
  version: number;
  schema: GraphQLSchema;
}

export interface CatalogRuntime {
  current(): CatalogSnapshot | null;
  /** Reloads when the database holds a newer version; resolves to the snapshot served. */
  refresh(): Promise<CatalogSnapshot>;
  onChange(listener: (s: CatalogSnapshot) => void): () => void;
  stop(): Promise<void>;
}

export async function createCatalogRuntime(opts: {
  sql: Sql;
  prisma: Prisma;
  log: Logger;
  pollIntervalMs: number;
  buildSchema: (catalog: Catalog) => GraphQLSchema;
}): Promise<CatalogRuntime> {
  let snapshot: CatalogSnapshot | null = null;
  const listeners = new Set<(s: CatalogSnapshot) => void>();
  let inflight: Promise<CatalogSnapshot> | null = null;
  let stopped = false;

  const load = async (): Promise<CatalogSnapshot> => {
    const version = await currentCatalogVersion(opts.sql);
    if (snapshot && snapshot.version === version) return snapshot;
    const published = await loadPublishedCatalog(opts.prisma);
    const schema = opts.buildSchema(published.catalog);
    snapshot = { catalog: published.catalog, version: published.version, schema };
    opts.log.info({ catalogVersion: snapshot.version, datasets: published.catalog.datasets.length }, 'serving catalog version');
    for (const l of listeners) l(snapshot);
    return snapshot;
  };
  const refresh = (): Promise<CatalogSnapshot> => {
    // One reload at a time; callers during a reload share its result, then one more runs.
    const run = (inflight ?? Promise.resolve()).catch(() => undefined).then(load);
    inflight = run;
    void run.finally(() => {
      if (inflight === run) inflight = null;
    }).catch(() => undefined);
    return run;
  };

  await refresh();
  const listen = await opts.sql.listen(CATALOG_CHANNEL, () => {
    refresh().catch((err) => opts.log.error({ err }, 'catalog reload after notification failed'));
  });
  const timer = setInterval(() => {
    if (stopped) return;
    refresh().catch((err) => opts.log.warn({ err }, 'catalog poll failed'));
  }, opts.pollIntervalMs);
  timer.unref();

  return {
    current: () => snapshot,
    refresh,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await listen.unlisten().catch(() => undefined);
    },
  };
}
