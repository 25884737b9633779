import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type Koa from 'koa';
import { createBullmqQueue } from './adapters/queue/bullmq-queue.ts';
import { createInlineQueue } from './adapters/queue/inline-queue.ts';
import { createLocalBus } from './adapters/bus/local-bus.ts';
import { createRedisBus } from './adapters/bus/redis-bus.ts';
import { lockDataDir } from './adapters/store/data-dir-lock.ts';
import { openPglite } from './adapters/store/pglite.ts';
import { openPostgres } from './adapters/store/postgres.ts';
import { createSqlStore } from './adapters/store/sql-store.ts';
import { AgentCache } from './agents/agent-cache.ts';
import { AgentService } from './agents/agent-service.ts';
import { profileOf, type AlterConfig } from './config/config.ts';
import { DEFAULTS } from './config/defaults.ts';
import { AuditService } from './audit/audit-service.ts';
import { EnvelopeSecretStore } from './vault/envelope-secret-store.ts';
import { openVault } from './vault/open-vault.ts';
import { VaultedSigningKeyStore } from './vault/vaulted-signing-keys.ts';
import { SealedSettingStore } from './vault/sealed-settings.ts';
import { ManagedSecretService } from './vault/managed-secrets.ts';
import { KekRotation } from './vault/kek-rotation.ts';
import { startExporters } from './audit/exporters/export-runner.ts';
import { loadExportersConfig } from './audit/exporters/exporter-config.ts';
import { TokenExchangeService } from './exchange/exchange-service.ts';
import { AppKeyService } from './connections/app-keys.ts';
import { AppWebhooks } from './connections/app-webhooks.ts';
import { ConnectService } from './connections/connect-service.ts';
import { ConnectionService } from './connections/connection-service.ts';
import { ConnectionTokenService } from './connections/connection-tokens.ts';
import { ProviderConfigService } from './connections/provider-configs.ts';
import { ConnectionBroker } from './connections/upstream-broker.ts';
import { UpstreamRevocationJob } from './connections/upstream-revocation-job.ts';
import { builtInProvidersDir, loadCatalog } from './providers/catalog.ts';
import { createHttpApp } from './http/create-http-app.ts';
import { AccessTokenSigner } from './keys/access-token-signer.ts';
import { ensureAdminKey } from './keys/admin-keys.ts';
import { SigningKeyService } from './keys/signing-key-service.ts';
import type { Bus } from './ports/bus.ts';
import type { JobQueue } from './ports/queue.ts';
import type { Store, Tenant } from './ports/store.ts';
import { AccessTokenVerifier } from './provider/access-token-verifier.ts';
import { createProvider } from './provider/create-provider.ts';
import { ProviderHolder } from './provider/provider-holder.ts';
import { compilePolicy } from './policy/compile-policy.ts';
import { PolicyService } from './policy/policy-service.ts';
import { seedPolicyFile } from './policy/seed-policy-file.ts';
import { openPolicySource } from './policy/sources/open-policy-source.ts';
import { RevocationService } from './revocation/revocation-service.ts';
import { createLogger, type Logger } from './shared/logger.ts';
import { createUndiciUpstream } from './adapters/http/undici-upstream.ts';
import { ProxyService } from './proxy/proxy-service.ts';
import { BusCache } from './shared/bus-cache.ts';
import { cachedConnectionStore } from './connections/cached-connection-store.ts';
import type { AppKey, Connection, ConnectionStore } from './ports/connections.ts';
import type { ManagedSecret } from './ports/vault.ts';

/** A running Alter node: its HTTP handler, its services, and how to stop it. */
export interface AlterApp {
  config: AlterConfig;
  profile: 'embedded' | 'production';
  koa: Koa;
  /** `(req, res)` handler for `http.createServer` or supertest. */
  callback: ReturnType<Koa['callback']>;
  store: Store;
  bus: Bus;
  tenant: Tenant;
  keys: SigningKeyService;
  agents: AgentService;
  revocations: RevocationService;
  policy: PolicyService;
  exchange: TokenExchangeService;
  audit: AuditService;
  vault: EnvelopeSecretStore;
  secrets: ManagedSecretService;
  kekRotation: KekRotation;
  providers: ProviderConfigService;
  connectionTokens: ConnectionTokenService;
  connect: ConnectService;
  connections: ConnectionService;
  appKeys: AppKeyService;
  webhooks: AppWebhooks;
  upstreamRevocations: UpstreamRevocationJob;
  proxy: ProxyService;
  holder: ProviderHolder;
  log: Logger;
  /** Path of the admin key file, when this node's data directory has one. */
  adminKeyFile?: string;
  /** Starts an HTTP server on `config.host:config.port` (or the given port). */
  listen(port?: number, host?: string): Promise<Server>;
  close(): Promise<void>;
}

/** Shutdown must not hang on a dependency that is down (a BullMQ worker waits for Redis). */
function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  return Promise.race([promise, new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]);
}

async function openStore(config: AlterConfig, closers: Array<() => Promise<void>>): Promise<Store> {
  if (config.databaseUrl) return createSqlStore(await openPostgres(config.databaseUrl, { max: 20 }), { audit: { commit: config.audit.commit } });
  const release = lockDataDir(config.dataDir);
  closers.unshift(async () => release());
  return createSqlStore(await openPglite(join(config.dataDir, 'pglite')));
}

function openPolicySourceFor(config: AlterConfig, log: Logger) {
  const { policy } = config;
  if (policy.kind === 'git') {
    return openPolicySource({ ...policy, cacheDir: join(config.dataDir, 'policy-git') });
  }
  if (policy.seed && seedPolicyFile(policy.path)) {
    log.info({ path: policy.path }, 'created the policy file from config/policy.example.yaml; edit it to change what agents may do');
  }
  return openPolicySource({ kind: 'file', path: policy.path, pollIntervalMs: policy.pollIntervalMs });
}

/**
 * The composition root (DESIGN.md, Parts): picks adapters for the profile, builds services,
 * runs migrations and first-start setup, and returns the HTTP app. Tests call this same function.
 */
export async function createApp(config: AlterConfig, options: { log?: Logger } = {}): Promise<AlterApp> {
  const log = options.log ?? createLogger(config.logLevel);
  const profile = profileOf(config);
  const closers: Array<() => Promise<void>> = [];
  try {
    const store = await openStore(config, closers);
    closers.unshift(() => store.close());
    await store.migrate();

    const bus = config.redisUrl ? await createRedisBus(config.redisUrl, config.redisPrefix, log) : createLocalBus();
    closers.unshift(() => bus.close());
    const queue: JobQueue = config.redisUrl ? createBullmqQueue(config.redisUrl, config.redisPrefix, log) : createInlineQueue(log);
    closers.unshift(() => queue.close());

    const tenant = await store.tenants.ensureDefault();
    const admin = await ensureAdminKey({
      store: store.adminKeys,
      orgId: tenant.orgId,
      dataDir: config.dataDir,
      ...(config.adminKey ? { configuredKey: config.adminKey } : {}),
    });

    const { kek, builtIn: vault, secrets: secretStore } = await openVault(config, store, log);
    const signingKeyStore = new VaultedSigningKeyStore({ inner: store.signingKeys, vault });
    const sealedSettings = new SealedSettingStore({ inner: store.settings, vault });
    const sealedKeys = await signingKeyStore.sealLegacyKeys();
    if (sealedKeys > 0) log.info({ keys: sealedKeys }, 'moved plaintext signing keys into the vault');

    const retentionSeconds = DEFAULTS.tokenTtlMaxSeconds + config.clientAssertion.clockToleranceSeconds;
    const keys = new SigningKeyService({ store: signingKeyStore, bus, log, alg: config.tokens.signingAlg, retentionSeconds });
    await keys.start();
    closers.unshift(() => keys.stop());

    const audit = await AuditService.create({ store: store.audit, settings: sealedSettings, origin: config.issuer, logger: log, audit: config.audit });
    await audit.start(queue);
    if (config.audit.exportersFile) {
      const exporters = await startExporters({ store, queue, log, exporters: await loadExportersConfig(config.audit.exportersFile) });
      closers.unshift(() => exporters.stop());
    }
    const secretCache = new BusCache<ManagedSecret>({ bus, channel: 'managed-secrets', maxAgeMs: DEFAULTS.agentCacheMaxAgeMs });
    await secretCache.start();
    closers.unshift(() => secretCache.stop());
    const secrets = new ManagedSecretService({
      store: store.managedSecrets, vault: secretStore, audit, cache: secretCache, allowInsecureBaseUrls: config.connect.allowInsecureProviderUrls,
    });
    const kekRotation = new KekRotation({
      kek, keks: store.vaultKeks, records: store.vaultRecords, vault, audit, orgId: tenant.orgId, log, intervalMs: config.vault.kekRotationMs,
    });
    await kekRotation.start(queue, config.vault.rewrapIntervalMs);
    // every node holds the revocation predicates in memory, kept current over the bus
    const revocations = new RevocationService({ store: store.revocations, maxTokenLifetimeSeconds: retentionSeconds, bus, log });
    await revocations.start();
    closers.unshift(() => revocations.stop());
    const agentCache = new AgentCache({ store: store.agents, bus, maxAgeMs: DEFAULTS.agentCacheMaxAgeMs });
    await agentCache.start();
    closers.unshift(() => agentCache.stop());
    const agents = new AgentService({ store: store.agents, revocations, cache: agentCache, allowInsecureJwksUri: config.allowInsecureJwksUri, audit });
    const verifier = new AccessTokenVerifier({ issuer: config.issuer, keys });

    // Connections (issue 6): the catalog is data; a bad file stops start-up with file, line and reason.
    const catalog = loadCatalog({ builtInDir: builtInProvidersDir(), customDir: config.connect.providersDir, allowInsecureUrls: config.connect.allowInsecureProviderUrls });
    const providers = new ProviderConfigService({
      catalog, store: store.providerConfigs, vault: secretStore, audit, redirectUri: `${config.issuer}/connect/callback`,
      allowInsecure: config.connect.allowInsecureProviderUrls, timeoutSeconds: config.connect.upstreamTimeoutSeconds,
    });
    // connection rows, app keys and secrets are read on every proxied call: cached per node, kept coherent over the bus
    const connectionCache = new BusCache<Connection>({ bus, channel: 'connections', maxAgeMs: DEFAULTS.agentCacheMaxAgeMs });
    const appKeyCache = new BusCache<AppKey>({ bus, channel: 'app-keys', maxAgeMs: DEFAULTS.agentCacheMaxAgeMs });
    await Promise.all([connectionCache.start(), appKeyCache.start()]);
    closers.unshift(() => Promise.all([connectionCache.stop(), appKeyCache.stop()]).then(() => {}));
    const connectionStore = cachedConnectionStore(store.connections, connectionCache);
    // every reader and writer (introspection and tests included) goes through the cache
    (store as { connections: ConnectionStore }).connections = connectionStore;
    const webhooks = new AppWebhooks({ apps: store.apps, settings: sealedSettings, log });
    closers.unshift(() => webhooks.drain());
    const connectionTokens = new ConnectionTokenService({
      connections: connectionStore, vault: secretStore, providers, audit, webhooks, log, refreshMarginSeconds: config.connect.refreshMarginSeconds,
    });
    const flowKey = Buffer.from(await sealedSettings.getOrCreate('connect_flow_key', () => randomBytes(32).toString('base64')), 'base64');
    const connect = new ConnectService({
      sessions: store.connectSessions, connections: connectionStore, apps: store.apps, providers, tokens: connectionTokens, audit, log,
      flowKey, baseUrl: config.issuer, sessionTtlSeconds: config.connect.sessionTtlSeconds,
    });
    const connections = new ConnectionService({ connections: connectionStore, tokens: connectionTokens, providers, audit, webhooks, log });
    const appKeys = new AppKeyService({ store: store.appKeys, audit, cache: appKeyCache });
    const broker = new ConnectionBroker({ connections: connectionStore, tokens: connectionTokens, providers, revocations: store.upstreamRevocations, vault: secretStore });
    const upstreamRevocations = new UpstreamRevocationJob({
      revocations: store.upstreamRevocations, connections: connectionStore, tokens: connectionTokens, providers, vault: secretStore, audit, log,
    });
    await queue.every('connection-refresh', config.connect.refreshIntervalMs, async () => {
      await connectionTokens.refreshDue(config.connect.refreshAheadSeconds);
      await upstreamRevocations.run();
    });

    const policy = new PolicyService({
      source: openPolicySourceFor(config, log),
      compile: compilePolicy,
      store: store.policies,
      bus,
      audit,
      orgId: tenant.orgId,
      log,
      syncIntervalMs: config.policySyncIntervalMs,
    });
    await policy.start();
    closers.unshift(() => policy.stop());
    const exchange = new TokenExchangeService({
      verifier,
      revocations,
      connections: connectionStore,
      secrets: store.managedSecrets,
      alterAudiences: new Set(config.tokens.audiences),
      agents: agentCache,
      policy,
      signer: new AccessTokenSigner({ issuer: config.issuer, keys }),
      delegations: store.delegations,
      audit,
      hmac: audit.hmac,
      broker,
    });
    const cookieKeys = await sealedSettings.getOrCreate('cookie_keys', () => [randomBytes(32).toString('base64url')]);

    const holder = new ProviderHolder(() => createProvider({ config, store, keys, agentCache, revocations, verifier, exchange, audit, cookieKeys, defaultOrgId: tenant.orgId, log }));
    keys.onChange(() => holder.rebuild());

    await queue.every('maintenance', config.maintenanceIntervalMs, async () => {
      await store.oidc.purgeExpired();
      await revocations.purgeExpired();
      await store.delegations.purgeExpired();
      await connect.purgeExpired();
      await keys.purgeRetired();
      await keys.reload();
    });

    const upstreamHttp = createUndiciUpstream(config.proxy);
    closers.unshift(() => upstreamHttp.close());
    const proxy = new ProxyService({
      verifier, revocations, agents: agentCache, appKeys, connections: connectionStore, tokens: connectionTokens, providers, secrets,
      policy, audit, http: upstreamHttp, settings: config.proxy,
    });

    const readiness: Record<string, () => Promise<void>> = { store: () => store.ping() };
    if (config.redisUrl) readiness.redis = () => bus.ping();

    const koa = createHttpApp({
      log,
      trustProxy: config.trustProxy,
      bodyLimitBytes: config.http.bodyLimitBytes,
      tenant,
      adminKeys: store.adminKeys,
      agents,
      keys,
      kekRotation,
      policy,
      audit,
      exportCursors: store.exportCursors,
      secrets,
      holder,
      readiness,
      apps: store.apps,
      appKeys,
      providers,
      connect,
      connections,
      webhooks,
      proxy,
    });
    const callback = koa.callback();
    const servers: Server[] = [];

    return {
      config, profile, koa, callback, store, bus, tenant, keys, agents, revocations, policy, exchange, audit, vault, secrets, kekRotation, holder, log,
      providers, connectionTokens, connect, connections, appKeys, webhooks, upstreamRevocations, proxy,
      ...(admin.keyFile ? { adminKeyFile: admin.keyFile } : {}),
      async listen(port = config.port, host = config.host) {
        const server = createServer(callback);
        server.keepAliveTimeout = 65_000;
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, host, () => resolve());
        });
        servers.push(server);
        return server;
      },
      async close() {
        await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        })));
        for (const close of closers) await withTimeout(close(), 5000).catch(() => {});
      },
    };
  } catch (err) {
    // a start-up failure must end the process promptly: no dependency may hold it open
    for (const close of closers) await withTimeout(close(), 5000).catch(() => {});
    throw err;
  }
}
