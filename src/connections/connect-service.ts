import { createHmac, randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { z } from 'zod';
import type { AuditSink } from '../ports/audit.ts';
import type { AppStore, ConnectionStore, ConnectMode, ConnectSession, ConnectSessionStore, TenantRef } from '../ports/connections.ts';
import { permissionsForScopes, scopesForPermissions, splitScopes, UnknownPermission } from '../providers/permissions.ts';
import type { ProviderEntry } from '../providers/provider-schema.ts';
import { requiredTemplates, TemplateError } from '../providers/templates.ts';
import { AlterError, InvalidRequest } from '../shared/errors.ts';
import { invalidInput } from '../shared/invalid-input.ts';
import { sha256Hex } from '../shared/sha256-hex.ts';
import type { Logger } from '../shared/logger.ts';
import type { ConnectionTokenService } from './connection-tokens.ts';
import type { ConfiguredProvider, ProviderConfigService } from './provider-configs.ts';
import { toStoredTokenSet } from './token-set.ts';
import { describeUpstreamError } from './upstream-client.ts';

/**
 * A Connect failure shown to the end user (HTML page) or returned to the app (redirect, popup
 * message, session status): `error` is an RFC 6749 §4.1.2.1 code where one fits.
 */
export class ConnectError extends AlterError {
  override readonly name = 'ConnectError';
  constructor(status: number, error: string, description: string, options?: { cause?: unknown }) {
    super(status, error, description, options);
  }
}

const CreateSessionInput = z.strictObject({
  end_user_id: z.string().min(1).max(255),
  /** Providers the end user may pick from (default: every provider configured for the app). */
  providers: z.array(z.string().min(1)).max(100).optional(),
  /** Permissions to ask for (default: the app's provider configuration, else the read permissions). */
  scopes: z.array(z.string().min(1)).max(100).optional(),
  /** Template values for the connection (`subdomain`). */
  params: z.record(z.string(), z.string().min(1).max(255)).optional(),
  /** Where to send the browser back to (redirect mode); must be in the app's allowlist. */
  redirect_url: z.string().url().optional(),
  /** Session lifetime in seconds (60 to 3600). */
  expires_in: z.number().int().min(60).max(3600).optional(),
});


/** What Connect asks for: the session's permissions, else the app's defaults, else the provider's read permissions. */
function permissionsToAsk(session: ConnectSession, configured: ConfiguredProvider): string[] {
  const { entry, config } = configured;
  if (session.scopes.length > 0) return session.scopes;
  if (config.scopes.length > 0) return config.scopes;
  const reads = Object.keys(entry.permissions).filter((p) => p.endsWith(':read'));
  return reads.length > 0 ? reads : Object.keys(entry.permissions).slice(0, 1);
}

const MODES: readonly ConnectMode[] = ['redirect', 'popup', 'headless'];

/** The outcome the route turns into a redirect, a popup message or a page. */
export interface ConnectOutcome {
  session: ConnectSession;
  mode: ConnectMode;
  origin?: string;
  result: { connectionId: string; provider: string } | { error: string; errorDescription: string };
}

/** A provider as the Connect page lists it. */
export interface ConnectChoice {
  name: string;
  displayName: string;
  templates: Array<{ name: string; description: string; example?: string }>;
}

/**
 * Connect (issue 6): an app's backend opens a session for one end user; the end user picks a
 * provider on Alter's page and goes through its authorization code flow (PKCE S256 and `state`
 * through `openid-client`; the PKCE verifier and nonce are derived from the state with a key only
 * Alter holds, so nothing secret is stored per flow); the tokens go to the vault and the
 * connection row records provider, end user, scopes and status.
 */
export class ConnectService {
  readonly #sessions: ConnectSessionStore;
  readonly #connections: ConnectionStore;
  readonly #apps: AppStore;
  readonly #providers: ProviderConfigService;
  readonly #tokens: ConnectionTokenService;
  readonly #audit: AuditSink;
  readonly #log: Logger;
  readonly #flowKey: Buffer;
  readonly #baseUrl: string;
  readonly #sessionTtlSeconds: number;

  constructor(deps: {
    sessions: ConnectSessionStore; connections: ConnectionStore; apps: AppStore; providers: ProviderConfigService;
    tokens: ConnectionTokenService; audit: AuditSink; log: Logger; flowKey: Buffer; baseUrl: string; sessionTtlSeconds: number;
  }) {
    this.#sessions = deps.sessions;
    this.#connections = deps.connections;
    this.#apps = deps.apps;
    this.#providers = deps.providers;
    this.#tokens = deps.tokens;
    this.#audit = deps.audit;
    this.#log = deps.log;
    this.#flowKey = deps.flowKey;
    this.#baseUrl = deps.baseUrl;
    this.#sessionTtlSeconds = deps.sessionTtlSeconds;
  }

  /** `POST /v1/connect/sessions`: returns the session and its token (shown once). */
  async createSession(tenant: TenantRef, input: unknown, options: { reconnectId?: string } = {}): Promise<{ session: ConnectSession; token: string; url: string }> {
    const parsed = CreateSessionInput.safeParse(input);
    if (!parsed.success) throw invalidInput(parsed.error);
    const body = parsed.data;
    const app = await this.#apps.settings(tenant);
    if (body.redirect_url !== undefined && !app?.redirectUrls.includes(body.redirect_url)) {
      throw new InvalidRequest(`redirect_url ${body.redirect_url} is not in the app's allowlist; add it with PUT /v1/admin/app {"redirect_urls": [...]}`);
    }
    const providers = body.providers ?? [];
    for (const name of providers) {
      this.#providers.entry(name); // 404-style error for an unknown provider, as invalid_request here
      if (!(await this.#providers.find(tenant, name))) throw new InvalidRequest(`provider "${name}" is not configured for this app; configure it with PUT /v1/admin/providers/${name}`);
    }
    if (providers.length === 0 && (await this.#providers.list(tenant)).length === 0) {
      throw new InvalidRequest('no provider is configured for this app; configure one with PUT /v1/admin/providers/{name}');
    }
    if (body.scopes && providers.length === 1) this.#upstreamScopes(this.#providers.entry(providers[0]!), body.scopes);
    const token = `cst_${randomBytes(24).toString('base64url')}`;
    const session = await this.#sessions.create({
      id: `csn_${randomBytes(12).toString('base64url')}`, ...tenant, tokenHash: sha256Hex(token), endUserId: body.end_user_id,
      providers, scopes: body.scopes ?? [], params: body.params ?? {},
      ...(body.redirect_url ? { redirectUrl: body.redirect_url } : {}),
      ...(options.reconnectId ? { reconnectId: options.reconnectId } : {}),
      expiresAt: new Date(Date.now() + (body.expires_in ?? this.#sessionTtlSeconds) * 1000),
    });
    await this.#audit.record({
      orgId: tenant.orgId, type: 'connect.session_created',
      data: { app: tenant.appId, end_user: body.end_user_id, session: session.id, providers, ...(options.reconnectId ? { connection: options.reconnectId } : {}) },
    });
    return { session, token, url: `${this.#baseUrl}/connect?token=${encodeURIComponent(token)}` };
  }

  getSession(tenant: TenantRef, id: string): Promise<ConnectSession | undefined> {
    return this.#sessions.find(tenant, id);
  }

  /** The session a Connect link or session token names; expired and finished ones are refused. */
  async sessionByToken(token: string | undefined, options: { allowFinished?: boolean } = {}): Promise<ConnectSession> {
    if (!token) throw new ConnectError(400, 'invalid_request', 'this Connect link has no session token; ask the app for a new link');
    const session = await this.#sessions.findByTokenHash(sha256Hex(token));
    if (!session) throw new ConnectError(404, 'invalid_request', 'this Connect link is not valid; ask the app for a new link');
    if (!options.allowFinished && session.status !== 'pending') throw new ConnectError(410, 'invalid_request', `this Connect session has already ${session.status === 'completed' ? 'completed' : 'failed'}; ask the app for a new link`);
    if (session.expiresAt.getTime() <= Date.now() && session.status === 'pending') throw new ConnectError(410, 'expired_session', 'this Connect link has expired; ask the app for a new link');
    return session;
  }

  /** The providers the session's page offers (allowed and configured). */
  async choices(session: ConnectSession): Promise<ConnectChoice[]> {
    const configs = new Map((await this.#providers.list(session)).map((c) => [c.provider, c]));
    const names = session.providers.length > 0 ? session.providers.filter((p) => configs.has(p)) : [...configs.keys()];
    const out: ConnectChoice[] = [];
    for (const name of names) {
      const entry = this.#providers.catalog.get(name);
      if (!entry) continue;
      const params = { ...configs.get(name)!.params, ...session.params };
      const missing = requiredTemplates(entry).filter((t) => !(t in params));
      out.push({ name, displayName: entry.display_name, templates: missing.map((t) => ({ name: t, description: entry.templates[t]!.description, ...(entry.templates[t]!.example ? { example: entry.templates[t]!.example } : {}) })) });
    }
    return out;
  }

  #upstreamScopes(entry: ProviderEntry, permissions: string[]): string[] {
    try {
      return scopesForPermissions(entry, permissions);
    } catch (err) {
      if (err instanceof UnknownPermission) throw new InvalidRequest(`scopes: ${entry.name} has no permission ${err.permissions.join(', ')} (it has: ${Object.keys(entry.permissions).join(', ')})`);
      throw err;
    }
  }

  #derived(label: string, state: string): string {
    return createHmac('sha256', this.#flowKey).update(`${label}\u0000${state}`).digest('base64url');
  }

  /**
   * `GET /connect/authorize`: starts the provider's authorization code flow for the session and
   * returns the URL to send the browser to.
   */
  async start(input: { token?: string; provider?: string; mode?: string; origin?: string; params?: Record<string, string> }): Promise<URL> {
    const session = await this.sessionByToken(input.token);
    const mode = (input.mode ?? 'redirect') as ConnectMode;
    if (!MODES.includes(mode)) throw new ConnectError(400, 'invalid_request', `mode must be one of ${MODES.join(', ')}`);
    const name = input.provider ?? '';
    if (!this.#providers.catalog.get(name)) throw new ConnectError(400, 'invalid_request', `unknown provider "${name}"`);
    if (session.providers.length > 0 && !session.providers.includes(name)) throw new ConnectError(400, 'invalid_request', `this session does not allow provider "${name}"`);
    const configured = await this.#providers.find(session, name);
    if (!configured) throw new ConnectError(400, 'invalid_request', `provider "${name}" is not configured for this app`);
    let origin: string | undefined;
    if (mode === 'popup') {
      const app = await this.#apps.settings(session);
      const allowed = new Set([...(app?.allowedOrigins ?? []), ...(app?.redirectUrls ?? []).map((u) => new URL(u).origin)]);
      if (!input.origin || !allowed.has(input.origin)) {
        throw new ConnectError(400, 'invalid_request', `origin ${input.origin ?? '(none)'} may not open Connect in a popup; add it to the app's allowed_origins`);
      }
      origin = input.origin;
    }
    // template values the end user typed on the page (only for templates still missing)
    const params = { ...session.params };
    for (const [k, v] of Object.entries(input.params ?? {})) if (v && !(k in params) && k in configured.entry.templates) params[k] = v;
    const entry = configured.entry;
    const scopes = this.#upstreamScopes(entry, permissionsToAsk(session, configured));
    let client;
    try {
      client = await this.#providers.client(configured, params);
    } catch (err) {
      if (err instanceof TemplateError) throw new ConnectError(400, 'invalid_request', err.message);
      throw new ConnectError(502, 'temporarily_unavailable', `could not reach ${entry.display_name} to start the flow; try again`, { cause: err });
    }
    const state = randomBytes(24).toString('base64url');
    if (!(await this.#sessions.startFlow(session.id, { state, provider: name, mode, ...(origin ? { origin } : {}) }, params))) {
      throw new ConnectError(410, 'invalid_request', 'this Connect session is no longer pending');
    }
    const separator = entry.oauth.scope_separator === ',' ? ',' : ' ';
    const query: Record<string, string> = {
      ...entry.oauth.authorization_params,
      response_type: 'code',
      redirect_uri: this.#providers.redirectUri,
      state,
      ...(scopes.length > 0 ? { scope: scopes.join(separator) } : {}),
    };
    if (entry.oauth.pkce) {
      query.code_challenge = await oidc.calculatePKCECodeChallenge(this.#derived('pkce', state));
      query.code_challenge_method = 'S256';
    }
    if (client.oidc) query.nonce = this.#derived('nonce', state);
    return oidc.buildAuthorizationUrl(client.config, query);
  }

  /**
   * `GET /connect/callback`: ends the flow the `state` names — exactly once — and stores the
   * connection. Every failure ends the session as failed and stores nothing.
   */
  async complete(callbackUrl: URL): Promise<ConnectOutcome> {
    const state = callbackUrl.searchParams.get('state');
    if (!state) throw new ConnectError(400, 'invalid_request', 'the provider sent no state: this callback does not belong to a Connect flow');
    const session = await this.#sessions.claimFlow(state);
    if (!session?.flow) throw new ConnectError(400, 'invalid_request', 'state mismatch: this callback does not match a pending Connect flow (it may have been used already); start again from the app');
    const { flow } = session;
    const fail = async (error: string, errorDescription: string): Promise<ConnectOutcome> => {
      await this.#sessions.finish(session.id, { status: 'failed', error, errorDescription });
      await this.#audit.record({ orgId: session.orgId, type: 'connect.failed', data: { app: session.appId, end_user: session.endUserId, provider: flow.provider, session: session.id, error } });
      return { session, mode: flow.mode, ...(flow.origin ? { origin: flow.origin } : {}), result: { error, errorDescription } };
    };
    if (session.expiresAt.getTime() <= Date.now()) return fail('expired_session', 'the Connect session expired before the provider answered; start again');
    const upstreamError = callbackUrl.searchParams.get('error');
    if (upstreamError) {
      const description = callbackUrl.searchParams.get('error_description');
      return fail(upstreamError === 'access_denied' ? 'access_denied' : upstreamError.slice(0, 100),
        upstreamError === 'access_denied' ? 'the end user did not grant access' : `the provider refused: ${upstreamError}${description ? ` (${description.slice(0, 200)})` : ''}`);
    }
    const configured = await this.#providers.find(session, flow.provider);
    if (!configured) return fail('invalid_request', `provider ${flow.provider} is no longer configured for this app`);
    const entry = configured.entry;
    let response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
    try {
      const client = await this.#providers.client(configured, session.params);
      const current = new URL(this.#providers.redirectUri);
      current.search = callbackUrl.search;
      response = await oidc.authorizationCodeGrant(client.config, current, {
        expectedState: state,
        ...(entry.oauth.pkce ? { pkceCodeVerifier: this.#derived('pkce', state) } : {}),
        ...(client.oidc ? { expectedNonce: this.#derived('nonce', state) } : { idTokenExpected: false }),
      }, { ...entry.oauth.token_params });
    } catch (err) {
      const detail = describeUpstreamError(err);
      this.#log.info({ provider: flow.provider, session: session.id, detail }, 'Connect code exchange failed');
      if (err instanceof oidc.ResponseBodyError) return fail(err.error === 'invalid_grant' ? 'invalid_grant' : 'server_error', `the provider refused the authorization code (${detail.slice(0, 200)}); start again`);
      return fail('server_error', `could not complete the exchange with ${entry.display_name}: ${detail.slice(0, 200)}`);
    }
    const now = Math.floor(Date.now() / 1000);
    const requested = this.#upstreamScopes(entry, permissionsToAsk(session, configured));
    const stored = toStoredTokenSet(response, now, entry.refresh.default_expires_in ? { defaultExpiresIn: entry.refresh.default_expires_in } : {});
    const upstreamScopes = stored.scope !== undefined ? splitScopes(entry, stored.scope) : requested;
    const scopes = permissionsForScopes(entry, upstreamScopes);
    const account = response.claims()?.sub;
    const expiresAt = stored.expires_at ? new Date(stored.expires_at * 1000) : undefined;
    let connectionId: string;
    if (session.reconnectId) {
      const existing = await this.#connections.findById(session.reconnectId);
      if (!existing || existing.orgId !== session.orgId || existing.appId !== session.appId || existing.provider !== flow.provider || existing.status === 'revoked') {
        return fail('invalid_request', 'the connection to reconnect no longer exists, or belongs to another provider');
      }
      const version = await this.#tokens.store(existing, stored);
      await this.#connections.setTokens(existing.id, {
        tokenVersion: version, ...(expiresAt ? { tokenExpiresAt: expiresAt } : {}), refreshable: stored.refresh_token !== undefined,
        upstreamScopes, scopes, ...(account ? { account } : {}),
      }, { reactivate: true });
      connectionId = existing.id;
    } else {
      connectionId = `con_${randomBytes(18).toString('base64url')}`;
      const ids = { orgId: session.orgId, appId: session.appId, id: connectionId };
      const version = await this.#tokens.store(ids, stored);
      try {
        await this.#connections.create({
          ...ids, provider: flow.provider, endUserId: session.endUserId, scopes, upstreamScopes, params: session.params,
          ...(account ? { account } : {}), tokenVersion: version, ...(expiresAt ? { tokenExpiresAt: expiresAt } : {}), refreshable: stored.refresh_token !== undefined,
        });
      } catch (err) {
        await this.#tokens.forget(ids).catch(() => {});
        throw err;
      }
    }
    await this.#sessions.finish(session.id, { status: 'completed', connectionId });
    await this.#audit.record({
      orgId: session.orgId, type: session.reconnectId ? 'connection.reconnected' : 'connection.created',
      data: { app: session.appId, end_user: session.endUserId, provider: flow.provider, connection: connectionId, session: session.id, scopes, upstream_scopes: upstreamScopes },
    });
    return { session, mode: flow.mode, ...(flow.origin ? { origin: flow.origin } : {}), result: { connectionId, provider: flow.provider } };
  }

  async purgeExpired(): Promise<number> {
    // finished or expired sessions are kept a day for status polling and support, then go
    return this.#sessions.purgeExpired(new Date(Date.now() - 24 * 3600_000));
  }
}

/** A session as the API shows it (never its token). */
export function connectSessionView(s: ConnectSession): Record<string, unknown> {
  return {
    id: s.id, status: s.status, end_user_id: s.endUserId, providers: s.providers, scopes: s.scopes,
    ...(s.redirectUrl ? { redirect_url: s.redirectUrl } : {}),
    ...(s.connectionId ? { connection_id: s.connectionId } : {}),
    ...(s.flow ? { provider: s.flow.provider } : {}),
    ...(s.error ? { error: s.error, error_description: s.errorDescription } : {}),
    expires_at: s.expiresAt.toISOString(), created_at: s.createdAt.toISOString(),
    ...(s.completedAt ? { completed_at: s.completedAt.toISOString() } : {}),
  };
}

