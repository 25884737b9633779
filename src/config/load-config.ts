import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../shared/errors.ts';
import type { AlterConfig, MasterKeyConfig, PolicySourceConfig } from './config.ts';
import { DEFAULTS } from './defaults.ts';
import { parseDurationSeconds } from './duration.ts';

type Env = Record<string, string | undefined>;

/** Settings a config file (`ALTER_CONFIG`, default `./alter.yaml` when present) may hold. */
interface FileSettings {
  port?: number;
  host?: string;
  issuer?: string;
  dataDir?: string;
  databaseUrl?: string;
  redisUrl?: string;
  logLevel?: string;
  trustProxy?: boolean;
  tokenTtl?: string | number;
  signingAlg?: string;
  audiences?: string[];
  allowInsecureJwksUri?: boolean;
  policy?: string;
  policyGitUrl?: string;
  policyGitBranch?: string;
  policyGitPath?: string;
  policyPoll?: string | number;
  auditCheckpointEvery?: number;
  auditCheckpointInterval?: string | number;
  auditVerifyInterval?: string | number;
  auditExporters?: string;
  auditCommit?: string;
  masterKeyFile?: string;
  vaultKekRotation?: string | number;
  vault?: string;
  vaultKek?: string;
  providersDir?: string;
  allowInsecureProviderUrls?: boolean;
  connectSessionTtl?: string | number;
  refreshInterval?: string | number;
}

const FILE_KEYS = new Set<keyof FileSettings>([
  'port', 'host', 'issuer', 'dataDir', 'databaseUrl', 'redisUrl', 'logLevel', 'trustProxy',
  'tokenTtl', 'signingAlg', 'audiences', 'allowInsecureJwksUri',
  'policy', 'policyGitUrl', 'policyGitBranch', 'policyGitPath', 'policyPoll',
  'auditCheckpointEvery', 'auditCheckpointInterval', 'auditVerifyInterval', 'auditExporters', 'auditCommit', 'masterKeyFile', 'vaultKekRotation', 'vault', 'vaultKek',
  'providersDir', 'allowInsecureProviderUrls', 'connectSessionTtl', 'refreshInterval',
]);

function readFile(env: Env): { settings: FileSettings; path?: string } {
  const explicit = env.ALTER_CONFIG;
  const path = explicit ?? (existsSync('alter.yaml') ? 'alter.yaml' : undefined);
  if (!path) return { settings: {} };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError('ALTER_CONFIG', `cannot read ${path}: ${(cause as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (cause) {
    throw new ConfigError('ALTER_CONFIG', `${path} is not valid YAML: ${(cause as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return { settings: {}, path };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError('ALTER_CONFIG', `${path} must be a YAML mapping of settings`);
  }
  for (const key of Object.keys(parsed)) {
    if (!FILE_KEYS.has(key as keyof FileSettings)) {
      throw new ConfigError(`${path}: ${key}`, `unknown setting (known: ${[...FILE_KEYS].join(', ')})`);
    }
  }
  return { settings: parsed as FileSettings, path };
}

function parsePort(name: string, value: unknown): number {
  const text = String(value).trim();
  const n = typeof value === 'number' ? value : /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ConfigError(name, `must be a TCP port number (0-65535), got "${String(value)}"`);
  }
  return n;
}

function parseUrl(name: string, value: string, protocols: string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, `must be a URL, got "${value}"`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, got "${url.protocol}"`);
  }
  return value;
}

function parseBool(name: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  const s = String(value).trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
  throw new ConfigError(name, `must be true or false, got "${String(value)}"`);
}

function pick<T>(envValue: string | undefined, fileValue: T | undefined): string | T | undefined {
  return envValue !== undefined && envValue !== '' ? envValue : fileValue;
}

function loadPolicySource(env: Env, file: FileSettings, dataDir: string): PolicySourceConfig {
  const path = pick(env.ALTER_POLICY, file.policy);
  const gitUrl = pick(env.ALTER_POLICY_GIT_URL, file.policyGitUrl);
  if (path !== undefined && gitUrl !== undefined) {
    throw new ConfigError('ALTER_POLICY', 'set either ALTER_POLICY (a file) or ALTER_POLICY_GIT_URL (a git repository), not both');
  }
  const pollRaw = pick(env.ALTER_POLICY_POLL, file.policyPoll);
  const poll = pollRaw === undefined ? undefined : parseDurationSeconds(pollRaw);
  if (pollRaw !== undefined && (poll === undefined || poll < 1 || poll > 60)) {
    throw new ConfigError('ALTER_POLICY_POLL', `must be a duration from 1s to 60s (edits must apply within a minute), got "${String(pollRaw)}"`);
  }
  if (gitUrl !== undefined) {
    const url = String(gitUrl);
    if (!/^(https?|ssh|git|file):\/\//.test(url) && !/^[\w.-]+@[\w.-]+:/.test(url) && !url.startsWith('/')) {
      throw new ConfigError('ALTER_POLICY_GIT_URL', `must be a git URL (https://, ssh://, git@host:repo, file:// or an absolute path), got "${url}"`);
    }
    const gitPath = String(pick(env.ALTER_POLICY_GIT_PATH, file.policyGitPath) ?? DEFAULTS.policyGitPath);
    if (gitPath.startsWith('/') || gitPath.split('/').includes('..')) {
      throw new ConfigError('ALTER_POLICY_GIT_PATH', `must be a path inside the repository, got "${gitPath}"`);
    }
    return {
      kind: 'git',
      url,
      branch: String(pick(env.ALTER_POLICY_GIT_BRANCH, file.policyGitBranch) ?? DEFAULTS.policyGitBranch),
      path: gitPath,
      pollIntervalMs: poll === undefined ? DEFAULTS.policyGitPollMs : poll * 1000,
    };
  }
  return {
    kind: 'file',
    path: path === undefined ? join(dataDir, DEFAULTS.policyFileName) : String(path),
    seed: path === undefined,
    pollIntervalMs: poll === undefined ? DEFAULTS.policyFilePollMs : poll * 1000,
  };
}

function durationMs(name: string, raw: unknown, fallbackMs: number, minSeconds: number): number {
  if (raw === undefined) return fallbackMs;
  const seconds = parseDurationSeconds(raw as string | number);
  if (seconds === undefined || seconds < minSeconds) {
    throw new ConfigError(name, `must be a duration of at least ${minSeconds}s such as 30s, 5m or 1h, got "${String(raw)}"`);
  }
  return seconds * 1000;
}

function loadMasterKey(env: Env, file: FileSettings, dataDir: string, production: boolean): MasterKeyConfig {
  const raw = env.ALTER_MASTER_KEY || undefined;
  const path = pick(env.ALTER_MASTER_KEY_FILE, file.masterKeyFile);
  if (raw !== undefined && path !== undefined) throw new ConfigError('ALTER_MASTER_KEY', 'set either ALTER_MASTER_KEY or ALTER_MASTER_KEY_FILE, not both');
  if (raw !== undefined) {
    const text = raw.trim();
    const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
    if (key.length !== 32 || !/^[A-Za-z0-9+/=_-]+$/.test(text)) {
      throw new ConfigError('ALTER_MASTER_KEY', 'must be 32 random bytes, base64 or hex (generate one with `openssl rand -base64 32`)');
    }
    return { source: 'env', key };
  }
  if (path !== undefined) return { source: 'file', path: String(path), generate: false };
  if (production) {
    throw new ConfigError('ALTER_MASTER_KEY', 'is required in the production profile, the same on every node (`openssl rand -base64 32`), or point ALTER_MASTER_KEY_FILE at a file holding it');
  }
  return { source: 'file', path: join(dataDir, 'master.key'), generate: true };
}

function loadAudit(env: Env, file: FileSettings, production: boolean): AlterConfig['audit'] {
  const everyRaw = pick(env.ALTER_AUDIT_CHECKPOINT_EVERY, file.auditCheckpointEvery);
  const every = everyRaw === undefined ? DEFAULTS.auditCheckpointEvery : Number(everyRaw);
  if (!Number.isInteger(every) || every < 1 || every > 1_000_000) {
    throw new ConfigError('ALTER_AUDIT_CHECKPOINT_EVERY', `must be a number of entries from 1 to 1000000, got "${String(everyRaw)}"`);
  }
  const exporters = pick(env.ALTER_AUDIT_EXPORTERS, file.auditExporters);
  const commit = String(pick(env.ALTER_AUDIT_COMMIT, file.auditCommit) ?? DEFAULTS.auditCommit);
  if (commit !== 'sync' && commit !== 'async') throw new ConfigError('ALTER_AUDIT_COMMIT', `must be sync or async, got "${commit}"`);
  if (commit === 'async' && !production) {
    throw new ConfigError('ALTER_AUDIT_COMMIT', 'async applies to PostgreSQL (set DATABASE_URL); the embedded database always commits synchronously');
  }
  return {
    commit,
    checkpointEvery: every,
    checkpointIntervalMs: durationMs('ALTER_AUDIT_CHECKPOINT_INTERVAL', pick(env.ALTER_AUDIT_CHECKPOINT_INTERVAL, file.auditCheckpointInterval), DEFAULTS.auditCheckpointIntervalMs, 1),
    verifyIntervalMs: durationMs('ALTER_AUDIT_VERIFY_INTERVAL', pick(env.ALTER_AUDIT_VERIFY_INTERVAL, file.auditVerifyInterval), DEFAULTS.auditVerifyIntervalMs, 10),
    ...(exporters === undefined ? {} : { exportersFile: String(exporters) }),
  };
}

/**
 * Builds the configuration from the environment and an optional YAML file (environment wins).
 * Any bad value throws {@link ConfigError} naming the setting, so start-up stops with a clear
 * message instead of running half-configured.
 */
export function loadConfig(env: Env = process.env): AlterConfig {
  const { settings: file } = readFile(env);

  const port = parsePort('PORT', pick(env.PORT, file.port) ?? DEFAULTS.port);
  const host = String(pick(env.ALTER_HOST, file.host) ?? DEFAULTS.host);
  const issuerRaw = String(pick(env.ALTER_ISSUER, file.issuer) ?? `http://localhost:${port}`);
  if (port === 0 && pick(env.ALTER_ISSUER, file.issuer) === undefined) {
    throw new ConfigError('ALTER_ISSUER', 'must be set when PORT is 0 (a random port cannot be the issuer)');
  }
  const issuer = parseUrl('ALTER_ISSUER', issuerRaw, ['http:', 'https:']).replace(/\/+$/, '');
  const issuerUrl = new URL(issuer);
  if (issuer.includes('?') || issuer.includes('#')) {
    throw new ConfigError('ALTER_ISSUER', 'must not have a query or fragment (RFC 8414 §2)');
  }
  if (issuerUrl.username || issuerUrl.password) {
    throw new ConfigError('ALTER_ISSUER', 'must not contain a user name or password');
  }
  const dataDir = String(pick(env.ALTER_DATA_DIR, file.dataDir) ?? DEFAULTS.dataDir);

  const dbRaw = pick(env.DATABASE_URL, file.databaseUrl);
  const databaseUrl = dbRaw === undefined ? undefined : parseUrl('DATABASE_URL', String(dbRaw), ['postgres:', 'postgresql:']);
  const redisRaw = pick(env.REDIS_URL, file.redisUrl);
  const redisUrl = redisRaw === undefined ? undefined : parseUrl('REDIS_URL', String(redisRaw), ['redis:', 'rediss:']);

  const ttlRaw = pick(env.ALTER_TOKEN_TTL, file.tokenTtl) ?? DEFAULTS.tokenTtlSeconds;
  const ttlSeconds = parseDurationSeconds(ttlRaw);
  if (ttlSeconds === undefined) {
    throw new ConfigError('ALTER_TOKEN_TTL', `must be a duration such as 900, 15m, 4h or 1d, got "${String(ttlRaw)}"`);
  }
  if (ttlSeconds < DEFAULTS.tokenTtlMinSeconds || ttlSeconds > DEFAULTS.tokenTtlMaxSeconds) {
    throw new ConfigError('ALTER_TOKEN_TTL', `must be between 15m and 24h, got ${ttlSeconds}s`);
  }

  const alg = String(pick(env.ALTER_SIGNING_ALG, file.signingAlg) ?? DEFAULTS.signingAlg);
  if (alg !== 'EdDSA' && alg !== 'ES256') {
    throw new ConfigError('ALTER_SIGNING_ALG', `must be EdDSA or ES256, got "${alg}"`);
  }

  const audiencesRaw = env.ALTER_AUDIENCES ? env.ALTER_AUDIENCES.split(',').map((s) => s.trim()).filter(Boolean) : file.audiences;
  const audiences = [issuer, ...(audiencesRaw ?? []).map((a) => parseUrl('ALTER_AUDIENCES', a, ['http:', 'https:']))];

  const logLevel = String(pick(env.ALTER_LOG_LEVEL, file.logLevel) ?? DEFAULTS.logLevel);
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('ALTER_LOG_LEVEL', `must be one of fatal, error, warn, info, debug, trace, silent; got "${logLevel}"`);
  }

  const adminKey = env.ALTER_ADMIN_KEY || undefined;
  if (adminKey !== undefined && adminKey.length < 32) {
    throw new ConfigError('ALTER_ADMIN_KEY', 'must be at least 32 characters (generate one with `openssl rand -hex 32`)');
  }

  return {
    port,
    host,
    issuer,
    dataDir,
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(redisUrl ? { redisUrl } : {}),
    redisPrefix: env.ALTER_REDIS_PREFIX || DEFAULTS.redisPrefix,
    ...(adminKey ? { adminKey } : {}),
    trustProxy: parseBool('ALTER_TRUST_PROXY', pick(env.ALTER_TRUST_PROXY, file.trustProxy) ?? false),
    logLevel,
    tokens: { ttlSeconds, signingAlg: alg, audiences: [...new Set(audiences)] },
    clientAssertion: {
      maxLifetimeSeconds: DEFAULTS.assertionMaxLifetimeSeconds,
      clockToleranceSeconds: DEFAULTS.clockToleranceSeconds,
    },
    http: { bodyLimitBytes: DEFAULTS.bodyLimitBytes },
    maintenanceIntervalMs: DEFAULTS.maintenanceIntervalMs,
    policy: loadPolicySource(env, file, dataDir),
    policySyncIntervalMs: DEFAULTS.policySyncIntervalMs,
    audit: loadAudit(env, file, databaseUrl !== undefined),
    ...loadVault(env, file, dataDir, databaseUrl !== undefined),
    allowInsecureJwksUri: parseBool('ALTER_ALLOW_INSECURE_JWKS_URI', pick(env.ALTER_ALLOW_INSECURE_JWKS_URI, file.allowInsecureJwksUri) ?? false),
    connect: {
      providersDir: resolve(String(pick(env.ALTER_PROVIDERS_DIR, file.providersDir) ?? join(dataDir, 'providers'))),
      allowInsecureProviderUrls: parseBool('ALTER_ALLOW_INSECURE_PROVIDER_URLS', pick(env.ALTER_ALLOW_INSECURE_PROVIDER_URLS, file.allowInsecureProviderUrls) ?? false),
      sessionTtlSeconds: Math.round(durationMs('ALTER_CONNECT_SESSION_TTL', pick(env.ALTER_CONNECT_SESSION_TTL, file.connectSessionTtl), DEFAULTS.connectSessionTtlMs, 60) / 1000),
      refreshIntervalMs: durationMs('ALTER_REFRESH_INTERVAL', pick(env.ALTER_REFRESH_INTERVAL, file.refreshInterval), DEFAULTS.refreshIntervalMs, 1),
      refreshAheadSeconds: DEFAULTS.refreshAheadSeconds,
      refreshMarginSeconds: DEFAULTS.refreshMarginSeconds,
      upstreamTimeoutSeconds: DEFAULTS.upstreamTimeoutSeconds,
    },
    proxy: {
      connectTimeoutMs: DEFAULTS.proxyConnectTimeoutMs,
      headersTimeoutMs: durationMs('ALTER_PROXY_TIMEOUT', env.ALTER_PROXY_TIMEOUT, DEFAULTS.proxyHeadersTimeoutMs, 1),
      bodyTimeoutMs: DEFAULTS.proxyBodyTimeoutMs,
      keepAliveTimeoutMs: DEFAULTS.proxyKeepAliveTimeoutMs,
      connectionsPerOrigin: DEFAULTS.proxyConnectionsPerOrigin,
      maxRetries: DEFAULTS.proxyMaxRetries,
      retryBaseMs: DEFAULTS.proxyRetryBaseMs,
      maxRetryAfterMs: DEFAULTS.proxyMaxRetryAfterMs,
      replayableBodyBytes: DEFAULTS.proxyReplayableBodyBytes,
      signedBodyLimitBytes: DEFAULTS.proxySignedBodyLimitBytes,
      maxBodyBytes: DEFAULTS.proxyMaxBodyBytes,
    },
  };
}

function loadVault(env: Env, file: FileSettings, dataDir: string, production: boolean): Pick<AlterConfig, 'masterKey' | 'vault'> {
  const store = String(pick(env.ALTER_VAULT, file.vault) ?? 'aes');
  if (!['aes', 'hashicorp', 'aws', 'gcp', 'azure'].includes(store)) {
    throw new ConfigError('ALTER_VAULT', `must be aes, hashicorp, aws, gcp or azure, got "${store}"`);
  }
  const external: Partial<AlterConfig['vault']> = {};
  if (store === 'aws') {
    const region = env.ALTER_AWS_REGION || env.AWS_REGION;
    if (!region) throw new ConfigError('AWS_REGION', 'is required with ALTER_VAULT=aws (e.g. eu-west-1)');
    const endpoint = env.ALTER_AWS_SECRETS_ENDPOINT;
    // explicit keys when the environment has them; otherwise the AWS SDK's default chain (instance role, SSO, …)
    const credentials = env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) }
      : undefined;
    external.aws = {
      region,
      ...(endpoint ? { endpoint: parseUrl('ALTER_AWS_SECRETS_ENDPOINT', endpoint, ['http:', 'https:']) } : {}),
      ...(credentials ? { credentials } : {}),
    };
  }
  if (store === 'gcp') {
    const project = env.ALTER_GCP_PROJECT;
    if (!project) throw new ConfigError('ALTER_GCP_PROJECT', 'is required with ALTER_VAULT=gcp (the project holding the secrets)');
    const endpoint = env.ALTER_GCP_SECRETS_ENDPOINT;
    external.gcp = {
      project,
      ...(endpoint ? { endpoint: parseUrl('ALTER_GCP_SECRETS_ENDPOINT', endpoint, ['http:', 'https:']) } : {}),
      ...(env.ALTER_GCP_ACCESS_TOKEN ? { accessToken: env.ALTER_GCP_ACCESS_TOKEN } : {}),
    };
  }
  if (store === 'azure') {
    const vaultUrl = env.ALTER_AZURE_KEY_VAULT_URL;
    if (!vaultUrl) throw new ConfigError('ALTER_AZURE_KEY_VAULT_URL', 'is required with ALTER_VAULT=azure (https://<name>.vault.azure.net)');
    external.azure = {
      vaultUrl: parseUrl('ALTER_AZURE_KEY_VAULT_URL', vaultUrl, ['http:', 'https:']).replace(/\/+$/, ''),
      ...(env.ALTER_AZURE_ACCESS_TOKEN ? { accessToken: env.ALTER_AZURE_ACCESS_TOKEN } : {}),
      ...(env.AZURE_CLIENT_ID ? { clientId: env.AZURE_CLIENT_ID } : {}),
    };
  }
  const kek = String(pick(env.ALTER_VAULT_KEK, file.vaultKek) ?? 'local');
  if (kek !== 'local' && kek !== 'transit') throw new ConfigError('ALTER_VAULT_KEK', `must be local or transit, got "${kek}"`);
  let hashicorp: NonNullable<AlterConfig['vault']['hashicorp']> | undefined;
  if (store === 'hashicorp' || kek === 'transit') {
    const address = env.VAULT_ADDR;
    if (!address) throw new ConfigError('VAULT_ADDR', `is required with ${store === 'hashicorp' ? 'ALTER_VAULT=hashicorp' : 'ALTER_VAULT_KEK=transit'} (e.g. https://vault.example.com:8200)`);
    parseUrl('VAULT_ADDR', address, ['http:', 'https:']);
    const token = env.VAULT_TOKEN;
    if (!token) throw new ConfigError('VAULT_TOKEN', 'is required to authenticate to HashiCorp Vault');
    hashicorp = {
      address: address.replace(/\/+$/, ''),
      token,
      ...(env.VAULT_NAMESPACE ? { namespace: env.VAULT_NAMESPACE } : {}),
      kvMount: env.ALTER_VAULT_KV_MOUNT || 'secret',
      transitMount: env.ALTER_VAULT_TRANSIT_MOUNT || 'transit',
      transitKey: env.ALTER_VAULT_TRANSIT_KEY || 'alter-kek',
    };
  }
  return {
    ...(kek === 'local' ? { masterKey: loadMasterKey(env, file, dataDir, production) } : {}),
    vault: {
      store: store as AlterConfig['vault']['store'],
      kek,
      ...(hashicorp ? { hashicorp } : {}),
      ...external,
      kekRotationMs: ['0', 'off'].includes(String(pick(env.ALTER_VAULT_KEK_ROTATION, file.vaultKekRotation)).trim())
        ? 0
        : durationMs('ALTER_VAULT_KEK_ROTATION', pick(env.ALTER_VAULT_KEK_ROTATION, file.vaultKekRotation), DEFAULTS.vaultKekRotationMs, 3600),
      rewrapIntervalMs: DEFAULTS.vaultRewrapIntervalMs,
    },
  };
}
