/**
 * The provincial open-data platform as the gateway sees it. The real interface belongs to the
 * province; this adapter is the only place that knows its shape, and each assumption is named
 * (see src/province/README.md):
 * - A1 chunks of rows go to `POST {endpoint}/open-data/{code}/chunks` as JSON
 *   `{ version, rows: [{ key, data }], deletes: [keys] }`;
 * - A2 an `Idempotency-Key` header makes a resent chunk harmless (the platform applies it once);
 * - A3 a 2xx answer with `ack: true` means the chunk is stored; anything else (status, timeout,
 *   dropped connection) means "not known to be stored" and the chunk is sent again;
 * - A4 the open catalog goes to `POST {endpoint}/open-catalog` (entries and retired codes);
 * - A5 `GET {endpoint}/open-data/{code}/stats` gives the platform's row count (reconciliation);
 * - A6 authentication is a bearer token.
 */
export interface ProvinceChunk {
  idempotencyKey: string;
  version: string;
  rows: { key: string; data: Record<string, unknown> }[];
  deletes: string[];
}

export interface OpenCatalogEntry {
  code: string;
  name: string;
  openType: string;
  fields: { name: string; label: string; openType: string }[];
}

export class ProvinceError extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
    this.name = 'ProvinceError';
  }
}

export interface ProvinceClient {
  pushChunk(code: string, chunk: ProvinceChunk): Promise<{ duplicate: boolean }>;
  pushCatalog(idempotencyKey: string, entries: OpenCatalogEntry[], retired: string[]): Promise<void>;
  stats(code: string): Promise<{ rows: number }>;
  /** A10: a year's published opening plans go to `POST {endpoint}/open-plans` as `{ year, plans }`. */
  pushPlans(idempotencyKey: string, year: number, plans: unknown[]): Promise<void>;
  /** A7: a page of a vertical system's rows after `cursor` (null = from the start); `next` null on the last page. */
  backflowPage(source: string, cursor: string | null, limit: number): Promise<{ rows: { key: string; data: Record<string, unknown> }[]; next: string | null }>;
}

export function createProvinceClient(opts: { endpoint: string; token?: string; timeoutMs: number }): ProvinceClient {
  const base = opts.endpoint.replace(/\/+$/, '');
  const call = async (method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<Record<string, unknown>> => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
    } catch (err) {
      const e = err as Error;
      throw new ProvinceError(e.name === 'TimeoutError' ? `no answer within ${opts.timeoutMs} ms` : `connection failed: ${e.message}`, true);
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      // 4xx other than 408/429 will not get better by retrying (a bad chunk, bad credentials).
      const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
      throw new ProvinceError(`HTTP ${res.status}: ${text.slice(0, 200)}`, retryable);
    }
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new ProvinceError('the platform answered with something that is not JSON', true);
    }
  };
  return {
    async pushChunk(code, chunk) {
      const r = await call('POST', `/open-data/${encodeURIComponent(code)}/chunks`, { version: chunk.version, rows: chunk.rows, deletes: chunk.deletes }, chunk.idempotencyKey);
      if (r.ack !== true) throw new ProvinceError('the platform did not acknowledge the chunk', true);
      return { duplicate: r.duplicate === true };
    },
    async pushCatalog(idempotencyKey, entries, retired) {
      await call('POST', '/open-catalog', { entries, retired }, idempotencyKey);
    },
    async pushPlans(idempotencyKey, year, plans) {
      await call('POST', '/open-plans', { year, plans }, idempotencyKey);
    },
    async backflowPage(source, cursor, limit) {
      const q = new URLSearchParams({ limit: String(limit), ...(cursor ? { after: cursor } : {}) });
      const r = await call('GET', `/backflow/${encodeURIComponent(source)}?${q}`);
      if (!Array.isArray(r.rows)) throw new ProvinceError('the backflow page has no rows array', true);
      return { rows: r.rows as { key: string; data: Record<string, unknown> }[], next: typeof r.next === 'string' ? r.next : null };
    },
    async stats(code) {
      const r = await call('GET', `/open-data/${encodeURIComponent(code)}/stats`);
      return { rows: Number(r.rows ?? 0) };
    },
  };
}

/** Wait before retry number `attempt` (1, 2, …): exponential backoff with full jitter. */
export function backoffDelay(attempt: number, baseMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * baseMs * 2 ** (attempt - 1));
}
