/**
 * Configuration of hz-share-gateway. Every key is optional: omitted keys take the defaults
 * documented in the README ("Configuration"), and the environment variables listed there
 * override what is written here. An invalid value stops start-up with a message naming the key.
 */
import type { GatewayConfigInput } from './src/config/GatewayConfig';

const config: GatewayConfigInput = {
  mode: 'development',
  server: { host: '127.0.0.1', port: 4000 },
  database: {
    // url: 'postgresql://user@host:5432/hz_gateway',  // unset → embedded PostgreSQL
    poolSize: 10,
    // GraphQL's dataset reads get a pool of their own: about twice the database server's cores
    // (4 suits the 2-core machines this is developed and benchmarked on).
    readPoolSize: 4,
    embedded: { dataDir: '.data/pg', port: 54329 },
  },
  catalog: { dir: 'schema', loadOnStart: true },
  limits: { defaultPageSize: 20, maxPageSize: 100 },
};

export default config;
