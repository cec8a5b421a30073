/**
 * An in-memory simulator of the provincial open-data platform (开放广东), for tests, the demo and
 * benchmarks. The real interface belongs to the province; this simulator implements the
 * gateway's assumptions about it (A1–A9 in src/province/README.md) and nothing more, as
 * strictly as it can, so that a gateway bug shows up here rather than at the province:
 *
 * - receiving side: chunks of open rows (`POST /open-data/{code}/chunks`), the open catalog
 *   (`POST /open-catalog`) and a row count for reconciliation (`GET /open-data/{code}/stats`),
 *   every push made idempotent by its `Idempotency-Key`;
 * - backflow side (数据回流): rows of a vertical system paged with an opaque cursor
 *   (`GET /backflow/{code}`), seeded by tests through the control API;
 * - control API under `/_…` (never authenticated, it is not part of the simulated interface):
 *   fault injection (failures, timeouts, slowness, dropped acknowledgements, double delivery,
 *   seeded random failures), counters and reset.
 *
 * Everything lives in memory. Rows are kept as the `data` objects parsed from the request
 * (never copied), one Map entry per row, so a million rows of ten short fields fit a benchmark.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProvinceSimulatorOptions {
  /** 0 or absent: an ephemeral port (see `url`). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** When set, platform requests need `Authorization: Bearer <token>` (401 otherwise); `/_…` never does. */
  token?: string;
  /** Larger request bodies are refused with 413. Default 64 MiB. */
  maxBodyBytes?: number;
  /** Refuse (404) chunks for a dataset that is not in the open catalog. Default false. */
  requireCatalog?: boolean;
}

export interface ProvinceSimulator {
  /** Base URL, e.g. `http://127.0.0.1:4300` (no trailing slash). */
  url: string;
  /** Closes the server and every connection, held ones included. */
  stop(): Promise<void>;
  state: SimulatorState;
}

/** A row's `data` as received; the simulator never looks inside. */
export type RowData = Record<string, unknown>;

export interface OpenCatalogField {
  name: string;
  label: string;
  openType: string;
}

export interface OpenCatalogEntry {
  code: string;
  name: string;
  openType: string;
  fields: OpenCatalogField[];
}

export interface BackflowRow {
  key: string;
  data: RowData;
}

/** A push that was applied, by its Idempotency-Key: what it was and what was answered. */
export interface AppliedPush {
  /** Request path, e.g. `/open-data/HZ001/chunks`. */
  path: string;
  /** sha256 (hex) of the request body bytes: a key reused for other bytes is refused with 422. */
  fingerprint: string;
  /** The original answer; a replay gets it again with `duplicate: true`. */
  response: Readonly<Record<string, unknown>>;
}

export interface SimulatorCounters {
  /** Platform (non-control) requests, whatever their outcome. */
  requests: number;
  /** Chunk requests answered 200: applied ones and ignored duplicates (an injected double delivery counts twice). */
  chunksReceived: number;
  chunksApplied: number;
  /** Pushes (chunks and catalog) whose key had already been applied, answered without applying. */
  duplicatesIgnored: number;
  /** Rows written by applied chunks (inserted or replaced). */
  rowsUpserted: number;
  /** Rows actually removed by applied chunks' `deletes` (a key that was not there is not counted). */
  rowsDeleted: number;
  /** Catalog pushes applied. */
  catalogPushes: number;
  /** Backflow pages served. */
  backflowPages: number;
  /** Answers replaced by a fault: failNext, failRate and timeoutNext. */
  errorsInjected: number;
  /** Requests applied whose answer was dropped (dropAckNext). */
  acksDropped: number;
  /** Pushes delivered a second time by the platform itself (duplicateNext). */
  duplicatesInjected: number;
  /** 401 answers. */
  unauthorized: number;
  /** Other 4xx answers (400, 404, 405, 413, 415, 422). */
  rejected: number;
}

export interface FaultSettings {
  /** The next n chunk, catalog or backflow requests answer `failStatus` without applying. */
  failNext: number;
  failStatus: number;
  /** The next n chunk, catalog or backflow requests are never answered (the socket is held). */
  timeoutNext: number;
  /** Every platform request is answered this much later. */
  slowMs: number;
  /** The next n chunk, catalog or backflow requests are applied, then their socket is destroyed unanswered. */
  dropAckNext: number;
  /** The next n pushes (chunk or catalog) are applied, answered, and delivered again internally. */
  duplicateNext: number;
  /** Probability that a chunk request fails once (503) for its Idempotency-Key; 0 = off. */
  failRate: number;
  /** Seed of failRate's decisions: the same seed and key always decide the same way. */
  seed: number;
}

/** Read access for tests. The collections are live views: do not modify them. */
export interface SimulatorState {
  /** datasetCode → row key → `data` as received. */
  readonly rows: ReadonlyMap<string, ReadonlyMap<string, Readonly<RowData>>>;
  /** datasetCode → `version` of the last applied chunk. */
  readonly versions: ReadonlyMap<string, string>;
  /** Idempotency-Key → the push applied with it (chunks and catalog share one key space). */
  readonly idempotencyKeys: ReadonlyMap<string, AppliedPush>;
  /** Open catalog by dataset code. */
  readonly catalog: ReadonlyMap<string, Readonly<OpenCatalogEntry>>;
  /** Opening plans forwarded upward, by year (A10). */
  readonly plans: ReadonlyMap<number, readonly unknown[]>;
  /** Seeded vertical-system rows by dataset code, in paging order. */
  readonly backflow: ReadonlyMap<string, readonly BackflowRow[]>;
  readonly counters: Readonly<SimulatorCounters>;
  readonly faults: Readonly<FaultSettings>;
  /** Requests currently held by timeoutNext (until the client gives up or the simulator stops). */
  readonly heldRequests: number;
  /** Rows of a dataset (0 when unknown). */
  rowCount(datasetCode: string): number;
}

const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;
const DEFAULT_FAIL_STATUS = 503;
/** Backflow page size when `limit` is absent, and the largest page served (a larger limit is clamped). */
const BACKFLOW_DEFAULT_LIMIT = 500;
const BACKFLOW_MAX_LIMIT = 5000;
/** Version prefix of backflow cursors: a cursor is base64url(`bf1:<code>:<index of the next row>`). */
const CURSOR_PREFIX = 'bf1:';
/** Idempotency keys: 1–255 visible ASCII characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function zeroCounters(): SimulatorCounters {
  return {
    requests: 0,
    chunksReceived: 0,
    chunksApplied: 0,
    duplicatesIgnored: 0,
    rowsUpserted: 0,
    rowsDeleted: 0,
    catalogPushes: 0,
    backflowPages: 0,
    errorsInjected: 0,
    acksDropped: 0,
    duplicatesInjected: 0,
    unauthorized: 0,
    rejected: 0,
  };
}

function noFaults(): FaultSettings {
  return { failNext: 0, failStatus: DEFAULT_FAIL_STATUS, timeoutNext: 0, slowMs: 0, dropAckNext: 0, duplicateNext: 0, failRate: 0, seed: 0 };
}

/** An answer to send; `status` 200 unless said otherwise. */
interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A refusal of the request (4xx), thrown by validation and turned into a Reply. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

type Route =
  | { kind: 'chunks'; dataset: string }
  | { kind: 'catalog' }
  | { kind: 'plans' }
  | { kind: 'stats'; dataset: string }
  | { kind: 'backflow'; dataset: string };

/** Requests that faults apply to (stats and control requests are only slowed, or not at all). */
type FaultableRoute = Exclude<Route, { kind: 'stats' }>;

interface ChunkBody {
  version: string;
  rows: BackflowRow[];
  deletes: string[];
}

interface CatalogBody {
  entries: OpenCatalogEntry[];
  retired: string[];
}

/**
 * Starts the simulator; resolves once it listens. See the module comment and
 * src/province/README.md for the interface.
 */
export async function startProvinceSimulator(opts: ProvinceSimulatorOptions = {}): Promise<ProvinceSimulator> {
  const sim = new Simulator(opts);
  const server = http.createServer((req, res) => {
    sim.handle(req, res).catch((err: unknown) => {
      // Unexpected (a bug of the simulator, or the client went away mid-request).
      send(res, { status: 500, body: { error: `simulator error: ${err instanceof Error ? err.message : String(err)}` } });
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let stopping: Promise<void> | null = null;
  return {
    url,
    state: sim.state,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        sim.shutdown();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}

class Simulator {
  private readonly rows = new Map<string, Map<string, RowData>>();
  private readonly versions = new Map<string, string>();
  private readonly applied = new Map<string, AppliedPush>();
  private readonly catalog = new Map<string, OpenCatalogEntry>();
  /** Opening plans forwarded upward, by year. */
  readonly plans = new Map<number, unknown[]>();
  private readonly backflow = new Map<string, BackflowRow[]>();
  private readonly counters = zeroCounters();
  private readonly faults = noFaults();
  /** Keys that failRate already failed once (under the current failRate and seed). */
  private readonly rateFailed = new Set<string>();
  private readonly held = new Set<ServerResponse>();
  /** Aborts slowMs waits on stop. */
  private readonly stopped = new AbortController();
  private readonly tokenDigest: Buffer | null;
  private readonly maxBodyBytes: number;
  private readonly requireCatalog: boolean;
  readonly state: SimulatorState;

  constructor(opts: ProvinceSimulatorOptions) {
    this.tokenDigest = opts.token ? sha256(Buffer.from(opts.token)) : null;
    this.maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.requireCatalog = opts.requireCatalog ?? false;
    // The same Map and object instances for the simulator's whole life (reset clears them in
    // place), so the state can hand them out directly.
    const held = this.held;
    this.state = {
      rows: this.rows,
      versions: this.versions,
      idempotencyKeys: this.applied,
      catalog: this.catalog,
      plans: this.plans,
      backflow: this.backflow,
      counters: this.counters,
      faults: this.faults,
      get heldRequests() {
        return held.size;
      },
      rowCount: (code) => this.rows.get(code)?.size ?? 0,
    };
  }

  shutdown(): void {
    this.stopped.abort();
    for (const res of this.held) res.destroy();
    this.held.clear();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const segments = url.pathname.split('/').slice(1);
    try {
      if (segments[0]?.startsWith('_')) {
        send(res, await this.control(req, segments, url));
        return;
      }
      this.counters.requests++;
      if (!this.authorized(req)) {
        throw new Refusal(401, 'missing or wrong bearer token', { 'WWW-Authenticate': 'Bearer' });
      }
      const route = matchRoute(req.method ?? 'GET', segments);
      const body = route.kind === 'chunks' || route.kind === 'catalog' || route.kind === 'plans' ? await this.readBody(req) : null;
      if (this.faults.slowMs > 0) {
        try {
          await sleep(this.faults.slowMs, undefined, { signal: this.stopped.signal });
        } catch {
          return; // stopped while waiting: the connection is gone
        }
      }
      if (route.kind === 'stats') {
        send(res, this.stats(route.dataset));
        return;
      }
      this.serve(req, res, route, body, url);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      if (err.status === 401) this.counters.unauthorized++;
      else this.counters.rejected++;
      send(res, { status: err.status, body: { error: err.message }, headers: err.headers });
    }
  }

  /** A chunk, catalog or backflow request, through the fault injection. */
  private serve(req: IncomingMessage, res: ServerResponse, route: FaultableRoute, body: Buffer | null, url: URL): void {
    const f = this.faults;
    if (f.timeoutNext > 0) {
      f.timeoutNext--;
      this.counters.errorsInjected++;
      // Never answered: held until the client gives up (closes) or the simulator stops.
      this.held.add(res);
      res.on('close', () => this.held.delete(res));
      return;
    }
    if (f.failNext > 0) {
      f.failNext--;
      this.counters.errorsInjected++;
      send(res, { status: f.failStatus, body: { error: `injected failure (HTTP ${f.failStatus})` } });
      return;
    }
    const key = req.headers['idempotency-key'];
    if (route.kind === 'chunks' && f.failRate > 0 && typeof key === 'string' && !this.rateFailed.has(key) && rateFails(f.seed, key, f.failRate)) {
      this.rateFailed.add(key);
      this.counters.errorsInjected++;
      send(res, { status: 503, body: { error: 'injected failure (failRate): retry the same Idempotency-Key' } });
      return;
    }
    let reply: Reply;
    if (route.kind === 'backflow') {
      reply = this.backflowPage(route.dataset, url.searchParams);
    } else {
      const push =
        route.kind === 'chunks'
          ? (): Reply => this.applyChunk(route.dataset, body!)
          : route.kind === 'plans'
            ? (): Reply => this.applyPlans(body!)
            : (): Reply => this.applyCatalog(body!);
      const idemKey = requireIdempotencyKey(req);
      requireJson(req);
      const fingerprint = sha256(body!).toString('hex');
      reply = this.once(idemKey, url.pathname, fingerprint, route.kind === 'chunks', push);
      if (f.duplicateNext > 0) {
        f.duplicateNext--;
        this.counters.duplicatesInjected++;
        this.once(idemKey, url.pathname, fingerprint, route.kind === 'chunks', push);
      }
    }
    if (f.dropAckNext > 0) {
      f.dropAckNext--;
      this.counters.acksDropped++;
      req.socket.destroy();
      return;
    }
    send(res, reply);
  }

  /**
   * Applies a push at most once per Idempotency-Key: a replay of the same path and body bytes
   * gets the original answer with `duplicate: true`; the key reused for anything else is 422.
   * Refusals (400/404) are not remembered, so a corrected request may reuse the key.
   */
  private once(key: string, path: string, fingerprint: string, isChunk: boolean, apply: () => Reply): Reply {
    const prior = this.applied.get(key);
    if (prior) {
      if (prior.path !== path || prior.fingerprint !== fingerprint) {
        throw new Refusal(422, `Idempotency-Key ${key} was already used for a different request (${prior.path}, other body)`);
      }
      this.counters.duplicatesIgnored++;
      if (isChunk) this.counters.chunksReceived++;
      return { status: 200, body: { ...prior.response, duplicate: true } };
    }
    const reply = apply();
    if (isChunk) this.counters.chunksReceived++;
    this.applied.set(key, { path, fingerprint, response: reply.body as Record<string, unknown> });
    return reply;
  }

  /** Validates the whole chunk, then upserts its rows and removes its deletes (all or nothing). */
  private applyChunk(dataset: string, body: Buffer): Reply {
    const chunk = parseChunk(parseJson(body));
    if (this.requireCatalog && !this.catalog.has(dataset)) {
      throw new Refusal(404, `dataset ${dataset} is not in the open catalog`);
    }
    let rows = this.rows.get(dataset);
    if (!rows) this.rows.set(dataset, (rows = new Map()));
    for (const row of chunk.rows) rows.set(row.key, row.data);
    let removed = 0;
    for (const key of chunk.deletes) if (rows.delete(key)) removed++;
    this.versions.set(dataset, chunk.version);
    this.counters.chunksApplied++;
    this.counters.rowsUpserted += chunk.rows.length;
    this.counters.rowsDeleted += removed;
    return {
      status: 200,
      body: { ack: true, duplicate: false, received: chunk.rows.length, deleted: chunk.deletes.length, version: chunk.version },
    };
  }

  /** Stores the entries (replacing same codes) and removes retired codes with their rows. */
  private applyCatalog(body: Buffer): Reply {
    const { entries, retired } = parseCatalog(parseJson(body));
    for (const entry of entries) this.catalog.set(entry.code, entry);
    let removed = 0;
    for (const code of retired) {
      if (this.catalog.delete(code)) removed++;
      this.rows.delete(code);
      this.versions.delete(code);
    }
    this.counters.catalogPushes++;
    return { status: 200, body: { ack: true, duplicate: false, upserted: entries.length, retired: removed } };
  }

  /** `POST /open-plans` (A10): a year's published opening plans, `{ year, plans: [...] }`, kept by year. */
  private applyPlans(body: Buffer): Reply {
    const v = parseJson(body) as { year?: unknown; plans?: unknown };
    if (!Number.isInteger(v.year) || !Array.isArray(v.plans)) throw new Refusal(400, 'expected { year, plans: [...] }');
    this.plans.set(v.year as number, v.plans as unknown[]);
    return { status: 200, body: { ack: true, duplicate: false, year: v.year, plans: (v.plans as unknown[]).length } };
  }

  private stats(dataset: string): Reply {
    return { status: 200, body: { rows: this.rows.get(dataset)?.size ?? 0, version: this.versions.get(dataset) ?? null } };
  }

  /** One page of a backflow dataset after the cursor; `next` is null on the last page. */
  private backflowPage(dataset: string, query: URLSearchParams): Reply {
    const all = this.backflow.get(dataset);
    if (!all) throw new Refusal(404, `no backflow dataset ${dataset}`);
    const after = query.get('after');
    const start = after ? decodeCursor(after, dataset, all.length) : 0;
    const limitText = query.get('limit');
    let limit = BACKFLOW_DEFAULT_LIMIT;
    if (limitText !== null) {
      limit = Number(limitText);
      if (!/^\d+$/.test(limitText) || limit < 1) throw new Refusal(400, 'limit must be a positive integer');
      limit = Math.min(limit, BACKFLOW_MAX_LIMIT);
    }
    const end = Math.min(start + limit, all.length);
    this.counters.backflowPages++;
    return { status: 200, body: { rows: all.slice(start, end), next: end < all.length ? encodeCursor(dataset, end) : null } };
  }

  /** The `/_…` control API (no authentication). */
  private async control(req: IncomingMessage, segments: string[], url: URL): Promise<Reply> {
    const method = req.method ?? 'GET';
    const name = segments[0];
    try {
      if (name === '_faults' && segments.length === 1) {
        if (method === 'GET') return { status: 200, body: { faults: this.faults } };
        if (method !== 'POST') throw methodNotAllowed('GET, POST');
        this.setFaults(parseJson(await this.readBody(req)));
        return { status: 200, body: { faults: this.faults } };
      }
      if (name === '_stats' && segments.length === 1) {
        if (method !== 'GET') throw methodNotAllowed('GET');
        return { status: 200, body: this.overview() };
      }
      if (name === '_reset' && segments.length === 1) {
        if (method !== 'POST') throw methodNotAllowed('POST');
        this.reset();
        return { status: 200, body: { reset: true } };
      }
      if (name === '_backflow' && segments.length === 2) {
        if (method !== 'POST') throw methodNotAllowed('POST');
        const dataset = decodeSegment(segments[1]);
        const rows = parseBackflowSeed(parseJson(await this.readBody(req)));
        let all = this.backflow.get(dataset);
        if (!all) this.backflow.set(dataset, (all = []));
        for (const row of rows) all.push(row);
        return { status: 200, body: { appended: rows.length, total: all.length } };
      }
      throw new Refusal(404, `no control endpoint ${url.pathname}`);
    } catch (err) {
      if (err instanceof Refusal) return { status: err.status, body: { error: err.message }, headers: err.headers };
      throw err;
    }
  }

  /** `POST /_faults`: every given setting replaces the current one; `reset: true` clears all first. */
  private setFaults(body: unknown): void {
    if (!isPlainObject(body)) throw new Refusal(400, 'the body must be a JSON object');
    const known = ['failNext', 'status', 'timeoutNext', 'slowMs', 'dropAckNext', 'duplicateNext', 'failRate', 'seed', 'reset'];
    const unknown = Object.keys(body).filter((k) => !known.includes(k));
    if (unknown.length) throw new Refusal(400, `unknown fault settings: ${unknown.join(', ')} (known: ${known.join(', ')})`);
    const next: FaultSettings = body.reset === true ? noFaults() : { ...this.faults };
    if (body.reset !== undefined && typeof body.reset !== 'boolean') throw new Refusal(400, 'reset must be a boolean');
    for (const k of ['failNext', 'timeoutNext', 'slowMs', 'dropAckNext', 'duplicateNext'] as const) {
      const v = body[k];
      if (v === undefined) continue;
      if (!Number.isSafeInteger(v) || (v as number) < 0) throw new Refusal(400, `${k} must be a non-negative integer`);
      next[k] = v as number;
    }
    if (body.status !== undefined) {
      if (!Number.isInteger(body.status) || (body.status as number) < 400 || (body.status as number) > 599) {
        throw new Refusal(400, 'status must be an HTTP error status (400–599)');
      }
      next.failStatus = body.status as number;
    }
    if (body.failRate !== undefined) {
      if (typeof body.failRate !== 'number' || !(body.failRate >= 0 && body.failRate <= 1)) throw new Refusal(400, 'failRate must be a number from 0 to 1');
      next.failRate = body.failRate;
    }
    if (body.seed !== undefined) {
      if (!Number.isSafeInteger(body.seed)) throw new Refusal(400, 'seed must be an integer');
      next.seed = body.seed as number;
    }
    // A new rate or seed is a new random draw: every key may fail once again.
    if (next.failRate !== this.faults.failRate || next.seed !== this.faults.seed || body.reset === true) this.rateFailed.clear();
    Object.assign(this.faults, next);
  }

  private reset(): void {
    this.rows.clear();
    this.versions.clear();
    this.applied.clear();
    this.catalog.clear();
    this.backflow.clear();
    this.rateFailed.clear();
    Object.assign(this.counters, zeroCounters());
    Object.assign(this.faults, noFaults());
  }

  /** `GET /_stats`. */
  private overview(): Record<string, unknown> {
    const datasets: Record<string, { rows: number; version: string | null }> = {};
    for (const [code, rows] of this.rows) datasets[code] = { rows: rows.size, version: this.versions.get(code) ?? null };
    const backflow: Record<string, number> = {};
    for (const [code, rows] of this.backflow) backflow[code] = rows.length;
    const { heapUsed, rss } = process.memoryUsage();
    return {
      counters: this.counters,
      datasets,
      catalog: [...this.catalog.keys()],
      backflow,
      idempotencyKeys: this.applied.size,
      faults: this.faults,
      heldRequests: this.held.size,
      memory: { heapUsed, rss },
    };
  }

  private authorized(req: IncomingMessage): boolean {
    if (!this.tokenDigest) return true;
    const m = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '');
    // Digests have equal lengths, as timingSafeEqual needs.
    return m !== null && timingSafeEqual(sha256(Buffer.from(m[1])), this.tokenDigest);
  }

  /**
   * The whole body (≤ maxBodyBytes, else 413). A body refused by its Content-Length is not read
   * here: Node discards it after the answer, keeping the connection usable.
   */
  private readBody(req: IncomingMessage): Promise<Buffer> {
    const max = this.maxBodyBytes;
    const tooLarge = new Refusal(413, `request body exceeds ${max} bytes`);
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > max) return Promise.reject(tooLarge);
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      req.on('data', (chunk: Buffer) => {
        if (over) return; // keep reading (discarding) so the client can finish sending and read the 413
        size += chunk.length;
        if (size > max) {
          over = true;
          chunks.length = 0;
          reject(tooLarge);
        } else {
          chunks.push(chunk);
        }
      });
      req.on('end', () => {
        if (!over) resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
      });
      req.on('error', reject);
      req.on('close', () => reject(new Error('the client closed the request before its end')));
    });
  }
}

function matchRoute(method: string, segments: string[]): Route {
  const [a, b, c, ...rest] = segments;
  let route: Route | null = null;
  if (a === 'open-data' && b && (c === 'chunks' || c === 'stats') && rest.length === 0) {
    route = { kind: c, dataset: decodeSegment(b) };
  } else if (a === 'open-catalog' && segments.length === 1) {
    route = { kind: 'catalog' };
  } else if (a === 'open-plans' && segments.length === 1) {
    route = { kind: 'plans' };
  } else if (a === 'backflow' && b && segments.length === 2) {
    route = { kind: 'backflow', dataset: decodeSegment(b) };
  }
  if (!route) throw new Refusal(404, `no endpoint /${segments.join('/')}`);
  const allowed = route.kind === 'chunks' || route.kind === 'catalog' || route.kind === 'plans' ? 'POST' : 'GET';
  if (method !== allowed) throw methodNotAllowed(allowed);
  return route;
}

function methodNotAllowed(allowed: string): Refusal {
  return new Refusal(405, `method not allowed (allowed: ${allowed})`, { Allow: allowed });
}

function decodeSegment(segment: string): string {
  try {
    const decoded = decodeURIComponent(segment);
    if (decoded) return decoded;
  } catch {
    // falls through
  }
  throw new Refusal(400, 'bad dataset code in the path');
}

function requireIdempotencyKey(req: IncomingMessage): string {
  const key = req.headers['idempotency-key'];
  if (typeof key !== 'string' || key === '') throw new Refusal(400, 'the Idempotency-Key header is required');
  if (!IDEMPOTENCY_KEY.test(key)) throw new Refusal(400, 'the Idempotency-Key must be 1–255 visible ASCII characters');
  return key;
}

/** Pushes are JSON (`application/json`, UTF-8, not compressed). */
function requireJson(req: IncomingMessage): void {
  const [mediaType, ...params] = (req.headers['content-type'] ?? '').split(';').map((s) => s.trim().toLowerCase());
  if (mediaType !== 'application/json') throw new Refusal(415, 'send the body as Content-Type: application/json');
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') throw new Refusal(415, 'only UTF-8 JSON is accepted');
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') throw new Refusal(415, 'compressed bodies are not accepted');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(body: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new Refusal(400, 'the body is not UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Refusal(400, `the body is not valid JSON: ${(err as Error).message}`);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v !== '';
}

/** `[{ key, data }]`: keys non-empty strings, data JSON objects; `where` names the array in messages. */
function parseKeyedRows(v: unknown, where: string): BackflowRow[] {
  if (!Array.isArray(v)) throw new Refusal(400, `${where} must be an array`);
  for (let i = 0; i < v.length; i++) {
    const row: unknown = v[i];
    if (!isPlainObject(row)) throw new Refusal(400, `${where}[${i}] must be an object { key, data }`);
    if (!isNonEmptyString(row.key)) throw new Refusal(400, `${where}[${i}].key must be a non-empty string`);
    if (!isPlainObject(row.data)) throw new Refusal(400, `${where}[${i}].data must be a JSON object`);
  }
  return v as BackflowRow[];
}

function parseStrings(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) throw new Refusal(400, `${where} must be an array of strings`);
  for (let i = 0; i < v.length; i++) {
    if (!isNonEmptyString(v[i])) throw new Refusal(400, `${where}[${i}] must be a non-empty string`);
  }
  return v as string[];
}

/**
 * `{ version, rows, deletes }`, all three required. A key twice in `rows`, or both in `rows`
 * and `deletes`, is refused: the order of the two would be a guess.
 */
function parseChunk(body: unknown): ChunkBody {
  if (!isPlainObject(body)) throw new Refusal(400, 'the body must be a JSON object { version, rows, deletes }');
  for (const field of ['version', 'rows', 'deletes']) {
    if (!(field in body)) throw new Refusal(400, `missing field "${field}" (the body is { version, rows, deletes })`);
  }
  if (!isNonEmptyString(body.version)) throw new Refusal(400, 'version must be a non-empty string');
  const rows = parseKeyedRows(body.rows, 'rows');
  const deletes = parseStrings(body.deletes, 'deletes');
  const seen = new Set<string>();
  for (let i = 0; i < rows.length; i++) {
    if (seen.has(rows[i].key)) throw new Refusal(400, `rows[${i}].key repeats an earlier row's key in this chunk`);
    seen.add(rows[i].key);
  }
  for (let i = 0; i < deletes.length; i++) {
    if (seen.has(deletes[i])) throw new Refusal(400, `deletes[${i}] is also a key of rows in this chunk`);
  }
  return { version: body.version, rows, deletes };
}

function parseCatalog(body: unknown): CatalogBody {
  if (!isPlainObject(body)) throw new Refusal(400, 'the body must be a JSON object { entries, retired }');
  for (const field of ['entries', 'retired']) {
    if (!(field in body)) throw new Refusal(400, `missing field "${field}" (the body is { entries, retired })`);
  }
  if (!Array.isArray(body.entries)) throw new Refusal(400, 'entries must be an array');
  const entries: OpenCatalogEntry[] = [];
  const codes = new Set<string>();
  body.entries.forEach((e: unknown, i: number) => {
    const at = `entries[${i}]`;
    if (!isPlainObject(e)) throw new Refusal(400, `${at} must be an object { code, name, openType, fields }`);
    for (const k of ['code', 'name', 'openType'] as const) {
      if (!isNonEmptyString(e[k])) throw new Refusal(400, `${at}.${k} must be a non-empty string`);
    }
    if (!Array.isArray(e.fields)) throw new Refusal(400, `${at}.fields must be an array`);
    e.fields.forEach((f: unknown, j: number) => {
      if (!isPlainObject(f) || !isNonEmptyString(f.name) || typeof f.label !== 'string' || !isNonEmptyString(f.openType)) {
        throw new Refusal(400, `${at}.fields[${j}] must be { name, label, openType } (strings; name and openType non-empty)`);
      }
    });
    if (codes.has(e.code as string)) throw new Refusal(400, `${at}.code repeats an earlier entry`);
    codes.add(e.code as string);
    entries.push(e as unknown as OpenCatalogEntry);
  });
  const retired = parseStrings(body.retired, 'retired');
  retired.forEach((code, i) => {
    if (codes.has(code)) throw new Refusal(400, `retired[${i}] is also in entries`);
  });
  return { entries, retired };
}

function parseBackflowSeed(body: unknown): BackflowRow[] {
  if (!isPlainObject(body)) throw new Refusal(400, 'the body must be a JSON object { rows: [{ key, data }] }');
  return parseKeyedRows(body.rows, 'rows').map((r) => ({ key: r.key, data: r.data }));
}

function encodeCursor(dataset: string, index: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${dataset}:${index}`).toString('base64url');
}

/** The index a cursor points at; 400 for anything not made by encodeCursor for this dataset and still in range. */
function decodeCursor(cursor: string, dataset: string, length: number): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const prefix = `${CURSOR_PREFIX}${dataset}:`;
  const index = text.startsWith(prefix) ? text.slice(prefix.length) : '';
  if (!/^\d+$/.test(index) || Number(index) > length) throw new Refusal(400, 'invalid cursor');
  return Number(index);
}

/** failRate's draw: uniform in [0, 1) from sha256(seed, key), so it is the same in every run. */
function rateFails(seed: number, key: string, rate: number): boolean {
  const h = createHash('sha256').update(`${seed}\u0000${key}`).digest();
  return h.readUIntBE(0, 6) / 2 ** 48 < rate;
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...reply.headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}
