/**
 * The secret behind the access record's keyed hashes (DOMAIN.md §3: a keyed pseudonym stays
 * linkable but cannot be reversed). One master key (config `audit.hashKey`) gives, by HKDF,
 * independent keys for:
 * - data hashes (HMAC-SHA256): row keys and data-subject identifiers. They are computed by
 *   PostgreSQL inside the query (only the built-in sha256() is needed), so an identifier the
 *   caller may not read never leaves the database, not even to be hashed;
 * - operation hashes and the record chain (HMAC-SM3, GB/T 32905, from Node's OpenSSL).
 */
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeKey, type GatewayConfig } from '../config/GatewayConfig';

const BLOCK = 64; // SHA-256 block size

/**
 * Data hashes (row keys, data-subject identifiers) keep the first 16 bytes of the HMAC
 * (128 bits, as HMAC truncation allows, RFC 2104 §5): a Q2-sized read records hundreds of them,
 * and their size is what the access record costs to write and index. Collisions among 2^64
 * values would be needed before two identifiers were confused.
 */
export const DATA_HASH_BYTES = 16;

/** HMAC-SHA256 pads of the data key (AuditKeys.dataPads), for SQL that computes data hashes. */
export type DataPads = { inner: Buffer; outer: Buffer };

export interface AuditKeys {
  /**
   * HMAC-SHA256 pads of the data key: HMAC(K, m) = sha256(outer || sha256(inner || m)),
   * with inner = K ⊕ 0x36…, outer = K ⊕ 0x5c…, so SQL can compute it with sha256() alone.
   */
  readonly dataPads: DataPads;
  /** Data hash (DATA_HASH_BYTES of HMAC-SHA256, hex) of a data-subject identifier, as the SQL side computes it. */
  subjectHash(identifier: string): string;
  /** Data hash (DATA_HASH_BYTES of HMAC-SHA256, hex) of any text with the data key. */
  dataHash(text: string): string;
  /** HMAC-SM3 (hex) of an operation's text and variables. */
  operationHash(text: string): string;
  /** HMAC-SM3 (hex) with the chain key. */
  chainHash(text: string): string;
}

/** Identifiers are compared trimmed and upper-case (an ID number's check `x` = `X`). */
export function normaliseIdentifier(v: string): string {
  return v.trim().toUpperCase();
}

export function createAuditKeys(master: Buffer): AuditKeys {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `hz-share-gateway ${info}`, 32));
  const dataKey = derive('access-record data hash');
  const opKey = derive('access-record operation hash');
  const chainKey = derive('access-record chain');
  const padded = Buffer.alloc(BLOCK);
  dataKey.copy(padded);
  const inner = Buffer.from(padded.map((b) => b ^ 0x36));
  const outer = Buffer.from(padded.map((b) => b ^ 0x5c));
  const dataHash = (text: string) => createHmac('sha256', dataKey).update(text, 'utf8').digest().subarray(0, DATA_HASH_BYTES).toString('hex');
  return {
    dataPads: { inner, outer },
    dataHash,
    subjectHash: (id) => dataHash(normaliseIdentifier(id)),
    operationHash: (text) => createHmac('sm3', opKey).update(text, 'utf8').digest('hex'),
    chainHash: (text) => createHmac('sm3', chainKey).update(text, 'utf8').digest('hex'),
  };
}

/**
 * The configured key; in development mode without one, a key created on first start in
 * `audit.keyFile` (git-ignored) and reused afterwards. Production requires `audit.hashKey`
 * (the configuration refuses to load without it).
 */
export async function loadAuditKeys(config: GatewayConfig): Promise<AuditKeys> {
  if (config.audit.hashKey) return createAuditKeys(decodeKey(config.audit.hashKey)!);
  if (config.mode !== 'development') throw new Error('audit.hashKey is required outside development mode');
  const file = path.resolve(config.audit.keyFile);
  if (!existsSync(file)) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err; // another process created it first
    });
  }
  const key = decodeKey(await readFile(file, 'utf8'));
  if (!key) throw new Error(`${file}: not a 32+ byte base64 or hex key`);
  return createAuditKeys(key);
}
