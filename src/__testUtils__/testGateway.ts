import { Writable } from 'node:stream';
import fileConfig from '../../gateway.config';
import { loadConfig } from '../config/loadConfig';
import { createLogger } from '../server/createLogger';
import { startGateway, type RunningGateway, type StartOptions } from '../server/startGateway';

export interface GraphQLReply<T> {
  status: number;
  headers: Headers;
  body: { data?: T; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[] };
}

export interface TestGateway extends RunningGateway {
  /** Every JSON log line written so far. */
  logs: Record<string, unknown>[];
  /** POST a GraphQL operation over real HTTP. */
  graphql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GraphQLReply<T>>;
  baseUrl: string;
}

/** Access-record key of test gateways (32 bytes, hex): every process of a test shares the chain key. */
export const TEST_AUDIT_KEY = 'a1'.repeat(32);

/** A real gateway on a free port, against a test database, logging into memory. */
export async function startTestGateway(databaseUrl: string, env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestGateway> {
  const config = loadConfig(fileConfig, { DATABASE_URL: databaseUrl, PORT: '0', LOG_LEVEL: 'info', CATALOG_POLL_MS: '500', AUDIT_HASH_KEY: TEST_AUDIT_KEY, ...env });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      cb();
    },
  });
  const running = await startGateway(config, createLogger(config.log.level, sink), options);
  const baseUrl = running.url.replace(/\/graphql$/, '');
  return {
    ...running,
    logs,
    baseUrl,
    async graphql<T>(query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<GraphQLReply<T>> {
      const res = await fetch(running.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, headers: res.headers, body: (await res.json()) as GraphQLReply<T>['body'] };
    },
  };
}

/** Development-mode identity headers of a department (until tokens land). */
export function asAgency(agency: string, roles = 'consumer', purpose = 'test-purpose'): Record<string, string> {
  return { 'x-dev-agency': agency, 'x-dev-roles': roles, 'x-purpose': purpose };
}
