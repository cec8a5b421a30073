import { createQueryGate } from '../queryGate';

/** A task the test finishes by hand, noting when it started. */
function task(log: string[], name: string) {
  let finish!: (v: string) => void;
  let fail!: (e: Error) => void;
  const p = new Promise<string>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return { run: () => (log.push(`start ${name}`), p), finish: () => finish(name), fail: (e: Error) => fail(e) };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('createQueryGate', () => {
  it('runs at most `limit` at once and the rest in the order they came', async () => {
    const gate = createQueryGate(2);
    const log: string[] = [];
    const t = ['a', 'b', 'c', 'd'].map((n) => task(log, n));
    const results = t.map((x) => gate(x.run));
    await tick();
    expect(log).toEqual(['start a', 'start b']);
    t[1].finish();
    await tick();
    expect(log).toEqual(['start a', 'start b', 'start c']);
    t[0].finish();
    await tick();
    expect(log).toEqual(['start a', 'start b', 'start c', 'start d']);
    t[2].finish();
    t[3].finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('passes a failure on to its caller and frees the slot for the next', async () => {
    const gate = createQueryGate(1);
    const log: string[] = [];
    const a = task(log, 'a');
    const b = task(log, 'b');
    const ra = gate(a.run);
    const rb = gate(b.run);
    await tick();
    expect(log).toEqual(['start a']);
    a.fail(new Error('relation "ds.x" does not exist'));
    await expect(ra).rejects.toThrow('relation "ds.x" does not exist');
    await tick();
    expect(log).toEqual(['start a', 'start b']);
    b.finish();
    await expect(rb).resolves.toBe('b');
  });

  it('frees the slot when the task throws before returning a promise', async () => {
    const gate = createQueryGate(1);
    await expect(gate(() => { throw new Error('bad statement'); })).rejects.toThrow('bad statement');
    await expect(gate(async () => 'next')).resolves.toBe('next');
  });

  it('refuses a limit that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => createQueryGate(bad)).toThrow(/positive integer/);
  });
});
