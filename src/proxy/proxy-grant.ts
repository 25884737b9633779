import type { Connection, ConnectionStore, TenantRef } from '../ports/connections.ts';
import type { ManagedSecret } from '../ports/vault.ts';
import { ReauthRequired, type ConnectionTokenService } from '../connections/connection-tokens.ts';
import type { ProviderConfigService } from '../connections/provider-configs.ts';
import { isRead, requestAllowed } from '../providers/permissions.ts';
import { READ_METHODS, type ProviderEntry } from '../providers/provider-schema.ts';
import { requiredTemplates, resolveEndpoints } from '../providers/templates.ts';
import { InvalidRequest, NotFound } from '../shared/errors.ts';
import type { ManagedSecretService } from '../vault/managed-secrets.ts';
import { secretCredential, type Credential } from './credential.ts';
import { NeedsReauth } from './proxy-errors.ts';
import { SECRET_PERMISSIONS } from './secret-permissions.ts';


/** A connection or managed secret, as the proxy uses it. */
export interface ProxyGrant {
  kind: 'connection' | 'secret';
  id: string;
  /** The name the policy and the audit log know it by. */
  provider: string;
  /** "connection con_… (github)": for messages. */
  label: string;
  /** Where its credential may be sent. */
  baseUrls: string[];
  /** Permissions the grant holds. */
  permissions: string[];
  endUserId?: string;
  /** Whether holding `permission` allows this request (path relative to the base URL). */
  allows(permission: string, method: string, relativePath: string): boolean;
  /** Every permission of the provider that would allow the request (for `insufficient_scope`). */
  permissionsAllowing(method: string, relativePath: string): string[];
  /** The credential to inject; `rejected` is the version upstream just refused (refresh it). */
  credential(rejected?: number): Promise<{ credential: Credential; version: number }>;
  /** Whether a 401 from upstream is worth a refresh and one retry. */
  refreshable: boolean;
}

export interface GrantDeps {
  connections: ConnectionStore;
  tokens: ConnectionTokenService;
  providers: ProviderConfigService;
  secrets: ManagedSecretService;
}

const SECRET_ID = /^sec_[A-Za-z0-9_-]{1,64}$/;
const CONNECTION_ID = /^con_[A-Za-z0-9_-]{1,64}$/;

/** Looks the grant id up, or says which ids are grants. */
export function grantKind(id: string): 'connection' | 'secret' {
  if (CONNECTION_ID.test(id)) return 'connection';
  if (SECRET_ID.test(id)) return 'secret';
  throw new InvalidRequest(`"${id}" is not a grant id: the proxy path is /v1/proxy/{con_… or sec_…}/{host}/{path}`);
}

async function connectionBaseUrls(deps: GrantDeps, entry: ProviderEntry, connection: Connection): Promise<string[]> {
  let values: Record<string, string> = { ...connection.params };
  if (requiredTemplates(entry).some((name) => !(name in values)) || entry.api.base_urls.some((u) => u.includes('{client_id}'))) {
    const configured = await deps.providers.find(connection, entry.name);
    values = { ...configured?.config.params, ...values, ...(configured ? { client_id: configured.config.clientId } : {}) };
  }
  return resolveEndpoints(entry, values).apiBaseUrls;
}

/** A connection of the caller's app: active, with its provider's API hosts and permissions. */
export async function connectionGrant(deps: GrantDeps, tenant: TenantRef, connection: Connection | undefined, id: string): Promise<ProxyGrant> {
  if (!connection || connection.orgId !== tenant.orgId || connection.appId !== tenant.appId || connection.status === 'revoked') {
    throw new NotFound(`connection ${id} does not exist in your app or has been revoked`);
  }
  if (connection.status === 'needs_reauth') throw new NeedsReauth(id);
  const entry = deps.providers.entry(connection.provider);
  let current = connection;
  return {
    kind: 'connection',
    id,
    provider: connection.provider,
    label: `connection ${id} (${connection.provider})`,
    baseUrls: await connectionBaseUrls(deps, entry, connection),
    permissions: connection.scopes,
    ...(connection.endUserId ? { endUserId: connection.endUserId } : {}),
    allows: (permission, method, path) => requestAllowed(entry, [permission], method, path),
    permissionsAllowing: (method, path) => Object.keys(entry.permissions).filter((p) => requestAllowed(entry, [p], method, path)),
    refreshable: connection.refreshable,
    async credential(rejected) {
      try {
        const usable = await deps.tokens.accessToken(current, rejected === undefined ? {} : { rejectedVersion: rejected });
        current = usable.connection;
        return { credential: { kind: 'oauth', accessToken: usable.tokens.access_token }, version: usable.connection.tokenVersion };
      } catch (err) {
        // refreshing found the grant dead upstream: the connection is now needs_reauth
        if (err instanceof ReauthRequired) throw new NeedsReauth(id);
        throw err;
      }
    },
  };
}

/** The catalog's default rule for a permission without `requests`: reads allow GET, HEAD and OPTIONS, anything else every request. */
function secretAllows(permission: string, method: string): boolean {
  if (!(SECRET_PERMISSIONS as readonly string[]).includes(permission)) return false;
  return !isRead(permission) || (READ_METHODS as readonly string[]).includes(method.toUpperCase());
}

/** A managed secret of the caller's app, bound to its base URLs. */
export async function secretGrant(deps: GrantDeps, tenant: TenantRef, id: string): Promise<ProxyGrant> {
  let secret: ManagedSecret;
  try {
    secret = await deps.secrets.get(tenant, id);
  } catch (err) {
    if (err instanceof NotFound) throw new NotFound(`secret ${id} does not exist in your app`);
    throw err;
  }
  const baseUrls = Array.isArray(secret.metadata.base_urls) ? secret.metadata.base_urls : [];
  const provider = typeof secret.metadata.provider === 'string' ? secret.metadata.provider : secret.name;
  return {
    kind: 'secret',
    id,
    provider,
    label: `secret ${id} (${secret.name})`,
    baseUrls,
    permissions: [...SECRET_PERMISSIONS],
    allows: (permission, method) => secretAllows(permission, method),
    permissionsAllowing: (method) => SECRET_PERMISSIONS.filter((p) => secretAllows(p, method)),
    refreshable: false,
    async credential() {
      const { value } = await deps.secrets.resolveValue(secret);
      return { credential: secretCredential(secret.type, value), version: secret.currentVersion };
    },
  };
}

