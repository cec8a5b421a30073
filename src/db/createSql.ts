import postgres from 'postgres';

export type Sql = postgres.Sql<Record<string, never>>;

export interface CreateSqlOptions {
  max?: number;
  /** Called with every statement sent (tests count statements with it). */
  onQuery?: (query: string, params: unknown[]) => void;
  /** Application name shown in pg_stat_activity. */
  applicationName?: string;
}

/**
 * postgres.js pool for dataset rows and bulk paths. DATE, TIMESTAMPTZ and NUMERIC come back
 * as the text PostgreSQL sends (no JS Date or float round-trip), so values reach clients
 * exactly as delivered. BIGINT comes back as a JS number when it is safe, else as text.
 */
export function createSql(url: string, options: CreateSqlOptions = {}): Sql {
  const text = (oid: number) => ({ to: oid, from: [oid], serialize: (x: unknown) => String(x), parse: (x: string) => x });
  return postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    debug: options.onQuery ? (_conn, query, params) => options.onQuery!(query, params as unknown[]) : undefined,
    // Instants are answered in China Standard Time (+08:00), the platform's legal time.
    connection: { application_name: options.applicationName ?? 'hz-share-gateway', TimeZone: 'Asia/Shanghai' },
    types: {
      date: text(1082),
      timestamptz: text(1184),
      numeric: text(1700),
      bigint: {
        to: 20,
        from: [20],
        serialize: (x: unknown) => String(x),
        parse: (x: string) => {
          const n = Number(x);
          return Number.isSafeInteger(n) ? n : x;
        },
      },
    },
  }) as unknown as Sql;
}
