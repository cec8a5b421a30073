import { createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { createSql, type Sql } from '../../db/createSql';
import { createLogger } from '../createLogger';
import { createRateLimiter, type RateDecision, type RateLimiter } from '../rateLimiter';
import { createTestDatabase, type TestDatabase } from '../../__testUtils__/testDatabase';

/** pino logger whose lines are kept for assertions. */
function capturingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const dest = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { log: createLogger('debug', dest), lines, warnings: () => lines.filter((l) => l.level === 40) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('rate limiter (shared through rate_window)', () => {
  let db: TestDatabase & { drop(): Promise<void> };
  /** A second pool on the same database: a second gateway process. */
  let sql2: Sql;
  const limiters: RateLimiter[] = [];
  const { log, warnings } = capturingLogger();

  beforeAll(async () => {
    db = await createTestDatabase();
    sql2 = createSql(db.url, { max: 4 });
  });
  afterEach(async () => {
    await Promise.all(limiters.splice(0).map((l) => l.close()));
  });
  afterAll(async () => {
    await sql2?.end({ timeout: 5 });
    await db?.drop();
  });

  /**
   * The limiters' clock unless a test sets its own: 1 s into a 60 s window when the test starts,
   * then running with real time, shared by every limiter ("process") of the test. The exact
   * counts below hold within one window: on the real clock, a test running across the end of a
   * minute sees its count start again (a clock started 30 ms before a window's end lets 105 of 150
   * through where the limit is 100; an in-band run of the whole suite once let 140 through). The
   * database's time to answer is raised from 2 s to 30 s too: past it a limiter fails open by
   * design (tested below with a database that does not answer), and a slow machine must not turn
   * that into a wrong count.
   */
  let testClock: () => number;
  beforeEach(() => {
    const t0 = Date.now();
    const start = Math.floor(t0 / 60_000) * 60_000 + 1_000;
    testClock = () => start + (Date.now() - t0);
  });

  function limiter(sql: Sql, opts: Partial<Parameters<typeof createRateLimiter>[1]> & { limit: number }): RateLimiter {
    const l = createRateLimiter(sql, { windowSeconds: 60, log, now: testClock, dbTimeoutMs: 30_000, ...opts });
    limiters.push(l);
    return l;
  }

  async function stored(agency: string): Promise<number> {
    const [row] = await db.sql<{ n: number }[]>`SELECT coalesce(sum(count), 0)::int AS n FROM rate_window WHERE agency = ${agency}`;
    return row.n;
  }

  function refusals(ds: RateDecision[]) {
    return ds.filter((d): d is Extract<RateDecision, { allowed: false }> => !d.allowed);
  }

  it('two processes, limit 20: of 30 alternating requests exactly 20 are allowed, the rest refused with Retry-After', async () => {
    const a = limiter(db.sql, { limit: 20 });
    const b = limiter(sql2, { limit: 20 });
    const decisions: RateDecision[] = [];
    for (let i = 0; i < 30; i++) decisions.push(await (i % 2 === 0 ? a : b).check('agency-alt'));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(20);
    expect(decisions.slice(0, 20).every((d) => d.allowed)).toBe(true);
    const refused = refusals(decisions);
    expect(refused).toHaveLength(10);
    for (const r of refused) {
      expect(r.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(r.retryAfterSeconds).toBeLessThanOrEqual(60);
      expect(r).toMatchObject({ limit: 20, windowSeconds: 60 });
    }
    expect(await stored('agency-alt')).toBe(20); // refused requests are not counted
  });

  it('two processes, limit 25: of 60 concurrent requests exactly 25 are allowed', async () => {
    const a = limiter(db.sql, { limit: 25 });
    const b = limiter(sql2, { limit: 25 });
    const decisions = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).check('agency-conc')));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(25);
    expect(await stored('agency-conc')).toBe(25);
  });

  it('one process, limit 100 (local counting far from the limit, then exact): exactly 100 of 150 concurrent', async () => {
    const a = limiter(db.sql, { limit: 100 });
    const decisions = await Promise.all(Array.from({ length: 150 }, () => a.check('agency-big')));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(100);
    await a.close();
    expect(await stored('agency-big')).toBe(100);
  });

  it('two processes, limit 100: never refuses below the limit, and records exactly the requests it allowed', async () => {
    const a = limiter(db.sql, { limit: 100, flushIntervalMs: 20 });
    const b = limiter(sql2, { limit: 100, flushIntervalMs: 20 });
    const decisions: RateDecision[] = [];
    for (let i = 0; i < 200; i++) decisions.push(await (i % 2 === 0 ? a : b).check('agency-mixed'));
    const allowed = decisions.filter((d) => d.allowed).length;
    // Bound: limit + processes × earlyFlushAt (limit 100: near at 80, at most 5 unwritten per process).
    expect(allowed).toBeGreaterThanOrEqual(100);
    expect(allowed).toBeLessThanOrEqual(110);
    expect(decisions.slice(0, 100).every((d) => d.allowed)).toBe(true);
    await Promise.all([a.close(), b.close()]);
    expect(await stored('agency-mixed')).toBe(allowed);
  });

  it('four processes, limit 200, 800 concurrent requests: at least the limit, overshoot within processes × earlyFlushAt', async () => {
    const pools = [db.sql, sql2, createSql(db.url, { max: 4 }), createSql(db.url, { max: 4 })];
    try {
      const ls = pools.map((p) => limiter(p, { limit: 200 }));
      const decisions = await Promise.all(Array.from({ length: 800 }, (_, i) => ls[i % 4].check('agency-four')));
      const allowed = decisions.filter((d) => d.allowed).length;
      expect(allowed).toBeGreaterThanOrEqual(200);
      expect(allowed).toBeLessThanOrEqual(200 + 4 * 10);
      await Promise.all(ls.map((l) => l.close()));
      expect(await stored('agency-four')).toBe(allowed);
    } finally {
      await Promise.all(pools.slice(2).map((p) => p.end({ timeout: 5 })));
    }
  });

  it('a new window starts from zero; Retry-After is the time left in the window', async () => {
    const windowStart = Math.floor(Date.now() / 60_000) * 60_000;
    let clock = windowStart + 15_500;
    const a = limiter(db.sql, { limit: 3, now: () => clock });
    const b = limiter(sql2, { limit: 3, now: () => clock });
    expect((await Promise.all([a.check('agency-win'), b.check('agency-win'), a.check('agency-win')])).every((d) => d.allowed)).toBe(true);
    expect(await b.check('agency-win')).toEqual({ allowed: false, retryAfterSeconds: 45, limit: 3, windowSeconds: 60 });
    clock = windowStart + 59_999;
    expect(await a.check('agency-win')).toEqual({ allowed: false, retryAfterSeconds: 1, limit: 3, windowSeconds: 60 });
    clock = windowStart + 60_000;
    expect(await a.check('agency-win')).toEqual({ allowed: true });
    expect(await b.check('agency-win')).toEqual({ allowed: true });
    const rows = await db.sql<{ ws: number; count: number }[]>`
      SELECT (extract(epoch FROM window_start) * 1000)::bigint AS ws, count FROM rate_window WHERE agency = 'agency-win' ORDER BY 1`;
    expect(rows.map((r) => [Number(r.ws), r.count])).toEqual([
      [windowStart, 3],
      [windowStart + 60_000, 2],
    ]);
  });

  it('limit 0 never refuses and touches no database', async () => {
    let statements = 0;
    const counting = createSql(db.url, { max: 1, onQuery: () => statements++ });
    try {
      const l = limiter(counting, { limit: 0, flushIntervalMs: 5 });
      for (let i = 0; i < 2000; i++) expect(await l.check('agency-free')).toEqual({ allowed: true });
      await sleep(30);
      await l.close();
      expect(statements).toBe(0);
    } finally {
      await counting.end({ timeout: 5 });
    }
  });

  it('refusal is per agency', async () => {
    const a = limiter(db.sql, { limit: 2 });
    const b = limiter(sql2, { limit: 2 });
    expect((await a.check('agency-x')).allowed).toBe(true);
    expect((await b.check('agency-x')).allowed).toBe(true);
    expect((await a.check('agency-x')).allowed).toBe(false);
    expect((await b.check('agency-x')).allowed).toBe(false);
    expect((await a.check('agency-y')).allowed).toBe(true);
    expect((await b.check('agency-y')).allowed).toBe(true);
  });

  it('far from the limit, counts are kept locally and reach the table after the flush interval, in one statement', async () => {
    const inserts: string[] = [];
    const counting = createSql(db.url, { max: 2, onQuery: (q) => void (/INSERT INTO rate_window/.test(q) && inserts.push(q)) });
    try {
      const l = limiter(counting, { limit: 1000, flushIntervalMs: 50 });
      for (const agency of ['far-1', 'far-2', 'far-3']) {
        for (let i = 0; i < 5; i++) expect(await l.check(agency)).toEqual({ allowed: true });
      }
      expect(l.check('far-1')).toBe(l.check('far-2')); // fast path: one settled promise, nothing allocated
      expect(inserts).toHaveLength(0); // nothing sent per request
      expect(await stored('far-1')).toBe(0);
      await sleep(300);
      expect([await stored('far-1'), await stored('far-2'), await stored('far-3')]).toEqual([6, 6, 5]);
      expect(inserts).toHaveLength(1); // one statement for all agencies
      await l.close();
    } finally {
      await counting.end({ timeout: 5 });
    }
  });

  it('close() writes what is still pending', async () => {
    const l = createRateLimiter(db.sql, { limit: 1000, windowSeconds: 60, log, flushIntervalMs: 60_000 });
    for (let i = 0; i < 7; i++) await l.check('agency-close');
    expect(await stored('agency-close')).toBe(0);
    await l.close();
    expect(await stored('agency-close')).toBe(7);
  });

  it('deletes windows older than a day (at most once a minute)', async () => {
    const old = new Date(Date.now() - 2 * 86_400_000);
    await db.sql`INSERT INTO rate_window (agency, window_start, count) VALUES ('agency-old', ${old.toISOString()}::timestamptz, 5)`;
    let clock = Date.now();
    const l = limiter(db.sql, { limit: 1000, flushIntervalMs: 10, now: () => clock });
    await sleep(50);
    expect(await stored('agency-old')).toBe(5); // not yet: less than a minute since start
    clock += 61_000;
    await sleep(100);
    expect(await stored('agency-old')).toBe(0);
    await l.close();
  });

  describe('database unreachable: fails open and warns', () => {
    it('connection refused', async () => {
      const before = warnings().length;
      const dead = createSql('postgres://postgres@127.0.0.1:1/none', { max: 1 });
      try {
        const l = createRateLimiter(dead, { limit: 5, windowSeconds: 60, log, flushIntervalMs: 20 });
        const decisions = [];
        for (let i = 0; i < 20; i++) decisions.push(await l.check('agency-dead'));
        expect(decisions.every((d) => d.allowed)).toBe(true);
        await l.close();
        const w = warnings().slice(before);
        expect(w.length).toBeGreaterThanOrEqual(1);
        expect(w.length).toBeLessThanOrEqual(2); // throttled
        expect(w[0].msg).toMatch(/failing open/);
      } finally {
        await dead.end({ timeout: 0 });
      }
    });

    it('a database that does not answer: the request is let through after dbTimeoutMs', async () => {
      const sockets: Socket[] = [];
      const server: Server = createServer((s) => void sockets.push(s)); // accepts, never answers
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      const silent = createSql(`postgres://postgres@127.0.0.1:${port}/none`, { max: 1 });
      let l: RateLimiter | undefined;
      try {
        l = createRateLimiter(silent, { limit: 5, windowSeconds: 60, log, dbTimeoutMs: 150, flushIntervalMs: 60_000 });
        const t0 = Date.now();
        expect(await l.check('agency-silent')).toEqual({ allowed: true });
        expect(Date.now() - t0).toBeLessThan(1000);
        expect(await l.check('agency-silent')).toEqual({ allowed: true }); // degraded: no wait
        expect(Date.now() - t0).toBeLessThan(1000);
      } finally {
        server.close();
        for (const s of sockets) s.destroy();
        await l?.close(); // the pending count cannot be written: warns and returns
        await silent.end({ timeout: 0 }).catch(() => {});
      }
    });
  });
});
