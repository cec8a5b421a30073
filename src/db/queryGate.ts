/**
 * A first-come, first-served limit on how many dataset statements one gateway process runs at
 * once (`database.queryConcurrency`). PostgreSQL runs a CPU-bound statement no faster for having
 * more of them at a time than it has cores: beyond that, every statement (and the access-record
 * writer's, on its own pool) only waits longer for a core, and everything a request holds lives
 * longer with it. Statements past the limit wait here, in the order they came, holding no
 * connection. bench/README.md ("Fewer statements at once") has the measurements.
 */
export type QueryGate = <T>(run: () => PromiseLike<T>) => Promise<T>;

export function createQueryGate(limit: number): QueryGate {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`the query gate's limit must be a positive integer, got ${limit}`);
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next(); // the slot passes on as it is
    else running--;
  };
  return async <T>(run: () => PromiseLike<T>): Promise<T> => {
    if (running < limit) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await run();
    } finally {
      release();
    }
  };
}
