import * as oidc from 'openid-client';
import type { AuditSink } from '../ports/audit.ts';
import type { Connection, ConnectionStore, LockedConnection } from '../ports/connections.ts';
import type { SecretIdentity, SecretStore } from '../ports/vault.ts';
import { splitScopes } from '../providers/permissions.ts';
import { InvalidGrant, ServiceUnavailable } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { AppWebhooks } from './app-webhooks.ts';
import type { ProviderConfigService } from './provider-configs.ts';
import { describeUpstreamError } from './upstream-client.ts';
import { VersionCache } from '../vault/version-cache.ts';
import { CONNECTION_TOKEN_PURPOSE, decodeTokenSet, encodeTokenSet, toStoredTokenSet, type StoredTokenSet } from './token-set.ts';

/** A connection with a usable upstream access token. */
export interface UsableToken {
  connection: Connection;
  tokens: StoredTokenSet;
}

/** `invalid_grant` because the connection is (now) `needs_reauth`: the end user must reconnect. */
export class ReauthRequired extends InvalidGrant {}

/** The provider could not be reached or answered with something other than an OAuth error. */
export class UpstreamUnavailable extends ServiceUnavailable {
  override readonly name = 'UpstreamUnavailable';
  constructor(provider: string, description: string, options?: { cause?: unknown }) {
    super('ERR_UPSTREAM_UNAVAILABLE', `provider ${provider}: ${description}`, options);
  }
}

const epoch = (d: Date = new Date()) => Math.floor(d.getTime() / 1000);

/** Decrypted token sets kept per node (by connection and version). */
const DECRYPTED_ENTRIES = 10_000;

/**
 * Upstream tokens of connections: stored in the vault (one version per token set), handed out
 * fresh, refreshed before they expire and on demand, with **one refresh per connection at a
 * time across all nodes** (STYLE.md §10: lock, re-read, then act). Concurrent callers on one
 * node share one in-flight refresh; across nodes the connection's row lock serialises them and
 * whoever comes second sees the new token version and uses it instead of refreshing again.
 * An `invalid_grant` from the provider marks the connection `needs_reauth` (audited, webhook).
 */
export class ConnectionTokenService {
  readonly #connections: ConnectionStore;
  readonly #vault: SecretStore;
  readonly #providers: ProviderConfigService;
  readonly #audit: AuditSink;
  readonly #webhooks: AppWebhooks;
  readonly #log: Logger;
  readonly #marginSeconds: number;
  readonly #inFlight = new Map<string, Promise<UsableToken>>();
  readonly #decrypted = new VersionCache<StoredTokenSet>(DECRYPTED_ENTRIES);

  constructor(deps: {
    connections: ConnectionStore; vault: SecretStore; providers: ProviderConfigService; audit: AuditSink;
    webhooks: AppWebhooks; log: Logger; refreshMarginSeconds: number;
  }) {
    this.#connections = deps.connections;
    this.#vault = deps.vault;
    this.#providers = deps.providers;
    this.#audit = deps.audit;
    this.#webhooks = deps.webhooks;
    this.#log = deps.log;
    this.#marginSeconds = deps.refreshMarginSeconds;
  }

  identity(c: Pick<Connection, 'orgId' | 'appId' | 'id'>): SecretIdentity {
    return { orgId: c.orgId, appId: c.appId, recordId: c.id, purpose: CONNECTION_TOKEN_PURPOSE };
  }

  /** Stores a new token set for a connection (Connect, reconnect); returns its vault version. */
  store(c: Pick<Connection, 'orgId' | 'appId' | 'id'>, tokens: StoredTokenSet): Promise<number> {
    return this.#vault.put(this.identity(c), encodeTokenSet(tokens));
  }

  /**
   * The connection's current token set. Decrypted once per version and node: a version's token
   * set never changes, and the connection row (read by the caller) says which version is current
   * and whether the connection is still usable.
   */
  read(c: Connection): Promise<StoredTokenSet> {
    if (!c.tokenVersion) return this.#vault.get(this.identity(c)).then(decodeTokenSet);
    return this.#decrypted.get(c.id, c.tokenVersion, () => this.#vault.get(this.identity(c), c.tokenVersion).then(decodeTokenSet));
  }

  /** Deletes every stored token version of the connection. */
  forget(c: Pick<Connection, 'orgId' | 'appId' | 'id'>): Promise<void> {
    this.#decrypted.forget(c.id);
    return this.#vault.delete(this.identity(c));
  }

  #expiring(c: Connection, now = epoch()): boolean {
    return c.tokenExpiresAt !== undefined && epoch(c.tokenExpiresAt) - now <= this.#marginSeconds;
  }

  /** Refuses connections that cannot be used: revoked, or waiting for the end user to reconnect. */
  static assertUsable(c: Connection | undefined, id: string): asserts c is Connection {
    if (!c || c.status === 'revoked') throw new InvalidGrant(`connection ${id} does not exist or has been revoked`);
    if (c.status === 'needs_reauth') {
      throw new ReauthRequired(`connection ${id} needs re-authorization: the provider no longer accepts its grant; have the end user reconnect (POST /v1/connections/${id}/reconnect)`);
    }
  }

  /**
   * A usable access token for the connection: the stored one while it is valid, else a fresh one.
   * `rejectedVersion`: the token version upstream just refused (a 401) — refresh unless another
   * caller already replaced it.
   */
  async accessToken(connection: Connection, options: { rejectedVersion?: number } = {}): Promise<UsableToken> {
    ConnectionTokenService.assertUsable(connection, connection.id);
    if (options.rejectedVersion === undefined && !this.#expiring(connection)) {
      return { connection, tokens: await this.read(connection) };
    }
    return this.refresh(connection.id, options.rejectedVersion ?? connection.tokenVersion);
  }

  /** Refreshes unless the token version moved past `seenVersion` meanwhile; one flight per connection per node. */
  refresh(id: string, seenVersion: number): Promise<UsableToken> {
    const running = this.#inFlight.get(id);
    if (running) return running;
    const flight = this.#refreshLocked(id, seenVersion).finally(() => this.#inFlight.delete(id));
    this.#inFlight.set(id, flight);
    return flight;
  }

  /**
   * Runs `fn` under the connection's refresh lock. An `invalid_grant` refusal is returned out of
   * the lock and thrown after it: the lock's transaction must commit, or the `needs_reauth` it
   * wrote would be rolled back with it.
   */
  async #underLock(id: string, fn: (current: Connection | undefined, locked: LockedConnection) => Promise<UsableToken>): Promise<UsableToken> {
    const outcome = await this.#connections.withRefreshLock(id, async (current, locked): Promise<{ ok: UsableToken } | { refused: InvalidGrant }> => {
      try {
        return { ok: await fn(current, locked) };
      } catch (err) {
        if (err instanceof InvalidGrant) return { refused: err };
        throw err;
      }
    });
    if ('refused' in outcome) throw outcome.refused;
    return outcome.ok;
  }

  #refreshLocked(id: string, seenVersion: number): Promise<UsableToken> {
    return this.#underLock(id, async (current, locked) => {
      ConnectionTokenService.assertUsable(current, id);
      // another node (or an earlier flight) refreshed while we waited for the lock
      if (current.tokenVersion !== seenVersion && !this.#expiring(current)) return { connection: current, tokens: await this.read(current) };
      return this.#refreshNow(current, locked);
    });
  }

  async #refreshNow(current: Connection, locked: LockedConnection, narrowScope?: string[]): Promise<UsableToken> {
    const previous = await this.read(current);
    if (!previous.refresh_token) {
      if (narrowScope) throw new InvalidGrant(`connection ${current.id} holds no refresh token, so ${current.provider} cannot issue a narrower token`);
      await this.#needsReauth(current, locked, 'the access token expired and the provider gave no refresh token');
      throw new ReauthRequired(`connection ${current.id} needs re-authorization: its ${current.provider} token expired and cannot be refreshed`);
    }
    const configured = await this.#providers.find(current, current.provider);
    if (!configured) throw new InvalidGrant(`provider ${current.provider} is no longer configured for this app: connection ${current.id} cannot be refreshed`);
    const client = await this.#providers.client(configured, current.params);
    const entry = configured.entry;
    const parameters: Record<string, string> = { ...entry.oauth.token_params };
    if (narrowScope) parameters.scope = narrowScope.join(entry.oauth.scope_separator === '+' ? ' ' : entry.oauth.scope_separator);
    let response: oidc.TokenEndpointResponse;
    try {
      response = await oidc.refreshTokenGrant(client.config, previous.refresh_token, parameters);
    } catch (err) {
      if (err instanceof oidc.ResponseBodyError && err.error === 'invalid_grant') {
        await this.#needsReauth(current, locked, describeUpstreamError(err));
        throw new ReauthRequired(`connection ${current.id} needs re-authorization: ${current.provider} refused its refresh token (invalid_grant)`);
      }
      throw new UpstreamUnavailable(current.provider, `token refresh failed: ${describeUpstreamError(err)}`, { cause: err });
    }
    const now = epoch();
    const fresh = toStoredTokenSet(response, now, { previous, ...(entry.refresh.default_expires_in ? { defaultExpiresIn: entry.refresh.default_expires_in } : {}) });
    if (narrowScope) {
      // The narrow token goes to the caller only; the connection keeps its full token and any rotated refresh token.
      if (response.refresh_token && response.refresh_token !== previous.refresh_token) {
        const kept = { ...previous, refresh_token: response.refresh_token };
        const version = await this.store(current, kept);
        await locked.setTokens({ tokenVersion: version, ...(current.tokenExpiresAt ? { tokenExpiresAt: current.tokenExpiresAt } : {}), refreshable: true });
      }
      return { connection: current, tokens: fresh };
    }
    const version = await this.store(current, fresh);
    const upstreamScopes = response.scope === undefined ? undefined : splitScopes(entry, fresh.scope);
    const updated = await locked.setTokens({
      tokenVersion: version,
      ...(fresh.expires_at ? { tokenExpiresAt: new Date(fresh.expires_at * 1000) } : {}),
      refreshable: fresh.refresh_token !== undefined,
      ...(upstreamScopes ? { upstreamScopes } : {}),
    });
    await this.#audit.record({
      orgId: current.orgId, type: 'connection.refreshed',
      data: { app: current.appId, connection: current.id, provider: current.provider, ...(current.endUserId ? { end_user: current.endUserId } : {}), version, rotated: response.refresh_token !== undefined && response.refresh_token !== previous.refresh_token },
    });
    this.#log.debug({ connection: current.id, provider: current.provider, version }, 'upstream token refreshed');
    return { connection: updated ?? current, tokens: fresh };
  }

  /**
   * A token narrower than the connection's grant (RFC 6749 §6 refresh with a smaller `scope`),
   * for broker mode. Runs under the refresh lock (a rotating provider replaces the refresh token).
   */
  narrowed(connection: Connection, upstreamScopes: string[]): Promise<UsableToken> {
    return this.#underLock(connection.id, async (current, locked) => {
      ConnectionTokenService.assertUsable(current, connection.id);
      return this.#refreshNow(current, locked, upstreamScopes);
    });
  }

  async #needsReauth(c: Connection, locked: LockedConnection, reason: string): Promise<void> {
    await locked.setStatus('needs_reauth');
    const data = { app: c.appId, connection: c.id, provider: c.provider, ...(c.endUserId ? { end_user: c.endUserId } : {}), reason };
    await this.#audit.record({ orgId: c.orgId, type: 'connection.needs_reauth', data });
    this.#webhooks.emit(c, 'connection.needs_reauth', { connection_id: c.id, provider: c.provider, ...(c.endUserId ? { end_user_id: c.endUserId } : {}), reason });
    this.#log.warn({ connection: c.id, provider: c.provider }, 'connection needs re-authorization');
  }

  /**
   * The background job: refreshes connections whose token expires within `withinSeconds`.
   * Each goes through the same lock as on-demand refreshes, so a job on two nodes and traffic
   * at the same time still refresh once. Returns how many were refreshed.
   */
  async refreshDue(withinSeconds: number, limit = 100): Promise<number> {
    const due = await this.#connections.dueForRefresh(new Date(Date.now() + withinSeconds * 1000), limit);
    let refreshed = 0;
    for (const c of due) {
      try {
        const result = await this.refresh(c.id, c.tokenVersion);
        if (result.connection.tokenVersion !== c.tokenVersion) refreshed++;
      } catch (err) {
        this.#log.warn({ connection: c.id, provider: c.provider, err: { message: (err as Error).message } }, 'background refresh failed');
      }
    }
    return refreshed;
  }
}
