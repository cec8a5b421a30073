import { ENV_OVERRIDES, gatewayConfigSchema, type GatewayConfig, type GatewayConfigInput } from './GatewayConfig';

/** Start-up refuses an invalid configuration; the message names every bad key. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid gateway configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Merges the file configuration with the documented environment overrides, validates the
 * result and returns it frozen. Pure: `env` is passed in (only src/main.ts reads process.env).
 * @throws ConfigError listing every invalid key, e.g. `server.port (from PORT="abc"): expected an integer`.
 */
export function loadConfig(fileConfig: GatewayConfigInput, env: Record<string, string | undefined>): GatewayConfig {
  const merged = structuredClone(fileConfig ?? {}) as Record<string, unknown>;
  const fromEnv = new Map<string, string>();
  const problems: string[] = [];
  for (const o of ENV_OVERRIDES) {
    const raw = env[o.env];
    if (raw === undefined || raw === '') continue;
    fromEnv.set(o.key, `${o.env}=${JSON.stringify(raw)}`);
    let value: unknown = raw;
    if (o.parse === 'int') {
      value = /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
    } else if (o.parse === 'bool') {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) value = true;
      else if (['0', 'false', 'no', 'off'].includes(v)) value = false;
      else {
        problems.push(`${o.key} (from ${o.env}=${JSON.stringify(raw)}): expected true/false, 1/0, yes/no or on/off`);
        continue;
      }
    }
    setPath(merged, o.key, value);
  }
  const parsed = gatewayConfigSchema.safeParse(merged);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path.join('.') || '(root)';
      const src = fromEnv.get(key);
      const where = src ? `${key} (from ${src})` : `${key} (gateway.config.ts)`;
      const msg =
        issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}` : issue.message;
      problems.push(`${where}: ${msg}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return deepFreeze(parsed.data!);
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (typeof cur[p] !== 'object' || cur[p] === null) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = value;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
