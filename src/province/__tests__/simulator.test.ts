import { startProvinceSimulator, type ProvinceSimulator, type ProvinceSimulatorOptions } from '../simulator';

/** Simulators started by a test, stopped after it. */
const started: ProvinceSimulator[] = [];
async function start(opts: ProvinceSimulatorOptions = {}): Promise<ProvinceSimulator> {
  const sim = await startProvinceSimulator(opts);
  started.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

type Json = Record<string, unknown>;

interface Answer {
  status: number;
  body: Json;
}

async function call(sim: ProvinceSimulator, method: string, path: string, init: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Answer> {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
    signal: init.signal,
  });
  return { status: res.status, body: (await res.json()) as Json };
}

interface Chunk {
  version?: string;
  rows?: { key: string; data: Json }[];
  deletes?: string[];
}

function pushChunk(sim: ProvinceSimulator, code: string, key: string | null, chunk: Chunk, extra: { headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...(key !== null ? { 'idempotency-key': key } : {}), ...extra.headers };
  return call(sim, 'POST', `/open-data/${encodeURIComponent(code)}/chunks`, { body: chunk, headers, signal: extra.signal });
}

const control = (sim: ProvinceSimulator, path: string, body?: unknown): Promise<Answer> => call(sim, body === undefined ? 'GET' : 'POST', path, { body });

/** `n` rows with keys `${prefix}${i}` and ten short fields. */
function rows(n: number, prefix = 'k', from = 0): { key: string; data: Json }[] {
  return Array.from({ length: n }, (_, i) => {
    const key = `${prefix}${from + i}`;
    const data: Json = { id: key };
    for (let f = 1; f < 10; f++) data[`f${f}`] = `v${f}-${from + i}`;
    return { key, data };
  });
}

describe('province simulator', () => {
  it('upserts rows by key and applies a replayed Idempotency-Key only once', async () => {
    const sim = await start();
    const code = '惠州/HZ 001'; // URL-encoded in the path
    const first = await pushChunk(sim, code, 'c1', { version: 'v1', rows: rows(3), deletes: [] });
    expect(first).toEqual({ status: 200, body: { ack: true, duplicate: false, received: 3, deleted: 0, version: 'v1' } });
    expect(sim.state.rowCount(code)).toBe(3);
    expect(sim.state.rows.get(code)?.get('k1')).toEqual(rows(3)[1].data);

    const replay = await pushChunk(sim, code, 'c1', { version: 'v1', rows: rows(3), deletes: [] });
    expect(replay).toEqual({ status: 200, body: { ack: true, duplicate: true, received: 3, deleted: 0, version: 'v1' } });

    const update = await pushChunk(sim, code, 'c2', { version: 'v2', rows: [{ key: 'k1', data: { id: 'k1', f1: 'new' } }, ...rows(2, 'k', 3)], deletes: [] });
    expect(update.body).toMatchObject({ duplicate: false, received: 3 });
    expect(sim.state.rowCount(code)).toBe(5);
    expect(sim.state.rows.get(code)?.get('k1')).toEqual({ id: 'k1', f1: 'new' });
    expect(await call(sim, 'GET', `/open-data/${encodeURIComponent(code)}/stats`)).toEqual({ status: 200, body: { rows: 5, version: 'v2' } });

    // The same key for something else is a gateway bug: refused, nothing applied.
    const reused = await pushChunk(sim, code, 'c1', { version: 'v3', rows: rows(1, 'x'), deletes: [] });
    expect(reused.status).toBe(422);
    expect(sim.state.rows.get(code)?.has('x0')).toBe(false);

    expect([...sim.state.idempotencyKeys.keys()]).toEqual(['c1', 'c2']);
    expect(sim.state.counters).toMatchObject({ chunksReceived: 3, chunksApplied: 2, duplicatesIgnored: 1, rowsUpserted: 6, rejected: 1 });
  });

  it('deletes keys; a key that is not there is accepted but not counted as a removed row', async () => {
    const sim = await start();
    await pushChunk(sim, 'D', 'a', { version: '1', rows: rows(5), deletes: [] });
    const del = await pushChunk(sim, 'D', 'b', { version: '2', rows: rows(1, 'k', 10), deletes: ['k0', 'k3', 'missing'] });
    expect(del.body).toEqual({ ack: true, duplicate: false, received: 1, deleted: 3, version: '2' });
    expect([...sim.state.rows.get('D')!.keys()].sort()).toEqual(['k1', 'k10', 'k2', 'k4']);
    expect(sim.state.counters.rowsDeleted).toBe(2);
    // Replayed deletes change nothing.
    expect((await pushChunk(sim, 'D', 'b', { version: '2', rows: rows(1, 'k', 10), deletes: ['k0', 'k3', 'missing'] })).body.duplicate).toBe(true);
    expect(sim.state.rowCount('D')).toBe(4);
  });

  it('answers 401 without the bearer token; the control API needs none', async () => {
    const sim = await start({ token: 's3cret' });
    const chunk = { version: '1', rows: rows(1), deletes: [] };
    expect((await pushChunk(sim, 'A', 'k', chunk)).status).toBe(401);
    expect((await pushChunk(sim, 'A', 'k', chunk, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await call(sim, 'GET', '/open-data/A/stats')).status).toBe(401);
    expect(sim.state.rowCount('A')).toBe(0);
    expect((await pushChunk(sim, 'A', 'k', chunk, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    expect((await control(sim, '/_stats')).status).toBe(200);
    expect(sim.state.counters.unauthorized).toBe(3);
  });

  it('failNext answers the given status without applying, for chunks and backflow', async () => {
    const sim = await start();
    await control(sim, '/_backflow/B', { rows: rows(2) });
    expect((await control(sim, '/_faults', { failNext: 2, status: 500 })).status).toBe(200);
    expect((await pushChunk(sim, 'A', 'k1', { version: '1', rows: rows(2), deletes: [] })).status).toBe(500);
    expect((await call(sim, 'GET', '/backflow/B')).status).toBe(500);
    expect(sim.state.rowCount('A')).toBe(0);
    expect(sim.state.idempotencyKeys.has('k1')).toBe(false);
    expect((await pushChunk(sim, 'A', 'k1', { version: '1', rows: rows(2), deletes: [] })).body).toMatchObject({ ack: true, duplicate: false });
    expect(sim.state.counters.errorsInjected).toBe(2);
    expect(sim.state.faults.failNext).toBe(0);
  });

  it('dropAckNext applies the chunk, then the client sees a connection failure; the retry is a duplicate', async () => {
    const sim = await start();
    await control(sim, '/_faults', { dropAckNext: 1 });
    const chunk = { version: '1', rows: rows(4), deletes: [] };
    await expect(pushChunk(sim, 'A', 'k1', chunk)).rejects.toThrow(/fetch failed/);
    expect(sim.state.rowCount('A')).toBe(4);
    expect(sim.state.counters.acksDropped).toBe(1);
    expect((await pushChunk(sim, 'A', 'k1', chunk)).body).toMatchObject({ ack: true, duplicate: true, received: 4 });
    expect(sim.state.counters).toMatchObject({ chunksApplied: 1, duplicatesIgnored: 1 });
  });

  it('timeoutNext holds the request until the client gives up, without applying', async () => {
    const sim = await start();
    await control(sim, '/_faults', { timeoutNext: 1 });
    const chunk = { version: '1', rows: rows(2), deletes: [] };
    const t0 = Date.now();
    await expect(pushChunk(sim, 'A', 'k1', chunk, { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(sim.state.rowCount('A')).toBe(0);
    await waitFor(() => sim.state.heldRequests === 0);
    expect((await pushChunk(sim, 'A', 'k1', chunk)).body).toMatchObject({ ack: true, duplicate: false });
    expect(sim.state.counters.errorsInjected).toBe(1);
  });

  it('stop() ends held requests', async () => {
    const sim = await start();
    await control(sim, '/_faults', { timeoutNext: 1 });
    const pending = pushChunk(sim, 'A', 'k1', { version: '1', rows: rows(1), deletes: [] });
    await waitFor(() => sim.state.heldRequests === 1);
    await sim.stop();
    await expect(pending).rejects.toThrow();
  });

  it('failRate fails a key at most once, the same keys for the same seed', async () => {
    const failing = async (seed: number): Promise<string[]> => {
      const sim = await start();
      await control(sim, '/_faults', { failRate: 0.3, seed });
      const failed: string[] = [];
      for (let i = 0; i < 60; i++) {
        const key = `chunk-${i}`;
        const chunk = { version: '1', rows: rows(1, 'k', i), deletes: [] };
        const first = await pushChunk(sim, 'A', key, chunk);
        if (first.status === 503) {
          failed.push(key);
          // The retry of the same key succeeds.
          expect((await pushChunk(sim, 'A', key, chunk)).body).toMatchObject({ ack: true, duplicate: false });
        } else {
          expect(first.status).toBe(200);
        }
      }
      expect(sim.state.rowCount('A')).toBe(60);
      expect(sim.state.counters.errorsInjected).toBe(failed.length);
      return failed;
    };
    const a = await failing(42);
    expect(a.length).toBeGreaterThan(5);
    expect(a.length).toBeLessThan(40);
    expect(await failing(42)).toEqual(a);
    expect(await failing(7)).not.toEqual(a);
  });

  it('duplicateNext delivers a push twice, harmlessly', async () => {
    const sim = await start();
    await control(sim, '/_faults', { duplicateNext: 1 });
    expect((await pushChunk(sim, 'A', 'k1', { version: '1', rows: rows(3), deletes: [] })).body).toMatchObject({ duplicate: false, received: 3 });
    expect(sim.state.rowCount('A')).toBe(3);
    expect(sim.state.counters).toMatchObject({ chunksReceived: 2, chunksApplied: 1, duplicatesIgnored: 1, duplicatesInjected: 1, rowsUpserted: 3 });
  });

  it('slowMs delays every platform request', async () => {
    const sim = await start();
    await control(sim, '/_faults', { slowMs: 200 });
    const t0 = Date.now();
    expect((await call(sim, 'GET', '/open-data/A/stats')).body).toEqual({ rows: 0, version: null });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    await control(sim, '/_faults', { reset: true });
    expect(sim.state.faults.slowMs).toBe(0);
  });

  it('pages backflow rows with an opaque cursor in a stable order', async () => {
    const sim = await start();
    const seeded = rows(25, 'b');
    await control(sim, '/_backflow/V1', { rows: seeded.slice(0, 20) });
    expect((await control(sim, '/_backflow/V1', { rows: seeded.slice(20) })).body).toEqual({ appended: 5, total: 25 });
    const got: string[] = [];
    const cursors: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: Answer = await call(sim, 'GET', `/backflow/V1?limit=10${after ? `&after=${encodeURIComponent(after)}` : ''}`);
      expect(page.status).toBe(200);
      const pageRows = page.body.rows as { key: string; data: Json }[];
      got.push(...pageRows.map((r) => r.key));
      after = page.body.next as string | null;
      if (after === null) break;
      cursors.push(after);
    }
    expect(got).toEqual(seeded.map((r) => r.key));
    expect(cursors).toHaveLength(2);
    expect(cursors.every((c) => !/^\d+$/.test(c))).toBe(true);
    // The same cursor gives the same page.
    const again = await call(sim, 'GET', `/backflow/V1?limit=10&after=${encodeURIComponent(cursors[1])}`);
    expect((again.body.rows as { key: string }[]).map((r) => r.key)).toEqual(got.slice(20));
    expect((again.body.rows as { data: Json }[])[0].data).toEqual(seeded[20].data);

    expect((await call(sim, 'GET', '/backflow/V1?after=bogus')).status).toBe(400);
    expect((await call(sim, 'GET', '/backflow/V1?limit=0')).status).toBe(400);
    expect((await call(sim, 'GET', '/backflow/NOPE')).status).toBe(404);
    await control(sim, '/_backflow/V2', { rows: rows(1) });
    expect((await call(sim, 'GET', `/backflow/V2?after=${encodeURIComponent(cursors[0])}`)).status).toBe(400); // another dataset's cursor
  });

  it('stores catalog entries; retiring a code removes its entry and its rows', async () => {
    const sim = await start();
    const entry = (code: string) => ({ code, name: `数据集 ${code}`, openType: 'UNCONDITIONAL', fields: [{ name: 'id', label: '编号', openType: 'UNCONDITIONAL' }] });
    const first = await call(sim, 'POST', '/open-catalog', { body: { entries: [entry('A'), entry('B')], retired: [] }, headers: { 'idempotency-key': 'cat-1' } });
    expect(first.body).toEqual({ ack: true, duplicate: false, upserted: 2, retired: 0 });
    await pushChunk(sim, 'A', 'a1', { version: '1', rows: rows(3), deletes: [] });
    await pushChunk(sim, 'B', 'b1', { version: '1', rows: rows(2), deletes: [] });

    const retire = await call(sim, 'POST', '/open-catalog', { body: { entries: [entry('B')], retired: ['A'] }, headers: { 'idempotency-key': 'cat-2' } });
    expect(retire.body).toEqual({ ack: true, duplicate: false, upserted: 1, retired: 1 });
    expect([...sim.state.catalog.keys()]).toEqual(['B']);
    expect(sim.state.rows.has('A')).toBe(false);
    expect(sim.state.rowCount('B')).toBe(2);
    expect((await call(sim, 'GET', '/open-data/A/stats')).body).toEqual({ rows: 0, version: null });
    const replay = await call(sim, 'POST', '/open-catalog', { body: { entries: [entry('B')], retired: ['A'] }, headers: { 'idempotency-key': 'cat-2' } });
    expect(replay.body).toMatchObject({ ack: true, duplicate: true });
    expect(sim.state.counters.catalogPushes).toBe(2);
  });

  it('requireCatalog refuses chunks of datasets outside the catalog', async () => {
    const sim = await start({ requireCatalog: true });
    expect((await pushChunk(sim, 'A', 'a1', { version: '1', rows: rows(1), deletes: [] })).status).toBe(404);
  });

  it('refuses bad input with 4xx and a message, applying nothing', async () => {
    const sim = await start({ maxBodyBytes: 10_000 });
    const ok = { version: '1', rows: rows(1), deletes: [] };
    const refused = async (answer: Promise<Answer>, status: number, message: RegExp): Promise<void> => {
      const a = await answer;
      expect(a.status).toBe(status);
      expect(a.body.error).toMatch(message);
    };
    await refused(pushChunk(sim, 'A', null, ok), 400, /Idempotency-Key/);
    await refused(call(sim, 'POST', '/open-data/A/chunks', { body: '{"version":', headers: { 'idempotency-key': 'x' } }), 400, /not valid JSON/);
    await refused(pushChunk(sim, 'A', 'x', { rows: [], deletes: [] }), 400, /missing field "version"/);
    await refused(pushChunk(sim, 'A', 'x', { version: '1', rows: [] }), 400, /missing field "deletes"/);
    await refused(pushChunk(sim, 'A', 'x', { version: '1', rows: [{ key: '', data: {} }], deletes: [] }), 400, /rows\[0\]\.key/);
    await refused(pushChunk(sim, 'A', 'x', { version: '1', rows: [{ key: 'a', data: [] as unknown as Json }], deletes: [] }), 400, /rows\[0\]\.data/);
    await refused(pushChunk(sim, 'A', 'x', { version: '1', rows: [...rows(2), rows(1)[0]], deletes: [] }), 400, /repeats/);
    await refused(pushChunk(sim, 'A', 'x', { version: '1', rows: rows(1), deletes: ['k0'] }), 400, /also a key/);
    await refused(pushChunk(sim, 'A', 'x', ok, { headers: { 'content-type': 'text/plain' } }), 415, /application\/json/);
    await refused(pushChunk(sim, 'A', 'x', { version: '1', rows: rows(100), deletes: [] }), 413, /exceeds 10000 bytes/);
    await refused(call(sim, 'POST', '/open-catalog', { body: { entries: [{ code: 'A' }], retired: [] }, headers: { 'idempotency-key': 'y' } }), 400, /entries\[0\]\.name/);
    await refused(call(sim, 'POST', '/open-catalog', { body: { entries: [] }, headers: { 'idempotency-key': 'y' } }), 400, /missing field "retired"/);
    await refused(call(sim, 'GET', '/open-data/A/chunks'), 405, /POST/);
    await refused(call(sim, 'GET', '/nowhere'), 404, /no endpoint/);
    await refused(control(sim, '/_faults', { failnext: 1 }), 400, /unknown fault settings: failnext/);
    await refused(control(sim, '/_faults', { failNext: -1 }), 400, /non-negative/);
    await refused(control(sim, '/_faults', { failNext: 1, status: 200 }), 400, /status/);
    await refused(control(sim, '/_backflow/V', { rows: [{ key: 'a' }] }), 400, /rows\[0\]\.data/);
    expect(sim.state.rows.size).toBe(0);
    expect(sim.state.idempotencyKeys.size).toBe(0);
    // A corrected request may use a key whose first attempt was refused.
    expect((await pushChunk(sim, 'A', 'x', ok)).status).toBe(200);
    // The connection survived the 413 (body discarded, not reset).
    expect((await call(sim, 'GET', '/open-data/A/stats')).body).toEqual({ rows: 1, version: '1' });
  });

  it('accepts a ~6 MB chunk by default', async () => {
    const sim = await start();
    const big = rows(35_000, 'r');
    const answer = await pushChunk(sim, 'BIG', 'big-1', { version: '1', rows: big, deletes: [] });
    expect(JSON.stringify(big).length).toBeGreaterThan(5 * 1024 * 1024);
    expect(answer.body).toMatchObject({ ack: true, received: 35_000 });
    expect(sim.state.rowCount('BIG')).toBe(35_000);
  });

  it('GET /_stats reports counters and row counts; POST /_reset clears data and faults', async () => {
    const sim = await start();
    await pushChunk(sim, 'A', 'a1', { version: 'v9', rows: rows(3), deletes: [] });
    await control(sim, '/_faults', { failNext: 5 });
    const stats = await control(sim, '/_stats');
    expect(stats.body).toMatchObject({ datasets: { A: { rows: 3, version: 'v9' } }, counters: { chunksApplied: 1, rowsUpserted: 3 }, faults: { failNext: 5 } });
    expect((await control(sim, '/_reset', {})).body).toEqual({ reset: true });
    expect(sim.state.rows.size).toBe(0);
    expect(sim.state.idempotencyKeys.size).toBe(0);
    expect(sim.state.faults.failNext).toBe(0);
    expect(sim.state.counters.chunksApplied).toBe(0);
    expect((await pushChunk(sim, 'A', 'a1', { version: 'v9', rows: rows(3), deletes: [] })).body.duplicate).toBe(false);
  });
});

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
