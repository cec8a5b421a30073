/**
 * A test identity provider: a real ES256 key pair whose public key a production-mode test
 * gateway trusts (AUTH_PUBLIC_KEYS_DIR), and real signed tokens for any agency and roles.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

export interface TestIssuer {
  /** Folder holding the public key; pass as AUTH_PUBLIC_KEYS_DIR. */
  keysDir: string;
  token(agency: string, roles: string[], opts?: { subject?: string; purpose?: string; ttl?: string }): Promise<string>;
  /** Authorization (and X-Purpose when given) headers of a caller. */
  headers(agency: string, roles: string[], purpose?: string): Promise<Record<string, string>>;
  cleanup(): Promise<void>;
}

export async function createTestIssuer(): Promise<TestIssuer> {
  const keysDir = await mkdtemp(path.join(os.tmpdir(), 'hzgw-issuer-'));
  const pair = await generateKeyPair('ES256', { extractable: true });
  await writeFile(path.join(keysDir, 'test-issuer.pem'), await exportSPKI(pair.publicKey));
  const key: CryptoKey = pair.privateKey;
  const token: TestIssuer['token'] = (agency, roles, opts = {}) =>
    new SignJWT({ agency, roles, ...(opts.purpose ? { purpose: opts.purpose } : {}) })
      .setProtectedHeader({ alg: 'ES256', kid: 'test-issuer' })
      .setIssuer('hz-share-gateway')
      .setAudience('hz-share-gateway')
      .setSubject(opts.subject ?? `${agency.toLowerCase()}-officer`)
      .setIssuedAt()
      .setExpirationTime(opts.ttl ?? '10m')
      .sign(key);
  return {
    keysDir,
    token,
    async headers(agency, roles, purpose) {
      return { authorization: `Bearer ${await token(agency, roles)}`, ...(purpose ? { 'x-purpose': purpose } : {}) };
    },
    cleanup: () => rm(keysDir, { recursive: true, force: true }),
  };
}
