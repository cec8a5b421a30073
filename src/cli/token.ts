/**
 * `npm run token -- --agency <code> --roles <r,…> [--subject <id>] [--purpose <code>] [--ttl <seconds>]`
 * prints a JWT signed by the development key. Refuses outside development mode: real tokens
 * come from the identity provider.
 */
import { parseArgs } from 'node:util';
import { importJWK, SignJWT } from 'jose';
import fileConfig from '../../gateway.config';
import { loadOrCreateDevKey } from '../auth/devKey';
import { ROLES } from '../auth/Principal';
import { loadConfig } from '../config/loadConfig';

async function main(): Promise<void> {
  // The mode first: a production configuration is refused for what it is, whatever else it lacks.
  const mode = process.env.GATEWAY_MODE || fileConfig.mode || 'development';
  if (mode !== 'development') {
    throw new Error(`npm run token works only in development mode (mode is "${mode}"); get production tokens from the identity provider`);
  }
  const config = loadConfig(fileConfig, process.env);
  const { values } = parseArgs({
    options: {
      agency: { type: 'string' },
      roles: { type: 'string', default: 'consumer' },
      subject: { type: 'string', default: 'developer' },
      purpose: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
    },
  });
  if (!values.agency) throw new Error('--agency <department code> is required, e.g. --agency HZ-SCJGJ');
  const roles = values.roles!.split(',').map((r) => r.trim()).filter(Boolean);
  const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (unknown.length) throw new Error(`unknown role(s) ${unknown.join(', ')}; roles are ${ROLES.join(', ')}`);
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 30 * 86400) throw new Error('--ttl must be whole seconds between 1 and 2592000');
  const key = await loadOrCreateDevKey(config.auth.devKeyDir);
  const token = await new SignJWT({ agency: values.agency, roles, ...(values.purpose ? { purpose: values.purpose } : {}) })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' })
    .setIssuer(config.auth.issuer)
    .setAudience(config.auth.audience)
    .setSubject(values.subject!)
    .setIssuedAt()
    .setExpirationTime(`${ttl}s`)
    .sign(await importJWK(key.privateJwk, 'EdDSA'));
  process.stdout.write(`${token}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
