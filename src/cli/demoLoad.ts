/**
 * `npm run demo:load`: publishes schema/ if it changed and delivers the synthetic demo rows
 * through the delivery path (upsert: running it twice changes nothing).
 */
import fileConfig from '../../gateway.config';
import { loadAuditKeys } from '../audit/auditKeys';
import { loadPublishedCatalog } from '../catalog/catalogStore';
import { loadConfig } from '../config/loadConfig';
import { loadDemo } from '../demo/loadDemo';
import { createLogger } from '../server/createLogger';
import { loadSdlCatalog, openDatabase } from '../server/startGateway';

async function main(): Promise<void> {
  const config = loadConfig(fileConfig, process.env);
  const log = createLogger(config.log.level);
  const db = await openDatabase(config, log);
  try {
    await loadSdlCatalog({ config, sql: db.sql, prisma: db.prisma, log });
    const { catalog } = await loadPublishedCatalog(db.prisma);
    // The gateway's own key, so the rows store the keyed hashes its reads use.
    const rowAudit = config.audit.storeRowHashes ? (await loadAuditKeys(config)).dataPads : null;
    const loaded = await loadDemo({ sql: db.sql, prisma: db.prisma, log, rowAudit }, catalog);
    log.info({ loaded }, 'demo rows loaded');
  } finally {
    await db.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
