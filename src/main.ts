/**
 * Composition root: the only reader of process.env. `npm start` runs this file.
 * SIGTERM / SIGINT: in-flight requests finish (within server.shutdownGraceMs), then pools
 * close and the embedded PostgreSQL stops cleanly.
 */
import 'reflect-metadata';
import fileConfig from '../gateway.config';
import { ConfigError, loadConfig } from './config/loadConfig';
import { createLogger } from './server/createLogger';
import { CatalogLoadError, startGateway } from './server/startGateway';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(fileConfig, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const log = createLogger(config.log.level);
  let running: Awaited<ReturnType<typeof startGateway>>;
  try {
    running = await startGateway(config, log);
  } catch (err) {
    if (err instanceof CatalogLoadError) process.stderr.write(`${err.message}\n`);
    log.fatal({ err }, 'gateway failed to start');
    process.exit(1);
  }
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      running
        .stop()
        .then(() => {
          log.info('stopped');
          process.exit(0);
        })
        .catch((err) => {
          log.error({ err }, 'unclean shutdown');
          process.exit(1);
        });
    });
  }
}

void main();
