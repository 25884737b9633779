import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import { ConfigError } from '../../src/shared/errors.ts';

const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');
import { runServerToExit } from '../helpers/process.ts';

type Env = Record<string, string | undefined>;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alter-config-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

let fileCount = 0;
/** Writes a YAML config file into the temp directory and returns its path. */
async function yamlFile(text: string): Promise<string> {
  const path = join(dir, `alter-${++fileCount}.yaml`);
  await writeFile(path, text);
  return path;
}

/** The ConfigError `loadConfig(env)` throws (fails the test when it returns or throws something else). */
function configError(env: Env): ConfigError {
  let thrown: unknown;
  try {
    loadConfig(env);
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) throw new Error(`loadConfig(${JSON.stringify(env)}) did not throw`);
  expect(thrown).toBeInstanceOf(ConfigError);
  const err = thrown as ConfigError;
  // the message leads with the setting's name, so the operator sees what to fix
  expect(err.message.startsWith(`${err.setting}: `)).toBe(true);
  return err;
}

describe('loadConfig defaults', () => {
  test('an empty environment (and no alter.yaml) gives the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      host: '0.0.0.0',
      issuer: 'http://localhost:8080',
      dataDir: './data',
      redisPrefix: 'alter',
      trustProxy: false,
      logLevel: 'info',
      tokens: { ttlSeconds: 14400, signingAlg: 'EdDSA', audiences: ['http://localhost:8080'] },
      clientAssertion: { maxLifetimeSeconds: 300, clockToleranceSeconds: 5 },
      http: { bodyLimitBytes: 57344 },
      maintenanceIntervalMs: 60_000,
      policy: { kind: 'file', path: 'data/policy.yaml', seed: true, pollIntervalMs: 5000 },
      policySyncIntervalMs: 15_000,
      audit: { commit: 'sync', checkpointEvery: 1000, checkpointIntervalMs: 60_000, verifyIntervalMs: 3_600_000 },
      masterKey: { source: 'file', path: 'data/master.key', generate: true },
      vault: { store: 'aes', kek: 'local', kekRotationMs: 30 * 24 * 3_600_000, rewrapIntervalMs: 60_000 },
      allowInsecureJwksUri: false,
      connect: {
        providersDir: resolve('data/providers'), allowInsecureProviderUrls: false, sessionTtlSeconds: 900,
        refreshIntervalMs: 60_000, refreshAheadSeconds: 300, refreshMarginSeconds: 60, upstreamTimeoutSeconds: 15,
      },
      proxy: {
        connectTimeoutMs: 5000, headersTimeoutMs: 30_000, bodyTimeoutMs: 60_000, keepAliveTimeoutMs: 30_000, connectionsPerOrigin: 256,
        maxRetries: 2, retryBaseMs: 100, maxRetryAfterMs: 10_000, replayableBodyBytes: 65_536, signedBodyLimitBytes: 10 * 1024 * 1024, maxBodyBytes: 1024 ** 3,
      },
    });
  });

  test('no DATABASE_URL, REDIS_URL or admin key unless configured', () => {
    const config = loadConfig({});
    expect(config).not.toHaveProperty('databaseUrl');
    expect(config).not.toHaveProperty('redisUrl');
    expect(config).not.toHaveProperty('adminKey');
  });

  test('the default issuer follows PORT', () => {
    const config = loadConfig({ PORT: '9090' });
    expect(config.port).toBe(9090);
    expect(config.issuer).toBe('http://localhost:9090');
    expect(config.tokens.audiences).toEqual(['http://localhost:9090']);
  });

  test('empty environment values count as unset', () => {
    const config = loadConfig({ PORT: '', ALTER_ISSUER: '', ALTER_TOKEN_TTL: '', ALTER_ADMIN_KEY: '', ALTER_LOG_LEVEL: '' });
    expect(config.port).toBe(8080);
    expect(config.issuer).toBe('http://localhost:8080');
    expect(config.tokens.ttlSeconds).toBe(14400);
    expect(config.logLevel).toBe('info');
    expect(config).not.toHaveProperty('adminKey');
  });
});

describe('loadConfig environment overrides', () => {
  test('every variable is read', () => {
    const adminKey = 'k'.repeat(32);
    const config = loadConfig({
      PORT: '3000',
      ALTER_HOST: '127.0.0.1',
      ALTER_ISSUER: 'https://auth.example.com/',
      ALTER_DATA_DIR: '/var/lib/alter',
      DATABASE_URL: 'postgres://alter@db:5432/alter',
      REDIS_URL: 'rediss://cache:6380',
      ALTER_REDIS_PREFIX: 'tenant-x',
      ALTER_ADMIN_KEY: adminKey,
      ALTER_TRUST_PROXY: 'true',
      ALTER_LOG_LEVEL: 'debug',
      ALTER_TOKEN_TTL: '1h',
      ALTER_SIGNING_ALG: 'ES256',
      ALTER_AUDIENCES: 'https://api.example.com, https://mcp.example.com,,',
      ALTER_ALLOW_INSECURE_JWKS_URI: '1',
      ALTER_POLICY: '/etc/alter/policy.yaml',
      ALTER_POLICY_POLL: '2s',
      ALTER_AUDIT_CHECKPOINT_EVERY: '50',
      ALTER_AUDIT_CHECKPOINT_INTERVAL: '10s',
      ALTER_AUDIT_VERIFY_INTERVAL: '10m',
      ALTER_AUDIT_EXPORTERS: '/etc/alter/exporters.yaml',
      ALTER_AUDIT_COMMIT: 'async',
      ALTER_MASTER_KEY: MASTER_KEY,
      ALTER_VAULT_KEK_ROTATION: '7d',
      ALTER_PROVIDERS_DIR: '/etc/alter/providers',
      ALTER_ALLOW_INSECURE_PROVIDER_URLS: 'true',
      ALTER_CONNECT_SESSION_TTL: '5m',
      ALTER_REFRESH_INTERVAL: '30s',
      ALTER_PROXY_TIMEOUT: '5s',
    });
    expect(config).toEqual({
      port: 3000,
      host: '127.0.0.1',
      // trailing slash removed (RFC 8414 issuer identifiers are compared as strings)
      issuer: 'https://auth.example.com',
      dataDir: '/var/lib/alter',
      databaseUrl: 'postgres://alter@db:5432/alter',
      redisUrl: 'rediss://cache:6380',
      redisPrefix: 'tenant-x',
      adminKey,
      trustProxy: true,
      logLevel: 'debug',
      tokens: {
        ttlSeconds: 3600,
        signingAlg: 'ES256',
        audiences: ['https://auth.example.com', 'https://api.example.com', 'https://mcp.example.com'],
      },
      clientAssertion: { maxLifetimeSeconds: 300, clockToleranceSeconds: 5 },
      http: { bodyLimitBytes: 57344 },
      maintenanceIntervalMs: 60_000,
      policy: { kind: 'file', path: '/etc/alter/policy.yaml', seed: false, pollIntervalMs: 2000 },
      policySyncIntervalMs: 15_000,
      audit: { commit: 'async', checkpointEvery: 50, checkpointIntervalMs: 10_000, verifyIntervalMs: 600_000, exportersFile: '/etc/alter/exporters.yaml' },
      masterKey: { source: 'env', key: Buffer.from(MASTER_KEY, 'base64') },
      vault: { store: 'aes', kek: 'local', kekRotationMs: 7 * 24 * 3_600_000, rewrapIntervalMs: 60_000 },
      allowInsecureJwksUri: true,
      connect: {
        providersDir: '/etc/alter/providers', allowInsecureProviderUrls: true, sessionTtlSeconds: 300,
        refreshIntervalMs: 30_000, refreshAheadSeconds: 300, refreshMarginSeconds: 60, upstreamTimeoutSeconds: 15,
      },
      proxy: {
        connectTimeoutMs: 5000, headersTimeoutMs: 5000, bodyTimeoutMs: 60_000, keepAliveTimeoutMs: 30_000, connectionsPerOrigin: 256,
        maxRetries: 2, retryBaseMs: 100, maxRetryAfterMs: 10_000, replayableBodyBytes: 65_536, signedBodyLimitBytes: 10 * 1024 * 1024, maxBodyBytes: 1024 ** 3,
      },
    });
  });

  test('HashiCorp Vault as the store and Transit as the KEK: the master key is not needed', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://db/alter', ALTER_VAULT: 'hashicorp', ALTER_VAULT_KEK: 'transit', VAULT_ADDR: 'https://vault:8200/', VAULT_TOKEN: 'hvs.x', VAULT_NAMESPACE: 'team-a' });
    expect(config.masterKey).toBeUndefined();
    expect(config.vault).toMatchObject({
      store: 'hashicorp', kek: 'transit',
      hashicorp: { address: 'https://vault:8200', token: 'hvs.x', namespace: 'team-a', kvMount: 'secret', transitMount: 'transit', transitKey: 'alter-kek' },
    });
  });

  test('a git policy source: URL, branch, path and poll interval', () => {
    expect(loadConfig({ ALTER_POLICY_GIT_URL: 'https://git.example.com/sec/policies.git', ALTER_POLICY_GIT_BRANCH: 'prod', ALTER_POLICY_GIT_PATH: 'alter/policy.yaml' }).policy).toEqual({
      kind: 'git', url: 'https://git.example.com/sec/policies.git', branch: 'prod', path: 'alter/policy.yaml', pollIntervalMs: 30_000,
    });
    expect(loadConfig({ ALTER_POLICY_GIT_URL: 'git@github.com:acme/policies.git' }).policy).toMatchObject({ branch: 'main', path: 'policy.yaml' });
  });

  test('postgresql: and redis: schemes are accepted too', () => {
    const config = loadConfig({ DATABASE_URL: 'postgresql://db/alter', REDIS_URL: 'redis://cache:6379/2', ALTER_MASTER_KEY: MASTER_KEY });
    expect(config.databaseUrl).toBe('postgresql://db/alter');
    expect(config.redisUrl).toBe('redis://cache:6379/2');
  });

  test.each([
    ['900', 900],
    ['15m', 900],
    ['4h', 14400],
    ['24h', 86400],
    ['1d', 86400],
    ['86400', 86400],
    [' 30m ', 1800],
  ])('ALTER_TOKEN_TTL %j is %i seconds', (value, seconds) => {
    expect(loadConfig({ ALTER_TOKEN_TTL: value }).tokens.ttlSeconds).toBe(seconds);
  });

  test('the issuer is always the first audience and is not repeated', () => {
    const config = loadConfig({ ALTER_ISSUER: 'https://a.example', ALTER_AUDIENCES: 'https://a.example,https://b.example,https://b.example' });
    expect(config.tokens.audiences).toEqual(['https://a.example', 'https://b.example']);
  });

  test.each([
    ['yes', true],
    ['on', true],
    ['TRUE', true],
    ['no', false],
    ['off', false],
    ['0', false],
  ])('ALTER_TRUST_PROXY %j is %s', (value, expected) => {
    expect(loadConfig({ ALTER_TRUST_PROXY: value }).trustProxy).toBe(expected);
  });

  test('PORT 0 (any free port) is allowed with an explicit issuer', () => {
    expect(loadConfig({ PORT: '0', ALTER_ISSUER: 'https://auth.example.com' }).port).toBe(0);
  });
});

describe('loadConfig with a YAML file (ALTER_CONFIG)', () => {
  test('the file supplies settings', async () => {
    const path = await yamlFile(
      [
        'port: 7070',
        'host: 127.0.0.1',
        'issuer: https://auth.from-file.example',
        'dataDir: /srv/alter',
        'databaseUrl: postgres://file@db/alter',
        'redisUrl: redis://file-cache:6379',
        'logLevel: warn',
        'trustProxy: true',
        'tokenTtl: 2h',
        'signingAlg: ES256',
        'audiences:',
        '  - https://api.from-file.example',
        'allowInsecureJwksUri: true',
        'masterKeyFile: /run/secrets/alter-master-key',
        '',
      ].join('\n'),
    );
    const config = loadConfig({ ALTER_CONFIG: path });
    expect(config.masterKey).toEqual({ source: 'file', path: '/run/secrets/alter-master-key', generate: false });
    expect(config).toMatchObject({
      port: 7070,
      host: '127.0.0.1',
      issuer: 'https://auth.from-file.example',
      dataDir: '/srv/alter',
      databaseUrl: 'postgres://file@db/alter',
      redisUrl: 'redis://file-cache:6379',
      logLevel: 'warn',
      trustProxy: true,
      tokens: { ttlSeconds: 7200, signingAlg: 'ES256', audiences: ['https://auth.from-file.example', 'https://api.from-file.example'] },
      allowInsecureJwksUri: true,
    });
  });

  test('a numeric tokenTtl in the file is seconds', async () => {
    const path = await yamlFile('tokenTtl: 1800\n');
    expect(loadConfig({ ALTER_CONFIG: path }).tokens.ttlSeconds).toBe(1800);
  });

  test('the environment wins over the file', async () => {
    const path = await yamlFile(
      'port: 7070\nissuer: https://file.example\ndataDir: /from/file\nlogLevel: warn\ntokenTtl: 2h\nsigningAlg: ES256\ntrustProxy: true\naudiences: [https://file-api.example]\n',
    );
    const config = loadConfig({
      ALTER_CONFIG: path,
      PORT: '7171',
      ALTER_ISSUER: 'https://env.example',
      ALTER_DATA_DIR: '/from/env',
      ALTER_LOG_LEVEL: 'error',
      ALTER_TOKEN_TTL: '30m',
      ALTER_SIGNING_ALG: 'EdDSA',
      ALTER_TRUST_PROXY: 'false',
      ALTER_AUDIENCES: 'https://env-api.example',
    });
    expect(config).toMatchObject({
      port: 7171,
      issuer: 'https://env.example',
      dataDir: '/from/env',
      logLevel: 'error',
      trustProxy: false,
      tokens: { ttlSeconds: 1800, signingAlg: 'EdDSA', audiences: ['https://env.example', 'https://env-api.example'] },
    });
  });

  test('settings the environment leaves unset still come from the file', async () => {
    const path = await yamlFile('port: 7070\nlogLevel: warn\n');
    const config = loadConfig({ ALTER_CONFIG: path, ALTER_LOG_LEVEL: 'debug' });
    expect(config.port).toBe(7070);
    expect(config.issuer).toBe('http://localhost:7070');
    expect(config.logLevel).toBe('debug');
  });

  test('an empty file is no settings', async () => {
    const path = await yamlFile('');
    expect(loadConfig({ ALTER_CONFIG: path })).toEqual(loadConfig({}));
  });

  test('the example config shipped in config/ loads', () => {
    expect(() => loadConfig({ ALTER_CONFIG: join(import.meta.dirname, '../../config/alter.example.yaml') })).not.toThrow();
  });
});

describe('bad values throw ConfigError naming the setting', () => {
  test.each<[string, Env, string]>([
    ['PORT not a number', { PORT: 'abc' }, 'PORT'],
    ['PORT above 65535', { PORT: '70000' }, 'PORT'],
    ['PORT negative', { PORT: '-1' }, 'PORT'],
    ['PORT fractional', { PORT: '80.5' }, 'PORT'],
    ['ALTER_ISSUER not a URL', { ALTER_ISSUER: 'not a url' }, 'ALTER_ISSUER'],
    ['ALTER_ISSUER ftp:', { ALTER_ISSUER: 'ftp://x' }, 'ALTER_ISSUER'],
    ['ALTER_ISSUER with a query', { ALTER_ISSUER: 'https://auth.example.com?tenant=a' }, 'ALTER_ISSUER'],
    ['ALTER_ISSUER with a fragment', { ALTER_ISSUER: 'https://auth.example.com#x' }, 'ALTER_ISSUER'],
    ['ALTER_ISSUER with an empty query', { ALTER_ISSUER: 'https://auth.example.com?' }, 'ALTER_ISSUER'],
    ['ALTER_ISSUER with credentials', { ALTER_ISSUER: 'https://user:pw@auth.example.com' }, 'ALTER_ISSUER'],
    ['PORT in hex', { PORT: '0x1F90' }, 'PORT'],
    ['both a policy file and a git policy', { ALTER_POLICY: 'p.yaml', ALTER_POLICY_GIT_URL: 'https://git.example.com/p.git' }, 'ALTER_POLICY'],
    ['ALTER_POLICY_POLL above a minute', { ALTER_POLICY_POLL: '5m' }, 'ALTER_POLICY_POLL'],
    ['an unknown vault', { ALTER_VAULT: 'keepass' }, 'ALTER_VAULT'],
    ['AWS without a region', { ALTER_VAULT: 'aws' }, 'AWS_REGION'],
    ['GCP without a project', { ALTER_VAULT: 'gcp' }, 'ALTER_GCP_PROJECT'],
    ['Azure without a vault URL', { ALTER_VAULT: 'azure' }, 'ALTER_AZURE_KEY_VAULT_URL'],
    ['HashiCorp Vault without an address', { ALTER_VAULT: 'hashicorp', VAULT_TOKEN: 't' }, 'VAULT_ADDR'],
    ['HashiCorp Vault without a token', { ALTER_VAULT_KEK: 'transit', VAULT_ADDR: 'https://vault:8200' }, 'VAULT_TOKEN'],
    ['ALTER_VAULT_KEK_ROTATION too short', { ALTER_VAULT_KEK_ROTATION: '5m' }, 'ALTER_VAULT_KEK_ROTATION'],
    ['no master key in the production profile', { DATABASE_URL: 'postgres://db/alter' }, 'ALTER_MASTER_KEY'],
    ['a master key of the wrong length', { ALTER_MASTER_KEY: Buffer.alloc(16).toString('base64') }, 'ALTER_MASTER_KEY'],
    ['both a master key and a key file', { ALTER_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'), ALTER_MASTER_KEY_FILE: '/k' }, 'ALTER_MASTER_KEY'],
    ['ALTER_AUDIT_CHECKPOINT_EVERY zero', { ALTER_AUDIT_CHECKPOINT_EVERY: '0' }, 'ALTER_AUDIT_CHECKPOINT_EVERY'],
    ['ALTER_AUDIT_COMMIT unknown', { ALTER_AUDIT_COMMIT: 'fast' }, 'ALTER_AUDIT_COMMIT'],
    ['ALTER_AUDIT_COMMIT async on the embedded database', { ALTER_AUDIT_COMMIT: 'async' }, 'ALTER_AUDIT_COMMIT'],
    ['ALTER_AUDIT_VERIFY_INTERVAL too short', { ALTER_AUDIT_VERIFY_INTERVAL: '1s' }, 'ALTER_AUDIT_VERIFY_INTERVAL'],
    ['ALTER_POLICY_POLL not a duration', { ALTER_POLICY_POLL: 'often' }, 'ALTER_POLICY_POLL'],
    ['ALTER_POLICY_GIT_URL not a git URL', { ALTER_POLICY_GIT_URL: 'policies' }, 'ALTER_POLICY_GIT_URL'],
    ['ALTER_POLICY_GIT_PATH outside the repository', { ALTER_POLICY_GIT_URL: 'https://git.example.com/p.git', ALTER_POLICY_GIT_PATH: '../etc/passwd' }, 'ALTER_POLICY_GIT_PATH'],
    ['PORT in exponent form', { PORT: '1e3' }, 'PORT'],
    ['PORT 0 without an issuer', { PORT: '0' }, 'ALTER_ISSUER'],
    ['DATABASE_URL mysql:', { DATABASE_URL: 'mysql://root@db:3306/alter' }, 'DATABASE_URL'],
    ['DATABASE_URL not a URL', { DATABASE_URL: 'localhost:5432' }, 'DATABASE_URL'],
    ['REDIS_URL http:', { REDIS_URL: 'http://cache:6379' }, 'REDIS_URL'],
    ['ALTER_TOKEN_TTL 1m (below 15m)', { ALTER_TOKEN_TTL: '1m' }, 'ALTER_TOKEN_TTL'],
    ['ALTER_TOKEN_TTL 899 (just below 15m)', { ALTER_TOKEN_TTL: '899' }, 'ALTER_TOKEN_TTL'],
    ['ALTER_TOKEN_TTL 25h (above 24h)', { ALTER_TOKEN_TTL: '25h' }, 'ALTER_TOKEN_TTL'],
    ['ALTER_TOKEN_TTL 86401 (just above 24h)', { ALTER_TOKEN_TTL: '86401' }, 'ALTER_TOKEN_TTL'],
    ['ALTER_TOKEN_TTL abc', { ALTER_TOKEN_TTL: 'abc' }, 'ALTER_TOKEN_TTL'],
    ['ALTER_TOKEN_TTL 0', { ALTER_TOKEN_TTL: '0' }, 'ALTER_TOKEN_TTL'],
    ['ALTER_TOKEN_TTL 1w (unknown unit)', { ALTER_TOKEN_TTL: '1w' }, 'ALTER_TOKEN_TTL'],
    ['ALTER_SIGNING_ALG HS256', { ALTER_SIGNING_ALG: 'HS256' }, 'ALTER_SIGNING_ALG'],
    ['ALTER_SIGNING_ALG none', { ALTER_SIGNING_ALG: 'none' }, 'ALTER_SIGNING_ALG'],
    ['ALTER_LOG_LEVEL loud', { ALTER_LOG_LEVEL: 'loud' }, 'ALTER_LOG_LEVEL'],
    ['ALTER_ADMIN_KEY of 31 characters', { ALTER_ADMIN_KEY: 'x'.repeat(31) }, 'ALTER_ADMIN_KEY'],
    ['ALTER_TRUST_PROXY maybe', { ALTER_TRUST_PROXY: 'maybe' }, 'ALTER_TRUST_PROXY'],
    ['ALTER_ALLOW_INSECURE_JWKS_URI maybe', { ALTER_ALLOW_INSECURE_JWKS_URI: 'maybe' }, 'ALTER_ALLOW_INSECURE_JWKS_URI'],
    ['ALTER_AUDIENCES with a non-URL', { ALTER_AUDIENCES: 'https://ok.example,not a url' }, 'ALTER_AUDIENCES'],
    ['ALTER_AUDIENCES with urn:', { ALTER_AUDIENCES: 'urn:example:api' }, 'ALTER_AUDIENCES'],
  ])('%s', (_name, env, setting) => {
    expect(configError(env).setting).toBe(setting);
  });

  test('the messages say what is wrong', () => {
    expect(configError({ PORT: 'abc' }).message).toBe('PORT: must be a TCP port number (0-65535), got "abc"');
    expect(configError({ ALTER_TOKEN_TTL: '1m' }).message).toBe('ALTER_TOKEN_TTL: must be between 15m and 24h, got 60s');
    expect(configError({ ALTER_SIGNING_ALG: 'HS256' }).message).toBe('ALTER_SIGNING_ALG: must be EdDSA or ES256, got "HS256"');
    expect(configError({ REDIS_URL: 'http://cache:6379' }).message).toContain('redis: or rediss:');
  });

  test('an admin key of exactly 32 characters is accepted', () => {
    expect(loadConfig({ ALTER_ADMIN_KEY: 'x'.repeat(32) }).adminKey).toBe('x'.repeat(32));
  });

  test('an unknown key in the YAML file names the file and the key', async () => {
    const path = await yamlFile('port: 8080\nadminKey: something-secret-and-long-enough-000\n');
    const err = configError({ ALTER_CONFIG: path });
    expect(err.setting).toBe(`${path}: adminKey`);
    expect(err.message).toContain('unknown setting');
  });

  test('a misspelt key in the YAML file is refused, not ignored', async () => {
    const path = await yamlFile('tokenTTL: 1h\n');
    expect(configError({ ALTER_CONFIG: path }).setting).toBe(`${path}: tokenTTL`);
  });

  test('malformed YAML names ALTER_CONFIG', async () => {
    const path = await yamlFile('port: [8080\nissuer: "unterminated\n');
    const err = configError({ ALTER_CONFIG: path });
    expect(err.setting).toBe('ALTER_CONFIG');
    expect(err.message).toContain('is not valid YAML');
    expect(err.message).toContain(path);
  });

  test('a YAML file that is not a mapping names ALTER_CONFIG', async () => {
    const list = await yamlFile('- port: 8080\n');
    expect(configError({ ALTER_CONFIG: list }).setting).toBe('ALTER_CONFIG');
    const scalar = await yamlFile('8080\n');
    expect(configError({ ALTER_CONFIG: scalar }).setting).toBe('ALTER_CONFIG');
  });

  test('a missing ALTER_CONFIG file names ALTER_CONFIG', () => {
    const path = join(dir, 'does-not-exist.yaml');
    const err = configError({ ALTER_CONFIG: path });
    expect(err.setting).toBe('ALTER_CONFIG');
    expect(err.message).toContain(`cannot read ${path}`);
  });

  test('an ALTER_CONFIG path that is a directory names ALTER_CONFIG', () => {
    const err = configError({ ALTER_CONFIG: dir });
    expect(err.setting).toBe('ALTER_CONFIG');
    expect(err.message).toContain(`cannot read ${dir}`);
  });

  test.each<[string, string, string]>([
    ['port', 'port: abc\n', 'PORT'],
    ['port out of range', 'port: 70000\n', 'PORT'],
    ['issuer', 'issuer: ftp://x\n', 'ALTER_ISSUER'],
    ['databaseUrl', 'databaseUrl: mysql://db/alter\n', 'DATABASE_URL'],
    ['redisUrl', 'redisUrl: http://cache\n', 'REDIS_URL'],
    ['tokenTtl', 'tokenTtl: 25h\n', 'ALTER_TOKEN_TTL'],
    ['tokenTtl negative number', 'tokenTtl: -5\n', 'ALTER_TOKEN_TTL'],
    ['signingAlg', 'signingAlg: HS256\n', 'ALTER_SIGNING_ALG'],
    ['logLevel', 'logLevel: loud\n', 'ALTER_LOG_LEVEL'],
    ['trustProxy', 'trustProxy: sometimes\n', 'ALTER_TRUST_PROXY'],
    ['audiences', 'audiences: [not-a-url]\n', 'ALTER_AUDIENCES'],
  ])('a bad %s in the file is reported under its variable name', async (_name, text, setting) => {
    const path = await yamlFile(text);
    expect(configError({ ALTER_CONFIG: path }).setting).toBe(setting);
  });

  test('a bad file value is not checked when the environment overrides it', async () => {
    const path = await yamlFile('port: abc\nlogLevel: loud\n');
    const config = loadConfig({ ALTER_CONFIG: path, PORT: '8081', ALTER_LOG_LEVEL: 'warn' });
    expect(config.port).toBe(8081);
    expect(config.logLevel).toBe('warn');
  });
});

describe('the server process refuses a bad configuration', () => {
  test('PORT=abc: exit code 78 (EX_CONFIG), stderr names PORT, nothing on stdout', async () => {
    const result = await runServerToExit({ PORT: 'abc', ALTER_DATA_DIR: join(dir, 'never-created') });
    expect(result.signal).toBeNull();
    expect(result.code).toBe(78);
    expect(result.stderr).toBe('alter: configuration error: PORT: must be a TCP port number (0-65535), got "abc"\n');
    expect(result.stdout).toBe('');
  }, 20_000);

  test('PORT=0 without ALTER_ISSUER: start-up refuses (a random port cannot be the issuer)', async () => {
    const result = await runServerToExit({ PORT: '0', ALTER_HOST: '127.0.0.1', ALTER_DATA_DIR: join(dir, 'port-zero') });
    expect(result.code).toBe(78);
    expect(result.stderr).toBe('alter: configuration error: ALTER_ISSUER: must be set when PORT is 0 (a random port cannot be the issuer)\n');
  }, 40_000);

  test('an unknown key in ALTER_CONFIG: exit code 78, stderr names the key', async () => {
    const path = await yamlFile('prot: 8080\n');
    const result = await runServerToExit({ ALTER_CONFIG: path, PORT: '0', ALTER_DATA_DIR: join(dir, 'never-created') });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(`alter: configuration error: ${path}: prot: unknown setting`);
  }, 20_000);
});
