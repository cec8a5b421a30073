/**
 * @apollo/server 5.5.1 is patched (patches/@apollo+server+5.5.1.patch, applied by `npm ci`
 * through patch-package): in gateway mode, which the gateway uses to swap schemas and run
 * graphql-jit, Apollo builds a request context for the executor on every request, and its
 * response part was an object literal with its own `status` getter and setter. Under load that
 * had V8 move ~1 MB per scavenge to the old generation and run a full collection every ~260 ms;
 * access-off Q1 ran at 5,700-6,400 req/s instead of 7,500-8,200. These tests fail when the patch
 * is not applied, and check that the response still reads and writes Apollo's own.
 */
import path from 'node:path';
import { HeaderMap } from '@apollo/server';

type GatewayResponse = { http: { status?: number; headers: { get(n: string): string | null; set(n: string, v: string): void } } };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { makeGatewayGraphQLRequestContext } = require(path.join(path.dirname(require.resolve('@apollo/server')), 'utils/makeGatewayGraphQLRequestContext.js')) as {
  makeGatewayGraphQLRequestContext(rc: unknown, server: unknown, internals: unknown): { response: GatewayResponse; context: unknown };
};

function apolloRequestContext() {
  return {
    request: { query: '{ __typename }', http: { method: 'POST', headers: new HeaderMap(), search: '' } },
    response: { http: { status: undefined as number | undefined, headers: new HeaderMap([['x-a', '1']]) } },
    contextValue: { requestId: 'r1' },
    schema: {},
  };
}

describe("Apollo's gateway request context (patched)", () => {
  it("reads and writes the response status and headers of Apollo's own request context", () => {
    const rc = apolloRequestContext();
    const gw = makeGatewayGraphQLRequestContext(rc, { logger: console, cache: null }, {});
    expect(gw.context).toBe(rc.contextValue);
    expect(gw.response.http.status).toBeUndefined();
    gw.response.http.status = 418;
    expect(rc.response.http.status).toBe(418);
    rc.response.http.status = 200;
    expect(gw.response.http.status).toBe(200);
    expect(gw.response.http.headers.get('x-a')).toBe('1');
    gw.response.http.headers.set('x-b', '2');
    expect(rc.response.http.headers.get('x-b')).toBe('2');
  });

  it('gives every request the same shape: status is an accessor of a shared prototype, not of a literal made per request', () => {
    const [a, b] = [apolloRequestContext(), apolloRequestContext()].map((rc) => makeGatewayGraphQLRequestContext(rc, { logger: console, cache: null }, {}));
    expect(Object.getOwnPropertyDescriptor(a.response.http, 'status')).toBeUndefined();
    expect(Object.getPrototypeOf(a.response.http)).toBe(Object.getPrototypeOf(b.response.http));
    expect(Object.getPrototypeOf(a.response.http)).not.toBe(Object.prototype);
  });
});
