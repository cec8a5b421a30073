/**
 * The operation hash covers the variables as canonical JSON (keys sorted): the text must not
 * depend on the order a client wrote them in, and the fast path for flat variables must give
 * exactly the text of the general one, or equal operations would get different hashes.
 */
import { canonicalVariables } from '../accessRecordPlugin';

/** The general form: every object's keys sorted, by a replacer. */
const sortedByReplacer = (v: unknown) =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : x,
  );

describe('canonicalVariables', () => {
  it.each([
    ['one string', { uscc: '91441300MA4W000019' }],
    ['keys in order', { a: 1, b: 'x', c: true, d: null }],
    ['keys out of order', { district: '惠城区', after: 'abc', first: 50 }],
    ['integer-like keys', { '10': 1, '9': 2, a: 3 }],
    ['an integer-like key after a name', { b: 1, '2': 2 }],
    ['a nested object', { filter: { district: { eq: '惠城区' }, a: [3, { z: 1, y: 2 }] }, first: 5 }],
    ['an array', [{ b: 1, a: 2 }]],
    ['nothing', {}],
    ['unicode and escapes', { 'é': '\u2028"\\', e: '\u0000' }],
    ['a __proto__ key, as JSON.parse makes it', JSON.parse('{"__proto__": 1, "a": 2}')],
    ['the largest array-index key and the one past it', { '4294967294': 1, '4294967295': 2, a: 3 }],
  ])('%s: the same text as keys sorted by a replacer', (_name, v) => {
    expect(canonicalVariables(v)).toBe(sortedByReplacer(v));
  });

  it('gives the same text whatever order the client wrote the keys in', () => {
    expect(canonicalVariables(JSON.parse('{"b":1,"a":2}'))).toBe('{"a":2,"b":1}');
    expect(canonicalVariables(JSON.parse('{"a":2,"b":1}'))).toBe('{"a":2,"b":1}');
    expect(canonicalVariables(JSON.parse('{"x":{"b":1,"a":2}}'))).toBe(canonicalVariables(JSON.parse('{"x":{"a":2,"b":1}}')));
  });

  it('is empty when there are no variables', () => {
    expect(canonicalVariables(undefined)).toBe('');
  });
});
