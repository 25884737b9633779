/** The validated configuration `createApp` is built from. */
export interface AlterConfig {
  port: number;
  host: string;
  /** The OAuth issuer identifier (RFC 8414), without a trailing slash. */
  issuer: string;
  dataDir: string;
  /** PostgreSQL: production profile. Absent: PGlite under `dataDir` (embedded profile). */
  databaseUrl?: string;
  /** Redis: BullMQ queue and pub/sub bus. Absent: in-process. */
  redisUrl?: string;
  redisPrefix: string;
  /** An admin key to accept in addition to the generated one (production: set on every node). */
  adminKey?: string;
  /** Trust `X-Forwarded-*` from a load balancer. */
  trustProxy: boolean;
  logLevel: string;
  tokens: {
    ttlSeconds: number;
    signingAlg: 'EdDSA' | 'ES256';
    /** Accepted `resource` values (RFC 8707); the first is the default audience. */
    audiences: string[];
  };
  clientAssertion: { maxLifetimeSeconds: number; clockToleranceSeconds: number };
  http: { bodyLimitBytes: number };
  maintenanceIntervalMs: number;
  policy: PolicySourceConfig;
  /** The built-in vault's master key (KEKs derive from it); absent when Vault Transit wraps them. */
  masterKey?: MasterKeyConfig;
  vault: {
    /** Where managed secrets (and later upstream tokens) are stored: the built-in store or an external one. */
    store: 'aes' | 'hashicorp' | 'aws' | 'gcp' | 'azure';
    /** What wraps the built-in store's data keys: KEKs derived from the master key, or Vault Transit. */
    kek: 'local' | 'transit';
    /** HashiCorp Vault (KV v2 store and/or Transit KEK): the standard VAULT_* variables. */
    hashicorp?: { address: string; token: string; namespace?: string; kvMount: string; transitMount: string; transitKey: string };
    /** AWS Secrets Manager: region, optional endpoint; credentials from the AWS SDK's default chain. */
    aws?: { region: string; endpoint?: string; credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } };
    /** GCP Secret Manager: project, optional endpoint; a static token (development) or the metadata server. */
    gcp?: { project: string; endpoint?: string; accessToken?: string };
    /** Azure Key Vault: vault URL; a static token (development) or managed identity. */
    azure?: { vaultUrl: string; accessToken?: string; clientId?: string };
    /** A new KEK this often (0: only on demand). */
    kekRotationMs: number;
    /** How often the re-wrap job looks for records on an older KEK. */
    rewrapIntervalMs: number;
  };
  audit: {
    /** A signed checkpoint after this many entries in an org's chain… */
    checkpointEvery: number;
    /** …or this often, whichever comes first. */
    checkpointIntervalMs: number;
    /** How often the whole log is verified (a broken chain raises audit.tamper_detected). */
    verifyIntervalMs: number;
    /** YAML file configuring the SIEM exporters. */
    exportersFile?: string;
    /**
     * When an answer may go out relative to its audit entry reaching disk (docs/audit.md,
     * Durability): `sync` (default) waits for the flush; `async` answers once PostgreSQL has
     * committed the entry and flushes it within a fraction of a second (production profile only).
     */
    commit: 'sync' | 'async';
  };
  /** How often a node re-reads the active policy revision from the store (missed bus messages). */
  policySyncIntervalMs: number;
  /** Accept `http:` agent `jwks_uri`s (loopback development only). */
  allowInsecureJwksUri: boolean;
  /** Connect and upstream connections (issue 6). */
  connect: {
    /** Custom provider YAML files (same schema as config/providers); may replace built-in ones by name. */
    providersDir: string;
    /** Accept http: URLs in custom providers (loopback development and tests only). */
    allowInsecureProviderUrls: boolean;
    sessionTtlSeconds: number;
    /** How often the background refresh job runs… */
    refreshIntervalMs: number;
    /** …and how far ahead of expiry it refreshes. */
    refreshAheadSeconds: number;
    /** On demand: a token this close to expiry is refreshed before use. */
    refreshMarginSeconds: number;
    upstreamTimeoutSeconds: number;
  };
  /** The request proxy (docs/proxy.md). */
  proxy: {
    connectTimeoutMs: number;
    headersTimeoutMs: number;
    bodyTimeoutMs: number;
    keepAliveTimeoutMs: number;
    connectionsPerOrigin: number;
    maxRetries: number;
    retryBaseMs: number;
    maxRetryAfterMs: number;
    replayableBodyBytes: number;
    signedBodyLimitBytes: number;
    maxBodyBytes: number;
  };
}

/** Where the YAML policy comes from (DESIGN.md, Policy). */
export type PolicySourceConfig =
  | {
      kind: 'file';
      path: string;
      /** The path was not configured: a missing file is created from config/policy.example.yaml. */
      seed: boolean;
      pollIntervalMs: number;
    }
  | { kind: 'git'; url: string; branch: string; path: string; pollIntervalMs: number };

/** Where the vault's master key comes from (never logged). */
export type MasterKeyConfig =
  | { source: 'env'; key: Buffer }
  | {
      source: 'file';
      path: string;
      /** Embedded profile without a configured key: create the file (0600) on first start. */
      generate: boolean;
    };

/** Which profile a configuration selects (DESIGN.md, Deployment profiles). */
export function profileOf(config: AlterConfig): 'embedded' | 'production' {
  return config.databaseUrl ? 'production' : 'embedded';
}
