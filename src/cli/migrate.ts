/** `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the embedded database). */
import fileConfig from '../../gateway.config';
import { loadConfig } from '../config/loadConfig';
import { createLogger } from '../server/createLogger';
import { openDatabase } from '../server/startGateway';

async function main(): Promise<void> {
  const config = loadConfig(fileConfig, process.env);
  const log = createLogger(config.log.level);
  const db = await openDatabase(config, log); // migrates
  await db.close();
  log.info('database is up to date');
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
