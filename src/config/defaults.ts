/** Every default in one place. */
export const DEFAULTS = {
  port: 8080,
  host: '0.0.0.0',
  dataDir: './data',
  logLevel: 'info',
  /** Access token lifetime (DESIGN.md: default 4 h, never below 15 min or above 24 h). */
  tokenTtlSeconds: 4 * 3600,
  tokenTtlMinSeconds: 15 * 60,
  tokenTtlMaxSeconds: 24 * 3600,
  signingAlg: 'EdDSA' as const,
  /** Client assertions (RFC 7523) may live at most this long (`exp` − now, and `exp` − `iat`). */
  assertionMaxLifetimeSeconds: 300,
  clockToleranceSeconds: 5,
  /** Largest request body accepted anywhere (oidc-provider's own limit is 56 KiB). */
  bodyLimitBytes: 56 * 1024,
  redisPrefix: 'alter',
  /**
   * Longest a node may use a cached agent without re-reading it (changes are also pushed over
   * the bus); disabling an agent revokes the tokens issued during this window too.
   */
  agentCacheMaxAgeMs: 1000,
  /** Policy file name under the data directory when ALTER_POLICY is not set. */
  policyFileName: 'policy.yaml',
  /** Policy sources are re-read at least this often (a file is also watched); edits apply within 60 s. */
  policyFilePollMs: 5_000,
  policyGitPollMs: 30_000,
  policyGitBranch: 'main',
  policyGitPath: 'policy.yaml',
  /** Nodes re-read the active policy revision from the store this often (bus messages may be lost). */
  policySyncIntervalMs: 15_000,
  /** Audit checkpoints: every 1000 entries or every minute; full verification every hour. */
  auditCheckpointEvery: 1000,
  auditCheckpointIntervalMs: 60_000,
  auditVerifyIntervalMs: 3_600_000,
  /** Audit appends: answered once flushed to disk (docs/audit.md, Durability). */
  auditCommit: 'sync',
  /** Vault: a new key-encryption key every 30 days; old records re-wrapped by a job every minute. */
  vaultKekRotationMs: 30 * 24 * 3_600_000,
  vaultRewrapIntervalMs: 60_000,
  /** Connect: a session link lives 15 minutes. */
  connectSessionTtlMs: 15 * 60_000,
  /** Refresh: the job runs every minute and refreshes tokens expiring within 5 minutes; on demand, a token within 60 s of expiry is refreshed first. */
  refreshIntervalMs: 60_000,
  refreshAheadSeconds: 300,
  refreshMarginSeconds: 60,
  /** Seconds before a request to a provider's OAuth endpoints is abandoned. */
  upstreamTimeoutSeconds: 15,
  /** Proxy: timeouts to the upstream, retries (2, 100 ms base, Retry-After up to 10 s), body limits. */
  proxyConnectTimeoutMs: 5_000,
  proxyHeadersTimeoutMs: 30_000,
  proxyBodyTimeoutMs: 60_000,
  proxyKeepAliveTimeoutMs: 30_000,
  proxyConnectionsPerOrigin: 256,
  proxyMaxRetries: 2,
  proxyRetryBaseMs: 100,
  proxyMaxRetryAfterMs: 10_000,
  proxyReplayableBodyBytes: 64 * 1024,
  proxySignedBodyLimitBytes: 10 * 1024 * 1024,
  proxyMaxBodyBytes: 1024 * 1024 * 1024,
  /** How often maintenance (purges, key reload) runs. */
  maintenanceIntervalMs: 60_000,
} as const;
