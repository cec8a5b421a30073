/**
 * Bearer tokens verified with real keys (issue 3, item 1): every rejected kind of token gets
 * HTTP 401 UNAUTHENTICATED with a reason, and nothing runs.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, createPublicKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { createTestDatabase, type TestDatabase } from '../src/__testUtils__/testDatabase';
import { TEST_AUDIT_KEY, startTestGateway, type TestGateway } from '../src/__testUtils__/testGateway';

let db: TestDatabase & { drop(): Promise<void> };
let prod: TestGateway;
let dir: string;
let privateKey: CryptoKey;
let publicPem: string;
const QUERY = `{ departments { code } }`;

function sign(claims: Record<string, unknown>, opts: { key?: CryptoKey; aud?: string; iss?: string; exp?: string | number; alg?: string } = {}) {
  return new SignJWT({ agency: 'HZ-SCJGJ', roles: ['consumer'], ...claims })
    .setProtectedHeader({ alg: opts.alg ?? 'RS256', kid: 'ci-key' })
    .setIssuer(opts.iss ?? 'hz-share-gateway')
    .setAudience(opts.aud ?? 'hz-share-gateway')
    .setSubject('alice')
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .sign(opts.key ?? privateKey);
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

async function call(gw: TestGateway, authorization?: string) {
  return gw.graphql<{ departments: { code: string }[] }>(QUERY, undefined, authorization ? { authorization } : {});
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'hzgw-keys-'));
  const pair = await generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  publicPem = await exportSPKI(pair.publicKey);
  await writeFile(path.join(dir, 'ci-key.pem'), publicPem);
  prod = await startTestGateway(db.url, { GATEWAY_MODE: 'production', AUTH_PUBLIC_KEYS_DIR: dir });
});

afterAll(async () => {
  await prod?.stop();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('accepts a valid token signed by a configured key', async () => {
  const r = await call(prod, `Bearer ${await sign({})}`);
  expect(r.status).toBe(200);
  expect(r.body.data!.departments.length).toBeGreaterThan(3);
});

it('accepts a token whose not-before is within the clock skew (auth.clockSkewSeconds, 30 s)', async () => {
  const r = await call(prod, `Bearer ${await sign({ nbf: Math.floor(Date.now() / 1000) + 10 })}`);
  expect(r.status).toBe(200);
  expect(r.body.errors).toBeUndefined();
});

it('refuses to start in production mode with a key folder that holds no key', async () => {
  const empty = await mkdtemp(path.join(os.tmpdir(), 'hzgw-nokeys-'));
  try {
    await expect(startTestGateway(db.url, { GATEWAY_MODE: 'production', AUTH_PUBLIC_KEYS_DIR: empty, CATALOG_LOAD_ON_START: 'false' })).rejects.toThrow(
      /auth.publicKeysDir \(.*hzgw-nokeys-.*\) holds no public key .*production mode would refuse every token/,
    );
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});

describe('rejects with 401 UNAUTHENTICATED and a reason', () => {
  const cases: [string, () => Promise<string | undefined>, RegExp][] = [
    ['a missing token (production mode)', async () => undefined, /authentication required/],
    ['a malformed header', async () => 'Token abc', /Bearer <JWT>/],
    ['a malformed token', async () => 'Bearer not.a.jwt', /malformed token/],
    ['an expired token', async () => `Bearer ${await sign({}, { exp: Math.floor(Date.now() / 1000) - 3600 })}`, /expired/],
    ['a token signed by another key', async () => `Bearer ${await sign({}, { key: (await generateKeyPair('RS256')).privateKey })}`, /signature/],
    ['alg none', async () => `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ agency: 'HZ-SCJGJ', roles: ['consumer'], sub: 'x', iss: 'hz-share-gateway', aud: 'hz-share-gateway', exp: Math.floor(Date.now() / 1000) + 300 })}.`, /algorithm not allowed/],
    ['HMAC signed with the public key', async () => {
      const head = b64({ alg: 'HS256', typ: 'JWT', kid: 'ci-key' });
      const body = b64({ agency: 'HZ-SCJGJ', roles: ['consumer'], sub: 'x', iss: 'hz-share-gateway', aud: 'hz-share-gateway', exp: Math.floor(Date.now() / 1000) + 300 });
      const sig = createHmac('sha256', publicPem).update(`${head}.${body}`).digest('base64url');
      return `Bearer ${head}.${body}.${sig}`;
    }, /algorithm not allowed/],
    ['a wrong audience', async () => `Bearer ${await sign({}, { aud: 'another-gateway' })}`, /audience/],
    ['a wrong issuer', async () => `Bearer ${await sign({}, { iss: 'someone-else' })}`, /issuer is not trusted/],
    // nbf an hour ahead: beyond the configured clock skew (30 s).
    ['a token not valid yet', async () => `Bearer ${await sign({ nbf: Math.floor(Date.now() / 1000) + 3600 })}`, /not valid yet/],
    ['an unknown agency', async () => `Bearer ${await sign({ agency: 'NO-SUCH-DEPT' })}`, /agency/],
    ['an unknown role', async () => `Bearer ${await sign({ roles: ['superuser'] })}`, /roles/],
  ];
  it.each(cases)('%s', async (_name, make, reason) => {
    const r = await call(prod, await make());
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
    expect(r.body.data).toBeUndefined();
    expect(r.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(r.body.errors?.[0].message).toMatch(reason);
  });

  it('runs nothing for a rejected token: a delivery with an expired token writes no row', async () => {
    const before = await db.sql`SELECT count(*)::int AS n FROM delivery`;
    const token = await sign({}, { exp: Math.floor(Date.now() / 1000) - 3600 });
    const res = await fetch(`${prod.baseUrl}/datasets/${encodeURIComponent('3.44.13.002/00000001')}/deliveries`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', authorization: `Bearer ${token}` },
      body: 'uscc\n',
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    expect(await db.sql`SELECT count(*)::int AS n FROM delivery`).toEqual(before);
  });
});

describe('development key and npm run token', () => {
  let dev: TestGateway;
  let keyDir: string;
  beforeAll(async () => {
    keyDir = await mkdtemp(path.join(os.tmpdir(), 'hzgw-devkey-'));
    dev = await startTestGateway(db.url, { AUTH_DEV_KEY_DIR: keyDir, CATALOG_LOAD_ON_START: 'false' });
  });
  afterAll(async () => {
    await dev?.stop();
    await rm(keyDir, { recursive: true, force: true });
  });

  const token = (env: Record<string, string>) =>
    execFileSync(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'src/cli/token.ts', '--agency', 'HZ-SCJGJ', '--roles', 'consumer'], {
      env: { ...process.env, AUTH_DEV_KEY_DIR: keyDir, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();

  it('prints a token the development gateway accepts', async () => {
    const r = await call(dev, `Bearer ${token({ GATEWAY_MODE: 'development' })}`);
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
  });

  it('refuses to sign outside development mode, and production does not trust the development key', async () => {
    expect(() => token({ GATEWAY_MODE: 'production', AUDIT_HASH_KEY: TEST_AUDIT_KEY })).toThrow(/only in development mode/);
    const devToken = token({ GATEWAY_MODE: 'development' });
    const r = await call(prod, `Bearer ${devToken}`);
    expect(r.status).toBe(401);
  });
});

describe('keys from the identity provider (auth.jwksUrl)', () => {
  let jwks: Server;
  let jwksUrl: string;
  let answer: 'keys' | 'error' = 'keys';
  let viaJwks: TestGateway | undefined;
  let idpDown: TestGateway | undefined;
  beforeAll(async () => {
    // The same key as the local folder's: the gateways here trust it through the URL only.
    const pub = await exportJWK(createPublicKey(publicPem));
    jwks = createServer((_req, res) => {
      if (answer === 'error') {
        res.writeHead(500, { 'content-type': 'text/plain' }).end('identity provider unavailable');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [{ ...pub, kid: 'ci-key', alg: 'RS256' }] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    viaJwks = await startTestGateway(db.url, { GATEWAY_MODE: 'production', AUTH_JWKS_URL: jwksUrl, CATALOG_LOAD_ON_START: 'false' });
  });
  afterAll(async () => {
    await viaJwks?.stop();
    await idpDown?.stop();
    await new Promise((r) => jwks?.close(r));
  });

  it('accepts a token signed by a key of the set, and refuses one signed by another key with 401', async () => {
    const ok = await call(viaJwks!, `Bearer ${await sign({})}`);
    expect(ok.status).toBe(200);
    expect(ok.body.data!.departments.length).toBeGreaterThan(3);
    const stranger = (await generateKeyPair('RS256')).privateKey;
    const bad = await call(viaJwks!, `Bearer ${await sign({}, { key: stranger })}`);
    expect(bad.status).toBe(401);
    expect(bad.body.errors![0].extensions!.code).toBe('UNAUTHENTICATED');
  });

  it('answers 503 SERVICE_UNAVAILABLE, not 401, while the key set cannot be read (HTTP error, nothing listening)', async () => {
    answer = 'error';
    try {
      idpDown = await startTestGateway(db.url, { GATEWAY_MODE: 'production', AUTH_JWKS_URL: jwksUrl, CATALOG_LOAD_ON_START: 'false' });
      const r = await call(idpDown, `Bearer ${await sign({})}`);
      expect(r.status).toBe(503);
      expect(r.body.data).toBeUndefined();
      expect(r.body.errors![0].extensions!.code).toBe('SERVICE_UNAVAILABLE');
      expect(r.body.errors![0].message).toMatch(/identity provider's key set \(auth.jwksUrl\) cannot be read .*try again later/);
    } finally {
      answer = 'keys';
    }
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/jwks.json`;
    await new Promise((r) => closed.close(r));
    const nobody = await startTestGateway(db.url, { GATEWAY_MODE: 'production', AUTH_JWKS_URL: deadUrl, CATALOG_LOAD_ON_START: 'false' });
    try {
      const r = await call(nobody, `Bearer ${await sign({})}`);
      expect(r.status).toBe(503);
      expect(r.body.errors![0].extensions!.code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      await nobody.stop();
    }
  });
});
