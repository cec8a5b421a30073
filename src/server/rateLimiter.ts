/**
 * Per-agency rate limit shared by every gateway process on the same database (table
 * rate_window). Design and trade-offs: src/server/RATE_LIMIT.md.
 *
 * Fixed windows aligned to the epoch. Far below the limit a request is counted locally and
 * the counts of all agencies are flushed in one statement every flushIntervalMs (sooner when
 * one process runs 5% of the limit ahead of the database); near the limit every request is
 * decided by an atomic conditional claim in the database (batched per agency and process),
 * so the decision there is exact across processes. If the database cannot be reached or does
 * not answer in time, the limiter fails open and warns.
 */
import type { Logger } from 'pino';
import type { Sql } from '../db/createSql';

export type RateDecision =
  | { allowed: true }
  | { allowed: false; retryAfterSeconds: number; limit: number; windowSeconds: number };

export interface RateLimiter {
  /** Counts one request of `agency` if it is allowed; a refused request is not counted. */
  check(agency: string): Promise<RateDecision>;
  /** Stops the flush timer and writes the pending counts. Call once the server stopped taking requests. */
  close(): Promise<void>;
}

export interface RateLimiterOptions {
  /** Requests per agency and window, across all processes; 0 = no limit (no database work). */
  limit: number;
  windowSeconds: number;
  log: Logger;
  /** Background flush period of the counts taken far below the limit (default 100 ms). */
  flushIntervalMs?: number;
  /** Clock in epoch milliseconds (tests). */
  now?: () => number;
  /**
   * Longest a request waits for the database near the limit before it is let through
   * (fail open; default 2000 ms). The statement itself is not cancelled: if it commits
   * later its count stands.
   */
  dbTimeoutMs?: number;
}

/** Below this limit every request is decided by the database (exact). */
const EXACT_ALWAYS_UP_TO = 50;
/** From this share of the limit on, requests are decided by the database. */
const NEAR_SHARE = 0.8;
/** Windows older than this are deleted ... */
const KEEP_WINDOWS_MS = 24 * 3600 * 1000;
/** ... at most this often per process. */
const CLEANUP_EVERY_MS = 60 * 1000;
/** After a database failure, requests near the limit fail open at once for this long. */
const DEGRADED_MS = 1000;
/** At most one "database unreachable" warning per this period (the rest are counted). */
const WARN_EVERY_MS = 10 * 1000;

const ALLOWED: RateDecision = Object.freeze({ allowed: true as const });
/** One settled promise reused for every allowed request of the fast path. */
const ALLOWED_P: Promise<RateDecision> = Promise.resolve(ALLOWED);

interface AgencyState {
  /** Start of the window this state counts, epoch ms. */
  windowStart: number;
  /** Last count of the window seen in the database (a lower bound of the true count). */
  known: number;
  /** Requests allowed locally and not yet handed to a flush. */
  pending: number;
  /** Requests of a flush that is running (not yet reflected in `known`). */
  inflight: number;
  /** Near the limit: requests waiting for the database's decision (one claim at a time). */
  queue: Waiter[];
  claiming: boolean;
}

interface Waiter {
  resolve: (d: RateDecision) => void;
  /** The request was let through after dbTimeoutMs already (fail open). */
  late: boolean;
}

export function createRateLimiter(sql: Sql, opts: RateLimiterOptions): RateLimiter {
  const { limit, windowSeconds, log } = opts;
  if (limit === 0) {
    return { check: () => ALLOWED_P, close: async () => {} };
  }
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`rate limit must be a non-negative integer, got ${limit}`);
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1) throw new Error(`rate window must be a positive whole number of seconds, got ${windowSeconds}`);

  const now = opts.now ?? Date.now;
  const flushIntervalMs = opts.flushIntervalMs ?? 100;
  const dbTimeoutMs = opts.dbTimeoutMs ?? 2000;
  const windowMs = windowSeconds * 1000;
  /** From this local estimate on, requests go to the database. */
  const nearAt = limit <= EXACT_ALWAYS_UP_TO ? 0 : Math.floor(limit * NEAR_SHARE);
  /**
   * Far below the limit, at most this many requests of an agency may be let through by one
   * process without being written (a quarter of the room between the near threshold and the
   * limit, i.e. 5% of the limit): reaching it starts a flush at once, and further requests
   * wait for that flush. So a process never runs far ahead of the database, however bursty
   * its traffic or slow its timer.
   */
  const earlyFlushAt = Math.max(1, Math.floor((limit - nearAt) / 4));

  const states = new Map<string, AgencyState>();
  /** Pending counts of windows that ended before they were flushed: "agency\0windowStart" → n. */
  const leftovers = new Map<string, number>();

  let degradedUntil = 0;
  let lastWarn = -Infinity;
  let suppressedWarnings = 0;
  let lastCleanup = now();
  let closed = false;

  function warnDb(err: unknown, what: string): void {
    degradedUntil = now() + DEGRADED_MS;
    const t = now();
    if (t - lastWarn < WARN_EVERY_MS) {
      suppressedWarnings++;
      return;
    }
    lastWarn = t;
    const suppressed = suppressedWarnings;
    suppressedWarnings = 0;
    log.warn(
      { err, suppressed },
      `rate limiter: ${what}; failing open (requests are allowed and counted locally until the database answers)`,
    );
  }

  /** The state of `agency` for the window containing `t`, rolled over if its window ended. */
  function stateAt(agency: string, t: number): AgencyState {
    const windowStart = Math.floor(t / windowMs) * windowMs;
    let s = states.get(agency);
    if (!s) {
      s = { windowStart, known: 0, pending: 0, inflight: 0, queue: [], claiming: false };
      states.set(agency, s);
    } else if (s.windowStart !== windowStart) {
      if (s.pending > 0) {
        const key = `${agency}\0${s.windowStart}`;
        leftovers.set(key, (leftovers.get(key) ?? 0) + s.pending);
      }
      // A flush still running for the old window settles against the old window (ignored).
      s.windowStart = windowStart;
      s.known = 0;
      s.pending = 0;
      s.inflight = 0;
    }
    return s;
  }

  function refusal(windowStart: number, t: number): RateDecision {
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((windowStart + windowMs - t) / 1000)),
      limit,
      windowSeconds,
    };
  }

  // ---- background flush: one statement for all agencies, one flush at a time ----

  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;

  /** Flushes what is pending now; resolves once it is written (never rejects). */
  function flush(): Promise<void> {
    if (!running) {
      running = doFlush().finally(() => {
        running = null;
      });
      return running;
    }
    // Counts taken after the running flush began go with the next one.
    queued ??= running.then(() => {
      queued = null;
      return flush();
    });
    return queued;
  }

  async function doFlush(): Promise<void> {
    const taken: { s: AgencyState | null; agency: string; windowStart: number; n: number }[] = [];
    for (const [agency, s] of states) {
      if (s.pending === 0) continue;
      taken.push({ s, agency, windowStart: s.windowStart, n: s.pending });
      s.inflight += s.pending;
      s.pending = 0;
    }
    for (const [key, n] of leftovers) {
      const cut = key.lastIndexOf('\0');
      taken.push({ s: null, agency: key.slice(0, cut), windowStart: Number(key.slice(cut + 1)), n });
    }
    leftovers.clear();
    if (taken.length === 0) return;
    // One row per (agency, window): a clock stepping back can make a leftover meet a current count.
    const rowsOut = new Map<string, { agency: string; ws: number; n: number }>();
    for (const it of taken) {
      const key = `${it.agency}\0${it.windowStart}`;
      const row = rowsOut.get(key);
      if (row) row.n += it.n;
      else rowsOut.set(key, { agency: it.agency, ws: it.windowStart / 1000, n: it.n });
    }
    const agencies: string[] = [];
    const starts: number[] = [];
    const counts: number[] = [];
    for (const r of rowsOut.values()) {
      agencies.push(r.agency);
      starts.push(r.ws);
      counts.push(r.n);
    }

    try {
      const rows = await sql<{ agency: string; ws: number; count: number }[]>`
        INSERT INTO rate_window AS r (agency, window_start, count)
        SELECT t.agency, to_timestamp(t.ws), t.n
          FROM unnest(${agencies}::text[], ${starts}::float8[], ${counts}::int[]) AS t(agency, ws, n)
         ORDER BY t.agency, t.ws -- rows locked in one order by every process: no deadlock
        ON CONFLICT (agency, window_start) DO UPDATE SET count = r.count + EXCLUDED.count
        RETURNING r.agency, extract(epoch FROM r.window_start)::bigint AS ws, r.count`;
      for (const it of taken) {
        if (it.s && it.s.windowStart === it.windowStart) it.s.inflight -= it.n;
      }
      for (const row of rows) {
        const s = states.get(row.agency);
        if (s && s.windowStart === Number(row.ws) * 1000 && row.count > s.known) s.known = row.count;
      }
    } catch (err) {
      // Give the counts of the current window back so they are written once the database
      // answers (counts of ended windows no longer decide anything and are dropped).
      for (const it of taken) {
        if (it.s && it.s.windowStart === it.windowStart) {
          it.s.inflight -= it.n;
          it.s.pending += it.n;
        }
      }
      warnDb(err, 'flushing rate counts failed');
    }
  }

  function maybeCleanup(): void {
    const t = now();
    if (t - lastCleanup < CLEANUP_EVERY_MS) return;
    lastCleanup = t;
    const current = Math.floor(t / windowMs) * windowMs;
    for (const [agency, s] of states) {
      if (s.windowStart < current && s.pending === 0 && s.inflight === 0 && !s.claiming) states.delete(agency);
    }
    const before = (t - KEEP_WINDOWS_MS) / 1000;
    sql`DELETE FROM rate_window WHERE window_start < to_timestamp(${before}::float8)`.then(
      () => {},
      (err) => log.debug({ err }, 'rate limiter: deleting old windows failed'),
    );
  }

  const timer = setInterval(() => {
    void flush();
    maybeCleanup();
  }, flushIntervalMs);
  timer.unref();

  // ---- near the limit: atomic conditional claims, exact across processes ----

  /**
   * Requests that cannot be decided locally: this process ran `earlyFlushAt` requests ahead of
   * the database (wait for the flush, then decide again), or the agency is near the limit
   * (write what is pending, then the database decides).
   */
  async function exact(agency: string): Promise<RateDecision> {
    let t: number;
    let s: AgencyState;
    for (;;) {
      t = now();
      s = stateAt(agency, t);
      if (s.known >= limit) return refusal(s.windowStart, t);
      const unsynced = s.pending + s.inflight;
      if (s.known + unsynced < nearAt) {
        if (unsynced < earlyFlushAt) return countLocally(s);
        // Far from the limit, but ahead of the database: wait for the flush below.
      } else if (unsynced === 0) {
        break; // near the limit, and the database holds every request this process let through
      }
      if (t < degradedUntil) return failOpen(agency);
      // The running flush, if any, settles this process's unwritten counts; else start one.
      const flushed = await withTimeout((running ?? flush()).then(() => true));
      if (!flushed || now() < degradedUntil) return failOpen(agency); // flush hung or failed (warned)
    }
    if (t < degradedUntil) return failOpen(agency);

    const waiter: Waiter = { resolve: undefined!, late: false };
    const decided = new Promise<RateDecision>((resolve) => {
      waiter.resolve = resolve;
    });
    s.queue.push(waiter);
    if (!s.claiming) void claimQueued(agency, s);
    const answer = await withTimeout(decided);
    if (answer === undefined) {
      waiter.late = true;
      warnDb(new Error(`no answer within ${dbTimeoutMs} ms`), 'rate check timed out');
      return ALLOWED;
    }
    return answer;
  }

  /**
   * Decides the queued requests of one agency, one statement at a time: each statement claims
   * as many of the remaining slots of the window as requests are waiting, atomically under the
   * row lock. Requests arriving meanwhile wait for the next statement, so a burst costs one
   * statement per database round trip and process, not one per request.
   */
  async function claimQueued(agency: string, s: AgencyState): Promise<void> {
    s.claiming = true;
    try {
      while (s.queue.length > 0) {
        const batch = s.queue;
        s.queue = [];
        const t = now();
        stateAt(agency, t);
        const windowStart = s.windowStart;
        if (s.known >= limit) {
          for (const w of batch) settle(w, refusal(windowStart, t), s, windowStart);
          continue;
        }
        let claimed: { granted: number; count: number };
        try {
          claimed = await claim(agency, windowStart, batch.length);
        } catch (err) {
          warnDb(err, 'rate check failed');
          // Let them through (those already let through on timeout too) and count them
          // locally: written when the database answers.
          if (s.windowStart === windowStart) s.pending += batch.length;
          for (const w of batch) w.resolve(ALLOWED);
          continue;
        }
        if (s.windowStart === windowStart) {
          const seen = claimed.granted < batch.length ? Math.max(claimed.count, limit) : claimed.count;
          if (seen > s.known) s.known = seen;
        }
        const later = now();
        batch.forEach((w, i) => settle(w, i < claimed.granted ? ALLOWED : refusal(windowStart, later), s, windowStart));
      }
    } finally {
      s.claiming = false;
    }
  }

  function settle(w: Waiter, d: RateDecision, s: AgencyState, windowStart: number): void {
    // A request already let through on timeout that the database then refused went through
    // uncounted: count it, so the table holds every request that was served.
    if (w.late && !d.allowed && s.windowStart === windowStart) s.pending++;
    w.resolve(d);
  }

  /**
   * Adds up to `n` requests to the window's count without passing the limit, atomically.
   * Returns how many were granted and the count afterwards.
   */
  async function claim(agency: string, windowStart: number, n: number): Promise<{ granted: number; count: number }> {
    const ws = windowStart / 1000;
    for (;;) {
      // The row lock is taken first (FOR UPDATE, waiting for concurrent claims), so `before`
      // and the update both see the latest committed count.
      const [row] = await sql<{ before: number | null; after: number | null }[]>`
        WITH old AS (
          SELECT count FROM rate_window WHERE agency = ${agency} AND window_start = to_timestamp(${ws}::float8) FOR UPDATE
        ), up AS (
          UPDATE rate_window r SET count = r.count + LEAST(${n}::int, ${limit}::int - r.count)
            FROM old
           WHERE r.agency = ${agency} AND r.window_start = to_timestamp(${ws}::float8) AND r.count < ${limit}::int
          RETURNING r.count
        )
        SELECT (SELECT count FROM old) AS before, (SELECT count FROM up) AS after`;
      if (row.before !== null) {
        return row.after === null ? { granted: 0, count: row.before } : { granted: row.after - row.before, count: row.after };
      }
      // First request of the window: no row yet.
      const inserted = await sql<{ count: number }[]>`
        INSERT INTO rate_window (agency, window_start, count)
        VALUES (${agency}, to_timestamp(${ws}::float8), LEAST(${n}::int, ${limit}::int))
        ON CONFLICT (agency, window_start) DO NOTHING
        RETURNING count`;
      if (inserted.length > 0) return { granted: inserted[0].count, count: inserted[0].count };
      // Another process inserted it meanwhile: claim against its row.
    }
  }

  /** Far below the limit: count the request locally; a flush starts once `earlyFlushAt` are unwritten. */
  function countLocally(s: AgencyState): RateDecision {
    if (++s.pending + s.inflight >= earlyFlushAt) void flush();
    return ALLOWED;
  }

  function failOpen(agency: string): RateDecision {
    stateAt(agency, now()).pending++;
    return ALLOWED;
  }

  /** `p`'s value, or undefined if it takes longer than dbTimeoutMs. */
  function withTimeout<T>(p: Promise<T>): Promise<T | undefined> {
    if (!(dbTimeoutMs > 0)) return p;
    let timeout: NodeJS.Timeout | undefined;
    return Promise.race([
      p,
      new Promise<undefined>((resolve) => {
        timeout = setTimeout(resolve, dbTimeoutMs, undefined);
        timeout.unref();
      }),
    ]).finally(() => clearTimeout(timeout));
  }

  return {
    check(agency: string): Promise<RateDecision> {
      const t = now();
      const s = stateAt(agency, t);
      // `known` only grows within a window, so reaching the limit is final until it ends.
      if (s.known >= limit) return Promise.resolve(refusal(s.windowStart, t));
      if (s.known + s.pending + s.inflight < nearAt && s.pending + s.inflight < earlyFlushAt) {
        countLocally(s);
        return ALLOWED_P;
      }
      return exact(agency);
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await flush();
      if (running) await running;
    },
  };
}
