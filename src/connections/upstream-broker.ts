import { createHash } from 'node:crypto';
import type { ConnectionStore, UpstreamRevocationStore } from '../ports/connections.ts';
import type { SecretStore } from '../ports/vault.ts';
import type { UpstreamTokenBroker } from '../exchange/upstream-broker.ts';
import { permissionsForScopes, scopesForPermissions } from '../providers/permissions.ts';
import { AccessDenied, InvalidGrant, InvalidTarget } from '../shared/errors.ts';
import { ConnectionTokenService, type UsableToken } from './connection-tokens.ts';
import type { ProviderConfigService } from './provider-configs.ts';

export const UPSTREAM_REVOCATION_PURPOSE = 'upstream_revocation';

/**
 * Hands out a connection's upstream access token, never wider than the policy's grant: the
 * stored token when the grant covers everything the connection holds; otherwise a narrower
 * token from a refresh with a smaller `scope` (RFC 6749 §6) where the provider supports it and
 * its scopes can express the grant exactly — else a refusal (fail closed). A token outliving
 * the policy TTL is queued for revocation at the TTL where the provider has an endpoint.
 */
export class ConnectionBroker implements UpstreamTokenBroker {
  readonly #connections: ConnectionStore;
  readonly #tokens: ConnectionTokenService;
  readonly #providers: ProviderConfigService;
  readonly #revocations: UpstreamRevocationStore;
  readonly #vault: SecretStore;

  constructor(deps: { connections: ConnectionStore; tokens: ConnectionTokenService; providers: ProviderConfigService; revocations: UpstreamRevocationStore; vault: SecretStore }) {
    this.#connections = deps.connections;
    this.#tokens = deps.tokens;
    this.#providers = deps.providers;
    this.#revocations = deps.revocations;
    this.#vault = deps.vault;
  }

  async issue(request: Parameters<UpstreamTokenBroker['issue']>[0]): Promise<{ accessToken: string; expiresIn: number; scope: string[] }> {
    const connection = await this.#connections.findById(request.connectionId);
    if (!connection || connection.orgId !== request.orgId || connection.appId !== request.appId) throw new InvalidGrant(`connection ${request.connectionId} does not exist or has been revoked`);
    ConnectionTokenService.assertUsable(connection, connection.id);
    if (connection.provider !== request.provider) throw new InvalidTarget(`connection ${connection.id} is for ${connection.provider}, not ${request.provider}`);
    const configured = await this.#providers.find(connection, connection.provider);
    if (!configured) throw new InvalidTarget(`provider ${connection.provider} is not configured for this app`);
    const entry = configured.entry;
    const granted = new Set(request.permissions);
    const whole = connection.scopes.every((p) => granted.has(p));
    let usable: UsableToken;
    if (whole) {
      usable = await this.#tokens.accessToken(connection);
    } else {
      // a token that can do no more than the grant: ask the provider for exactly the grant's scopes
      const needed = scopesForPermissions(entry, [...granted]);
      const wouldAllow = permissionsForScopes(entry, needed);
      const excess = wouldAllow.filter((p) => !granted.has(p));
      if (!entry.refresh.narrow_scope || excess.length > 0 || !connection.refreshable) {
        const why = excess.length > 0 ? `its scopes cannot express ${[...granted].join(' ')} without also granting ${excess.join(' ')}`
          : !entry.refresh.narrow_scope ? 'it cannot issue a narrower token than the connection holds'
            : 'the connection holds no refresh token to ask for a narrower one';
        throw new AccessDenied(`broker mode refused: the policy grants ${[...granted].join(' ')} but ${entry.display_name} ${why}; request an Alter access token and call ${connection.provider} through the proxy instead`);
      }
      usable = await this.#tokens.narrowed(connection, needed);
    }
    await this.#connections.touch(connection.id);
    const now = Math.floor(Date.now() / 1000);
    const remaining = usable.tokens.expires_at === undefined ? Number.POSITIVE_INFINITY : usable.tokens.expires_at - now;
    const expiresIn = Math.max(1, Math.min(request.ttlSeconds, remaining));
    // Revoking at the TTL must not end the connection: only where the provider revokes one token
    // and keeps the grant, and, for the connection's own (shared) token, where it can be refreshed.
    const revocable = entry.oauth.revocation_url !== undefined && !entry.oauth.revocation_revokes_grant && (!whole || usable.connection.refreshable);
    if (revocable && remaining > request.ttlSeconds) await this.#scheduleRevocation(connection, usable.tokens.access_token, now + request.ttlSeconds);
    return { accessToken: usable.tokens.access_token, expiresIn, scope: whole ? connection.scopes : [...granted] };
  }

  async #scheduleRevocation(c: { orgId: string; appId: string; id: string; provider: string }, token: string, dueAt: number): Promise<void> {
    // one item per token: several holders of the same token keep it until the latest TTL
    const id = `urv_${createHash('sha256').update(token).digest('base64url').slice(0, 32)}`;
    const identity = { orgId: c.orgId, appId: c.appId, recordId: id, purpose: UPSTREAM_REVOCATION_PURPOSE };
    if ((await this.#vault.listVersions(identity)).length === 0) await this.#vault.put(identity, Buffer.from(token, 'utf8'));
    await this.#revocations.add({ id, orgId: c.orgId, appId: c.appId, connectionId: c.id, provider: c.provider, dueAt: new Date(dueAt * 1000) });
  }
}
