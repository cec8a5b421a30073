/**
 * `npm start` as a user runs it (the built dist/src/main.js; `npm test` builds first), with no DATABASE_URL: an embedded PostgreSQL whose data
 * survives restarts, the demo rows on the first start, and a clean stop on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startGatewayProcess, type GatewayProcess } from '../src/__testUtils__/gatewayProcess';

jest.setTimeout(240_000);

function start(env: Record<string, string>): Promise<GatewayProcess> {
  return startGatewayProcess({ DATABASE_URL: '', ...env });
}

async function totalEnterprises(url: string): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    // As the source department (development-mode identity), which reads its own dataset.
    headers: { 'content-type': 'application/json', 'x-dev-agency': 'HZ-SCJGJ', 'x-purpose': 'smoke-test' },
    body: JSON.stringify({ query: '{ enterprises(first: 1) { totalCount } }' }),
  });
  const body = (await res.json()) as { data: { enterprises: { totalCount: number } } };
  return body.data.enterprises.totalCount;
}

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'hzgw-embedded-'));
  // As root, PostgreSQL runs as user "postgres", which must reach the data folder.
  await chmod(dataDir, 0o755);
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

it('starts an embedded PostgreSQL, loads the demo once, keeps the data across restarts and stops cleanly', async () => {
  const env = {
    EMBEDDED_PG_DIR: path.join(dataDir, 'pg'),
    EMBEDDED_PG_PORT: String(55000 + (process.pid % 4000)),
    LOG_LEVEL: 'debug',
    // Development mode creates the access-record key on first start and reuses it.
    AUDIT_KEY_FILE: path.join(dataDir, 'audit-hash.key'),
  };

  const first = await start(env);
  expect(await totalEnterprises(first.url)).toBe(20_000);
  expect(first.lines.some((l) => l.msg === 'demo rows delivered')).toBe(true);
  // A request in flight when SIGTERM arrives still gets its answer: SIGTERM is sent once the
  // gateway has logged receiving it (debug level), not after a guessed delay.
  const received = () => first.lines.filter((l) => l.msg === 'request received').length;
  const before = received();
  const inflight = totalEnterprises(first.url);
  while (received() === before) await new Promise((r) => setTimeout(r, 2));
  first.child.kill('SIGTERM');
  expect(await inflight).toBe(20_000);
  expect(await first.exited).toBe(0);
  expect(first.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'embedded PostgreSQL stopped', 'stopped']));

  const second = await start(env);
  expect(await totalEnterprises(second.url)).toBe(20_000);
  expect(second.lines.some((l) => l.msg === 'demo rows delivered')).toBe(false);
  expect(existsSync(env.AUDIT_KEY_FILE)).toBe(true);
  second.child.kill('SIGINT');
  expect(await second.exited).toBe(0);
});

it('refuses to start with an invalid configuration value, naming the key', async () => {
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    env: { ...process.env, PORT: 'eighty' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += String(c)));
  const code = await new Promise((resolve) => child.on('exit', resolve));
  expect(code).toBe(78);
  expect(stderr).toContain('server.port (from PORT="eighty")');
});
