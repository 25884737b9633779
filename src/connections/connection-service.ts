import type { AuditSink } from '../ports/audit.ts';
import type { Connection, ConnectionStore, TenantRef } from '../ports/connections.ts';
import { InvalidRequest, NotFound } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { AppWebhooks } from './app-webhooks.ts';
import type { ConnectionTokenService } from './connection-tokens.ts';
import type { ProviderConfigService } from './provider-configs.ts';
import { revokeUpstream } from './revoke-upstream.ts';

/** What revoking a connection did upstream. */
export type UpstreamRevocationResult = 'revoked' | 'unsupported' | 'failed';

/**
 * The connections API's core (issue 6): list an end user's connections, revoke one (upstream
 * where the provider can, then the stored tokens are deleted and the row is marked revoked, so
 * every Alter token acting through it dies at once), and look one up for a reconnect.
 */
export class ConnectionService {
  readonly #connections: ConnectionStore;
  readonly #tokens: ConnectionTokenService;
  readonly #providers: ProviderConfigService;
  readonly #audit: AuditSink;
  readonly #webhooks: AppWebhooks;
  readonly #log: Logger;

  constructor(deps: { connections: ConnectionStore; tokens: ConnectionTokenService; providers: ProviderConfigService; audit: AuditSink; webhooks: AppWebhooks; log: Logger }) {
    this.#connections = deps.connections;
    this.#tokens = deps.tokens;
    this.#providers = deps.providers;
    this.#audit = deps.audit;
    this.#webhooks = deps.webhooks;
    this.#log = deps.log;
  }

  list(tenant: TenantRef, filter: { endUserId?: string; provider?: string }): Promise<Connection[]> {
    return this.#connections.list(tenant, filter);
  }

  /** A connection of this tenant (and end user, when given); another tenant's reads as missing. */
  async get(tenant: TenantRef, id: string, endUserId?: string): Promise<Connection> {
    const c = await this.#connections.findById(id);
    if (!c || c.orgId !== tenant.orgId || c.appId !== tenant.appId || c.status === 'revoked' || (endUserId !== undefined && c.endUserId !== endUserId)) {
      throw new NotFound(`no connection "${id}"`);
    }
    return c;
  }

  /** A connection that may be reconnected (any but revoked). */
  async forReconnect(tenant: TenantRef, id: string): Promise<Connection> {
    const c = await this.get(tenant, id);
    if (!c.endUserId) throw new InvalidRequest(`connection ${id} belongs to the org, not an end user: replace it through the admin API`);
    return c;
  }

  /**
   * Revokes upstream (the refresh token, which ends the grant, else the access token), deletes
   * the stored tokens, marks the row revoked. An upstream that cannot be reached does not keep
   * the connection alive: Alter forgets the tokens anyway and says so in the audit event.
   */
  async revoke(tenant: TenantRef, id: string, by: { endUserId?: string; actor: string }): Promise<{ connection: Connection; upstream: UpstreamRevocationResult }> {
    const connection = await this.get(tenant, id, by.endUserId);
    let upstream: UpstreamRevocationResult = 'unsupported';
    try {
      const configured = await this.#providers.find(connection, connection.provider);
      if (configured && connection.tokenVersion > 0) {
        const client = await this.#providers.client(configured, connection.params);
        const tokens = await this.#tokens.read(connection);
        const token = tokens.refresh_token ?? tokens.access_token;
        if (await revokeUpstream(client, token, tokens.refresh_token ? 'refresh_token' : 'access_token')) upstream = 'revoked';
      }
    } catch (err) {
      upstream = 'failed';
      this.#log.warn({ connection: id, provider: connection.provider, err: { message: (err as Error).message } }, 'upstream revocation failed; the stored tokens are deleted anyway');
    }
    const revoked = (await this.#connections.setStatus(tenant, id, 'revoked')) ?? connection;
    await this.#tokens.forget(connection);
    const data = { app: tenant.appId, connection: id, provider: connection.provider, ...(connection.endUserId ? { end_user: connection.endUserId } : {}), upstream, by: by.actor };
    await this.#audit.record({ orgId: tenant.orgId, type: 'connection.revoked', data });
    this.#webhooks.emit(tenant, 'connection.revoked', { connection_id: id, provider: connection.provider, ...(connection.endUserId ? { end_user_id: connection.endUserId } : {}), upstream });
    return { connection: revoked, upstream };
  }
}

/** A connection as apps and end users see it (never a token). */
export function connectionView(c: Connection): Record<string, unknown> {
  return {
    id: c.id, provider: c.provider, ...(c.endUserId ? { end_user_id: c.endUserId } : {}), status: c.status, scopes: c.scopes,
    upstream_scopes: c.upstreamScopes, ...(c.account ? { account: c.account } : {}),
    created_at: c.createdAt.toISOString(), updated_at: c.updatedAt.toISOString(),
    ...(c.lastUsedAt ? { last_used_at: c.lastUsedAt.toISOString() } : {}),
    ...(c.refreshedAt ? { refreshed_at: c.refreshedAt.toISOString() } : {}),
    ...(c.tokenExpiresAt ? { token_expires_at: c.tokenExpiresAt.toISOString() } : {}),
  };
}
