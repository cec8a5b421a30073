import { loadConfig, ConfigError } from '../loadConfig';
import fileConfig from '../../../gateway.config';

describe('loadConfig', () => {
  it('fills defaults and applies environment overrides', () => {
    const c = loadConfig(fileConfig, { PORT: '4100', DATABASE_URL: 'postgres://x@127.0.0.1/db', DEMO_LOAD: 'off' });
    expect(c.server.port).toBe(4100);
    expect(c.database.url).toBe('postgres://x@127.0.0.1/db');
    expect(c.demo.loadOnEmptyDatabase).toBe(false);
    expect(c.limits.maxPageSize).toBe(100);
    expect(Object.isFrozen(c.server)).toBe(true);
  });

  it.each([
    [{ PORT: 'abc' }, 'server.port (from PORT="abc")'],
    [{ PORT: '70000' }, 'server.port (from PORT="70000")'],
    [{ PORT: '-1' }, 'server.port (from PORT="-1")'],
    [{ DATABASE_URL: 'mysql://x' }, 'database.url (from DATABASE_URL="mysql://x"): must be a postgres://'],
    [{ GATEWAY_MODE: 'staging' }, 'mode (from GATEWAY_MODE="staging")'],
    [{ DEMO_LOAD: 'maybe' }, 'demo.loadOnEmptyDatabase (from DEMO_LOAD="maybe"): expected true/false'],
  ])('rejects %j naming the key', (env, expected) => {
    expect(() => loadConfig(fileConfig, env)).toThrow(ConfigError);
    expect(() => loadConfig(fileConfig, env)).toThrow(expected);
  });

  it('reports every invalid key of the file at once, including unknown keys', () => {
    try {
      loadConfig({ server: { port: 70000 }, limits: { defaultPageSize: 500, maxPageSize: 50 }, nope: 1 } as never, {});
      throw new Error('expected ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const problems = (e as ConfigError).problems.join('\n');
      expect(problems).toContain('server.port (gateway.config.ts)');
      expect(problems).toContain('unknown key(s) "nope"');
    }
  });

  it('refuses production mode without a key source, naming both ways to give one', () => {
    const env = { GATEWAY_MODE: 'production', AUDIT_HASH_KEY: 'a'.repeat(64), HOST: '0.0.0.0' };
    expect(() => loadConfig(fileConfig, env)).toThrow(/auth \(.*\): production mode needs keys to verify tokens with: set auth.jwksUrl \(AUTH_JWKS_URL\) or auth.publicKeysDir \(AUTH_PUBLIC_KEYS_DIR\)/);
    expect(loadConfig(fileConfig, { ...env, AUTH_PUBLIC_KEYS_DIR: '/etc/hzgw/keys' }).auth.publicKeysDir).toBe('/etc/hzgw/keys');
    expect(loadConfig(fileConfig, { ...env, AUTH_JWKS_URL: 'https://idp.example/jwks.json' }).auth.jwksUrl).toBe('https://idp.example/jwks.json');
  });

  it('takes the read pool size from the file or DATABASE_READ_POOL_SIZE', () => {
    expect(loadConfig(fileConfig, {}).database.readPoolSize).toBe(4);
    expect(loadConfig({}, {}).database.readPoolSize).toBeUndefined();
    expect(loadConfig(fileConfig, { DATABASE_READ_POOL_SIZE: '8' }).database.readPoolSize).toBe(8);
    expect(() => loadConfig(fileConfig, { DATABASE_READ_POOL_SIZE: '0' })).toThrow(/database.readPoolSize \(from DATABASE_READ_POOL_SIZE="0"\)/);
  });

  it('rejects a default page size larger than the maximum', () => {
    expect(() => loadConfig({ limits: { defaultPageSize: 500, maxPageSize: 50 } }, {})).toThrow(
      'limits.defaultPageSize (gateway.config.ts): must not exceed limits.maxPageSize (50)',
    );
  });
});
