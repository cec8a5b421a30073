/**
 * The README's configuration table is the operators' reference: it must list every key (with
 * the environment variable that overrides it) and nothing that does not exist.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ENV_OVERRIDES, gatewayConfigSchema } from '../GatewayConfig';

function leafKeys(o: unknown, prefix = ''): string[] {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return [prefix];
  return Object.entries(o).flatMap(([k, v]) => leafKeys(v, prefix ? `${prefix}.${k}` : k));
}

const readme = readFileSync(path.join(__dirname, '../../../README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
const rows = [...section.matchAll(/^\| `([a-zA-Z.]+)` \| [^|]* \| ([^|]*) \|/gm)].map((m) => ({ key: m[1], env: m[2].trim().replace(/`/g, '') }));

it('lists every configuration key, and only existing ones', () => {
  const keys = new Set([...leafKeys(gatewayConfigSchema.parse({})), ...ENV_OVERRIDES.map((o) => o.key), 'province.credentialsEnv']);
  const listed = new Set(rows.map((r) => r.key));
  expect([...keys].filter((k) => !listed.has(k)).sort()).toEqual([]);
  expect([...listed].filter((k) => !keys.has(k)).sort()).toEqual([]);
});

it('names the environment variable of every override', () => {
  for (const o of ENV_OVERRIDES) expect({ key: o.key, env: rows.find((r) => r.key === o.key)?.env }).toEqual({ key: o.key, env: o.env });
});
