import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

export interface DevKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

const FILE = 'dev-signing-key.json';

/**
 * The development signing key (Ed25519), created on first use in `dir` and kept there
 * (git-ignored). Only development mode trusts it; `npm run token` signs with it.
 */
export async function loadOrCreateDevKey(dir: string): Promise<DevKey> {
  const file = path.resolve(dir, FILE);
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as DevKey;
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const kid = `dev-${Date.now().toString(36)}`;
  const key: DevKey = {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' },
  };
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(key), { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
    // Another process created it first: use theirs.
    if (err.code !== 'EEXIST') throw err;
  });
  return JSON.parse(await readFile(file, 'utf8')) as DevKey;
}
