import { z } from 'zod';
import type { AuditSink } from '../ports/audit.ts';
import type { ProviderConfig, ProviderConfigStore, TenantRef } from '../ports/connections.ts';
import type { SecretIdentity, SecretStore } from '../ports/vault.ts';
import type { CatalogProvider, ProviderCatalog } from '../providers/catalog.ts';
import { requiredTemplates, resolveEndpoints, TemplateError } from '../providers/templates.ts';
import { InvalidRequest, NotFound } from '../shared/errors.ts';
import { invalidInput } from '../shared/invalid-input.ts';
import { createUpstreamClient, type UpstreamClient } from './upstream-client.ts';

const ConfigureInput = z.strictObject({
  client_id: z.string().min(1).max(512),
  /** Absent: keep the stored secret (or none: a public client using PKCE only). */
  client_secret: z.string().min(1).max(4096).optional(),
  /** Permissions Connect asks for by default. */
  scopes: z.array(z.string().min(1)).max(100).optional(),
  /** Template values (`subdomain`, `tenant`, …). */
  params: z.record(z.string(), z.string().min(1).max(255)).optional(),
});

const SECRET_PURPOSE = 'provider_client_secret';


/** The provider's configuration for an app, with what a flow needs. */
export interface ConfiguredProvider {
  entry: CatalogProvider;
  config: ProviderConfig;
}

/**
 * Operators configure the catalog's providers per app: client ID (here), client secret (in the
 * vault), default permissions and template values. Builds (and caches) the `openid-client`
 * configuration Connect and refresh use.
 */
export class ProviderConfigService {
  readonly #catalog: ProviderCatalog;
  readonly #store: ProviderConfigStore;
  readonly #vault: SecretStore;
  readonly #audit: AuditSink;
  readonly #redirectUri: string;
  readonly #allowInsecure: boolean;
  readonly #timeoutSeconds: number;
  /** Per app, provider and template values: the client built from one configuration version (`updatedAt`). */
  readonly #clients = new Map<string, { version: number; client: Promise<UpstreamClient> }>();

  constructor(deps: {
    catalog: ProviderCatalog; store: ProviderConfigStore; vault: SecretStore; audit: AuditSink;
    redirectUri: string; allowInsecure: boolean; timeoutSeconds: number;
  }) {
    this.#catalog = deps.catalog;
    this.#store = deps.store;
    this.#vault = deps.vault;
    this.#audit = deps.audit;
    this.#redirectUri = deps.redirectUri;
    this.#allowInsecure = deps.allowInsecure;
    this.#timeoutSeconds = deps.timeoutSeconds;
  }

  get catalog(): ProviderCatalog {
    return this.#catalog;
  }

  get redirectUri(): string {
    return this.#redirectUri;
  }

  #identity(tenant: TenantRef, provider: string): SecretIdentity {
    return { orgId: tenant.orgId, appId: tenant.appId, recordId: `provider:${provider}`, purpose: SECRET_PURPOSE };
  }

  /** The catalog entry, or 404 naming a few known providers. */
  entry(name: string): CatalogProvider {
    const entry = this.#catalog.get(name);
    if (!entry) throw new NotFound(`unknown provider "${name}": see GET /v1/admin/providers or \`alter providers list\` for the catalog`);
    return entry;
  }

  async configure(tenant: TenantRef, name: string, input: unknown): Promise<ProviderConfig> {
    const entry = this.entry(name);
    const parsed = ConfigureInput.safeParse(input);
    if (!parsed.success) throw invalidInput(parsed.error);
    const body = parsed.data;
    const existing = await this.#store.find(tenant, name);
    const params = body.params ?? existing?.params ?? {};
    const declared = new Set(requiredTemplates(entry));
    const unknown = Object.keys(params).filter((k) => !declared.has(k));
    if (unknown.length > 0) throw new InvalidRequest(`params: ${name} has no template ${unknown.join(', ')} (it has: ${[...declared].join(', ') || 'none'})`);
    const scopes = body.scopes ?? existing?.scopes ?? [];
    const undefinedPermissions = scopes.filter((s) => !(s in entry.permissions));
    if (undefinedPermissions.length > 0) {
      throw new InvalidRequest(`scopes: ${name} has no permission ${undefinedPermissions.join(', ')} (it has: ${Object.keys(entry.permissions).join(', ')})`);
    }
    // Template values that are given must be valid now; missing ones may come with each Connect session.
    if (Object.keys(params).length === declared.size) {
      try {
        resolveEndpoints(entry, { ...params, client_id: body.client_id });
      } catch (err) {
        if (err instanceof TemplateError) throw new InvalidRequest(`params: ${err.message}`);
        throw err;
      }
    }
    let secretVersion = existing?.secretVersion;
    if (body.client_secret !== undefined) secretVersion = await this.#vault.put(this.#identity(tenant, name), Buffer.from(body.client_secret, 'utf8'));
    const config = await this.#store.upsert({
      ...tenant, provider: name, clientId: body.client_id, ...(secretVersion === undefined ? {} : { secretVersion }), scopes, params,
    });
    await this.#audit.record({
      orgId: tenant.orgId, type: existing ? 'provider.updated' : 'provider.configured',
      data: { app: tenant.appId, provider: name, client_id: body.client_id, secret_changed: body.client_secret !== undefined },
    });
    return config;
  }

  async find(tenant: TenantRef, name: string): Promise<ConfiguredProvider | undefined> {
    const entry = this.#catalog.get(name);
    const config = entry && (await this.#store.find(tenant, name));
    return entry && config ? { entry, config } : undefined;
  }

  list(tenant: TenantRef): Promise<ProviderConfig[]> {
    return this.#store.list(tenant);
  }

  async remove(tenant: TenantRef, name: string): Promise<void> {
    if (!(await this.#store.delete(tenant, name))) throw new NotFound(`provider "${name}" is not configured for this app`);
    await this.#vault.delete(this.#identity(tenant, name));
    await this.#audit.record({ orgId: tenant.orgId, type: 'provider.removed', data: { app: tenant.appId, provider: name } });
  }

  /**
   * The OAuth client for a configured provider, with the connection's template values over the
   * app's. Cached until the configuration changes (on any node: its `updatedAt` moves), so
   * discovery runs once per configuration.
   */
  client(configured: ConfiguredProvider, connectionParams: Readonly<Record<string, string>> = {}): Promise<UpstreamClient> {
    const { entry, config } = configured;
    const params = { ...config.params, ...connectionParams };
    const key = `${config.orgId}\u0000${config.appId}\u0000${entry.name}\u0000${JSON.stringify(params)}`;
    const version = config.updatedAt.getTime();
    const cached = this.#clients.get(key);
    if (cached?.version === version) return cached.client;
    const client = (async () => {
      const secret = config.secretVersion === undefined
        ? undefined
        : Buffer.from(await this.#vault.get(this.#identity(config, entry.name), config.secretVersion)).toString('utf8');
      return createUpstreamClient({
        provider: entry, clientId: config.clientId, ...(secret === undefined ? {} : { clientSecret: secret }), params,
        redirectUri: this.#redirectUri, allowInsecure: this.#allowInsecure && entry.source === 'custom', timeoutSeconds: this.#timeoutSeconds,
      });
    })();
    const slot = { version, client };
    client.catch(() => {
      if (this.#clients.get(key) === slot) this.#clients.delete(key);
    });
    this.#clients.set(key, slot);
    return client;
  }
}

/** A provider configuration as the admin API shows it (never the secret). */
export function providerConfigView(c: ProviderConfig): Record<string, unknown> {
  return {
    provider: c.provider, client_id: c.clientId, client_secret_set: c.secretVersion !== undefined, scopes: c.scopes, params: c.params,
    created_at: c.createdAt.toISOString(), updated_at: c.updatedAt.toISOString(),
  };
}
