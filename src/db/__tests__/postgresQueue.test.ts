/**
 * postgres.js 3.4.9 is patched (patches/postgres+3.4.9.patch, applied by `npm ci` through
 * patch-package): its connection queues kept every shifted-out slot while they never ran empty,
 * so the pool's `busy` queue grew by one slot per pipelined query under sustained load and every
 * query scanned all of it (the gateway slowed down the longer it ran: Q1 from 5,800 to 4,800 req/s
 * within a minute), and a reserved connection whose backend went away broke the pool (below).
 * These tests fail when the patch is not applied.
 */
import path from 'node:path';
import { eventually } from '../../__testUtils__/eventually';
import { useTestDatabase } from '../../__testUtils__/testDatabase';
import { createSql } from '../createSql';

type Queue<T> = { readonly length: number; push(x: T): T; shift(): T; remove(x: T): T | null };
// The module postgres.js's pool uses: cjs/src/queue.js next to the package's CommonJS entry.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Queue = require(path.join(path.dirname(require.resolve('postgres')), 'queue.js')) as <T>(initial?: T[]) => Queue<T>;

/** Runs `fn` and returns the most array slots any Array#indexOf call examined meanwhile. */
function widestScan(fn: () => void): number {
  const original = Array.prototype.indexOf;
  let widest = 0;
  Array.prototype.indexOf = function (this: unknown[], x: unknown, from?: number) {
    widest = Math.max(widest, this.length - (from ?? 0));
    return original.call(this, x, from);
  };
  try {
    fn();
  } finally {
    Array.prototype.indexOf = original;
  }
  return widest;
}

describe('postgres.js connection queue (patched)', () => {
  it('stays small when it never runs empty: the pool cycling 10 busy connections for 100,000 queries', () => {
    const busy = Queue<{ id: number }>();
    const connections = Array.from({ length: 10 }, (_, id) => ({ id }));
    for (const c of connections) busy.push(c);
    let found = 0;
    const widest = widestScan(() => {
      for (let i = 0; i < 100_000; i++) {
        // index.js: go(busy.shift(), query) then move(c, busy): remove from its queue, push back.
        const c = busy.shift();
        if (busy.remove(c) !== null) found++;
        busy.push(c);
      }
    });
    expect(found).toBe(0);
    expect(busy.length).toBe(10);
    expect(Array.from({ length: 10 }, () => busy.shift().id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Unpatched, the last scans covered all 100,000 shifted slots.
    expect(widest).toBeLessThan(2 * 1024 + 10);
  });

  it('keeps first-in first-out order and removes from the middle, like an array (random operations; it never runs empty, so shifted slots are dropped many times)', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const q = Queue<number>();
    const model: number[] = [];
    let next = 0;
    const wrong: string[] = [];
    for (let i = 0; i < 50_000 && wrong.length === 0; i++) {
      const r = random();
      if (r < 0.45 || model.length < 20) {
        q.push(next);
        model.push(next++);
      } else if (r < 0.9) {
        const [got, want] = [q.shift(), model.shift()];
        if (got !== want) wrong.push(`step ${i}: shift gave ${got}, expected ${want}`);
      } else {
        const x = model[Math.floor(random() * model.length)];
        model.splice(model.indexOf(x), 1);
        if (q.remove(x) !== x || q.remove(x) !== null) wrong.push(`step ${i}: remove(${x}) wrong`);
      }
      if (q.length !== model.length) wrong.push(`step ${i}: length ${q.length}, expected ${model.length}`);
    }
    expect(wrong).toEqual([]);
    while (model.length > 0) expect(q.shift()).toBe(model.shift());
    expect(q.length).toBe(0);
  });
});

/**
 * The same patch makes a connection whose backend goes away safe to have reserved
 * (porsager/postgres#1199, #1208): unpatched, the queries in flight fail, but releasing the
 * reserved connection put it, without a socket, into the pool's idle list; the next query on it
 * threw from a timer (an uncaught TypeError that ends the process), and a reservation on the
 * reconnected connection failed with the dead backend's stale error.
 */
describe('postgres.js reserved connection whose backend is terminated (patched)', () => {
  const db = useTestDatabase();

  it('fails what was in flight, refuses further queries on the handle, and the pool goes on with a new connection', async () => {
    const sql = createSql(db.url, { max: 1 });
    try {
      for (let round = 0; round < 3; round++) {
        const reserved = await sql.reserve();
        const [{ pid }] = await reserved<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
        // A statement running when the backend goes (its reply then holds the 57P01 error).
        const running = reserved`SELECT pg_sleep(30)`.then(() => 'done', (err: Error) => err.message);
        await eventually(async () => {
          const [{ n }] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ${pid} AND state = 'active'`;
          return n === 1;
        });
        await db.sql`SELECT pg_terminate_backend(${pid})`;
        expect(await running).toMatch(/terminating connection|ECONNRESET|CONNECTION_CLOSED|write CONNECTION_CLOSED/);
        await expect(reserved`SELECT 1`).rejects.toThrow();
        reserved.release();
        // The pool's one connection is a new backend, for a query and for a reservation.
        const [{ pid: next }] = await sql<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
        expect(next).not.toBe(pid);
        const again = await sql.reserve();
        expect((await again<{ one: number }[]>`SELECT 1 AS one`)[0].one).toBe(1);
        again.release();
      }
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it('hands a reservation that waited for a connection the one made in place of a terminated one (porsager/postgres#1195)', async () => {
    const sql = createSql(db.url, { max: 1 });
    try {
      const holder = await sql.reserve();
      const [{ pid }] = await holder<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
      // The pool's only connection is reserved: the next reservation waits in the queue.
      let waited = false;
      const next = sql.reserve().then((r) => ((waited = true), r));
      await new Promise((r) => setTimeout(r, 100));
      expect(waited).toBe(false);
      await db.sql`SELECT pg_terminate_backend(${pid})`;
      // (The 5 s timer is cleared once the race is over: a pending one kept jest's worker alive.)
      let timer: NodeJS.Timeout | undefined;
      const reserved = await Promise.race([next, new Promise<null>((r) => (timer = setTimeout(() => r(null), 5000)))]);
      clearTimeout(timer);
      expect(reserved).not.toBeNull();
      const [{ pid: other }] = await reserved!<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
      expect(other).not.toBe(pid);
      holder.release();
      reserved!.release();
      expect((await sql<{ one: number }[]>`SELECT 1 AS one`)[0].one).toBe(1);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});
