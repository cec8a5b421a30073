/**
 * Verifies `Authorization: Bearer <JWT>` with jose: signature against the configured keys
 * (JWKS URL, local public keys, and the development key in development mode), algorithms
 * RS256 / ES256 / EdDSA only (so `alg: none` and HMAC-with-a-public-key are refused), issuer,
 * audience, expiry and not-before with a small clock skew; then the claims: `agency` (a known
 * department), `sub`, `roles`.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  exportJWK,
  importSPKI,
  jwtVerify,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';
import type { GatewayConfig } from '../config/GatewayConfig';
import { GatewayError, GatewayErrorCode, UnauthenticatedError } from '../errors';
import { loadOrCreateDevKey } from './devKey';
import { ROLES, type Principal, type Role } from './Principal';

export const TOKEN_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;

export interface TokenVerifier {
  /** @throws UnauthenticatedError with a reason a caller can act on (never the token itself). */
  verify(token: string): Promise<Principal & { purposeClaim?: string }>;
}

async function loadLocalKeys(dir: string): Promise<JWK[]> {
  const keys: JWK[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const file = path.join(dir, name);
    if (name.endsWith('.pem')) {
      const pem = await readFile(file, 'utf8');
      const alg = pem.includes('BEGIN PUBLIC KEY') ? await guessAlg(pem) : null;
      if (!alg) throw new Error(`${file}: not a PEM public key (SPKI) of RS256, ES256 or EdDSA`);
      keys.push({ ...(await exportJWK(await importSPKI(pem, alg, { extractable: true }))), alg, kid: path.basename(name, '.pem') });
    } else if (name.endsWith('.json')) {
      const jwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
      if (jwk.d) throw new Error(`${file}: holds a private key; give the gateway public keys only`);
      keys.push({ kid: path.basename(name, '.json'), ...jwk });
    }
  }
  return keys;
}

async function guessAlg(pem: string): Promise<string | null> {
  for (const alg of TOKEN_ALGORITHMS) {
    try {
      await importSPKI(pem, alg);
      return alg;
    } catch {
      /* try the next */
    }
  }
  return null;
}

/** The remote key set could not be had: the gateway's trouble, not the token's. */
class KeySetUnavailable extends Error {}

/** jose error codes → reasons for the 401 answer. */
function reasonOf(err: unknown): string {
  const e = err as { code?: string; claim?: string; message?: string };
  switch (e.code) {
    case 'ERR_JWT_EXPIRED':
      return 'token expired';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'token signature does not verify';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return `token algorithm not allowed (accepted: ${TOKEN_ALGORITHMS.join(', ')})`;
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'no trusted key matches the token';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.claim === 'aud') return 'token audience is not this gateway';
      if (e.claim === 'iss') return 'token issuer is not trusted';
      if (e.claim === 'nbf') return 'token is not valid yet';
      return `token claim ${e.claim ?? ''} is invalid`.trim();
    default:
      return 'malformed token';
  }
}

export async function createTokenVerifier(
  config: GatewayConfig,
  isKnownAgency: (code: string) => boolean,
): Promise<TokenVerifier> {
  const local: JWK[] = [];
  if (config.auth.publicKeysDir) local.push(...(await loadLocalKeys(config.auth.publicKeysDir)));
  if (config.mode === 'development') local.push((await loadOrCreateDevKey(config.auth.devKeyDir)).publicJwk);
  if (config.mode === 'production' && !local.length && !config.auth.jwksUrl) {
    throw new Error(
      `auth.publicKeysDir (${config.auth.publicKeysDir}) holds no public key (*.pem SPKI or *.json JWK): production mode would refuse every token; add the identity provider's keys or set auth.jwksUrl`,
    );
  }
  const localSet = local.length ? createLocalJWKSet({ keys: local }) : null;
  const remoteSet = config.auth.jwksUrl ? createRemoteJWKSet(new URL(config.auth.jwksUrl)) : null;
  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (localSet) {
      try {
        return await localSet(header, token);
      } catch (err) {
        if (!remoteSet) throw err;
      }
    }
    if (remoteSet) {
      try {
        return await remoteSet(header, token);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw err;
        // Not the token's fault: the key set could not be fetched (network, HTTP status,
        // timeout) or is not a JWK set.
        throw new KeySetUnavailable(code === 'ERR_JWKS_TIMEOUT' ? 'timed out' : code === 'ERR_JWKS_INVALID' ? 'not a valid JWK set' : (err as Error).message, { cause: err });
      }
    }
    throw Object.assign(new Error('no keys configured'), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
  };
  // Verified tokens, so a client sending the same token on every request pays for one
  // signature check per minute, not per request. An entry never outlives the token's expiry,
  // and lives at most CACHE_MS, so a key withdrawn from the trusted set stops working soon.
  const verified = new Map<string, { principal: Principal & { purposeClaim?: string }; until: number }>();
  const skewMs = config.auth.clockSkewSeconds * 1000;
  return {
    async verify(token) {
      const hit = verified.get(token);
      if (hit) {
        if (Date.now() <= hit.until && isKnownAgency(hit.principal.agency)) return hit.principal;
        verified.delete(token);
      }
      const principal = await verifyUncached(token);
      if (verified.size >= CACHE_MAX) verified.clear();
      verified.set(token, { principal, until: Math.min(Date.now() + CACHE_MS, principal.expiresAt * 1000 + skewMs) });
      return principal;
    },
  };

  async function verifyUncached(token: string): Promise<Principal & { purposeClaim?: string; expiresAt: number }> {
    {
      let payload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          algorithms: [...TOKEN_ALGORITHMS],
          issuer: config.auth.issuer,
          audience: config.auth.audience,
          clockTolerance: config.auth.clockSkewSeconds,
          requiredClaims: ['exp', 'sub'],
        }));
      } catch (err) {
        if (err instanceof KeySetUnavailable) {
          // 503, not 401: the caller's token may be fine, and a retry later may succeed.
          throw new GatewayError(
            `the identity provider's key set (auth.jwksUrl) cannot be read (${err.message}), so no token can be verified now; try again later`,
            GatewayErrorCode.SERVICE_UNAVAILABLE,
            { status: 503 },
          );
        }
        throw new UnauthenticatedError(reasonOf(err));
      }
      const agency = payload.agency;
      if (typeof agency !== 'string' || !isKnownAgency(agency)) {
        throw new UnauthenticatedError('token claim agency does not name a known department');
      }
      const roles = payload.roles;
      if (!Array.isArray(roles) || roles.length === 0 || !roles.every((r) => (ROLES as readonly unknown[]).includes(r))) {
        throw new UnauthenticatedError(`token claim roles must list some of: ${ROLES.join(', ')}`);
      }
      return {
        agency,
        subject: payload.sub!,
        roles: roles as Role[],
        via: 'token',
        purposeClaim: typeof payload.purpose === 'string' ? payload.purpose : undefined,
        expiresAt: payload.exp!,
      };
    }
  }
}

/** Verified tokens kept, and for how long at most. */
const CACHE_MAX = 10_000;
const CACHE_MS = 60_000;
