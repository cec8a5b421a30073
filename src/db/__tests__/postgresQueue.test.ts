/**
 * postgres.js 3.4.9 is patched (patches/postgres+3.4.9.patch, applied by `npm ci` through
 * patch-package): its connection queues kept every shifted-out slot while they never ran empty,
 * so the pool's `busy` queue grew by one slot per pipelined query under sustained load and every
 * query scanned all of it (the gateway slowed down the longer it ran: Q1 from 5,800 to 4,800 req/s
 * within a minute). These tests fail when the patch is not applied.
 */
import path from 'node:path';

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
