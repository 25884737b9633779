/**
 * Storage ports for the upstream side (issue 6): apps' Connect settings and API keys, provider
 * configurations, Connect sessions, connections and pending upstream revocations. Secrets (client
 * secrets, upstream tokens) are never here: they live in the vault, keyed by these records' ids.
 */

export interface TenantRef {
  orgId: string;
  appId: string;
}

/** An app's Connect settings. */
export interface AppSettings extends TenantRef {
  /** Where Connect may send the browser back to (exact URLs). */
  redirectUrls: string[];
  /** Origins that may open Connect in a popup and receive its result (`https://app.example.com`). */
  allowedOrigins: string[];
  /** Where connection events (`connection.needs_reauth`, …) are POSTed (Standard Webhooks). */
  webhookUrl?: string;
}

export interface AppStore {
  settings(tenant: TenantRef): Promise<AppSettings | undefined>;
  updateSettings(tenant: TenantRef, changes: Partial<Pick<AppSettings, 'redirectUrls' | 'allowedOrigins'>> & { webhookUrl?: string | null }): Promise<AppSettings | undefined>;
}

/** An app API key (`alter_key_…`): its SHA-256 hash only. */
export interface AppKey extends TenantRef {
  id: string;
  name: string;
  createdAt: Date;
  revokedAt?: Date;
}

export interface AppKeyStore {
  /** Throws ConflictError when the hash exists. */
  add(key: TenantRef & { id: string; name: string; keyHash: string }): Promise<AppKey>;
  /** The live key with this hash. */
  findByHash(keyHash: string): Promise<AppKey | undefined>;
  list(tenant: TenantRef): Promise<AppKey[]>;
  /** Returns false when there is no live key with that id in the tenant. */
  revoke(tenant: TenantRef, id: string): Promise<boolean>;
}

/** How an app uses one catalog provider: its OAuth client and settings. */
export interface ProviderConfig extends TenantRef {
  provider: string;
  clientId: string;
  /** The vault version of the client secret (absent: a public client, PKCE only). */
  secretVersion?: number;
  /** Permissions Connect asks for when a session names none (empty: the catalog's read permissions). */
  scopes: string[];
  /** Template values (`subdomain`, `tenant`, …) for the provider's URLs. */
  params: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

export interface ProviderConfigStore {
  upsert(config: Omit<ProviderConfig, 'createdAt' | 'updatedAt'>): Promise<ProviderConfig>;
  find(tenant: TenantRef, provider: string): Promise<ProviderConfig | undefined>;
  list(tenant: TenantRef): Promise<ProviderConfig[]>;
  delete(tenant: TenantRef, provider: string): Promise<boolean>;
}

export type ConnectionStatus = 'active' | 'needs_reauth' | 'revoked';

/**
 * A connection: an app's grant to act at a provider for one end user (or for the org when
 * `endUserId` is absent). Token exchange accepts its id as a subject token; Connect fills them.
 */
export interface Connection extends TenantRef {
  /** `con_…` */
  id: string;
  /** Provider name as the policy and catalog know it (`github`). */
  provider: string;
  endUserId?: string;
  /** Alter permissions the grant gives (`repo:read`), from the upstream scopes via the catalog. */
  scopes: string[];
  /** The scopes the provider granted, as it named them. */
  upstreamScopes: string[];
  /** Template values for this connection's URLs (`subdomain`), over the app's. */
  params: Record<string, string>;
  /** The upstream account (OIDC `sub`, GitHub login), for display. */
  account?: string;
  status: ConnectionStatus;
  /** Vault version of the current token set (0: none stored). */
  tokenVersion: number;
  tokenExpiresAt?: Date;
  /** A refresh token is stored. */
  refreshable: boolean;
  refreshedAt?: Date;
  lastUsedAt?: Date;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewConnection extends TenantRef {
  id: string;
  provider: string;
  endUserId?: string;
  scopes: string[];
  upstreamScopes?: string[];
  params?: Record<string, string>;
  account?: string;
  tokenVersion?: number;
  tokenExpiresAt?: Date;
  refreshable?: boolean;
}

/** What a stored token set changed to (after Connect, a refresh or a reconnect). */
export interface TokenState {
  tokenVersion: number;
  tokenExpiresAt?: Date;
  refreshable: boolean;
  upstreamScopes?: string[];
  scopes?: string[];
  account?: string;
}

/** Writes to a connection while its refresh lock is held. */
export interface LockedConnection {
  setTokens(state: TokenState): Promise<Connection | undefined>;
  setStatus(status: ConnectionStatus): Promise<Connection | undefined>;
}

export interface ConnectionStore {
  create(connection: NewConnection): Promise<Connection>;
  /** Looks a connection up by id across tenants (ids are globally unique). */
  findById(id: string): Promise<Connection | undefined>;
  /** An end user's connections (all of the app's when `endUserId` is absent), newest first, revoked ones excluded. */
  list(tenant: TenantRef, filter: { endUserId?: string; provider?: string }): Promise<Connection[]>;
  /** Returns the updated connection, or undefined when it does not exist in that tenant. */
  setStatus(tenant: TenantRef, id: string, status: ConnectionStatus): Promise<Connection | undefined>;
  /** Records a new token set (and `active` status, after a reconnect). */
  setTokens(id: string, state: TokenState, options?: { reactivate?: boolean }): Promise<Connection | undefined>;
  /** Marks the connection as used now (best effort). */
  touch(id: string): Promise<void>;
  /**
   * Runs `fn` holding the connection's refresh lock: one holder at a time across every node (a
   * row lock on PostgreSQL; PGlite has one process). `fn` gets the connection as read under the
   * lock, so it can see that another holder already refreshed and return early, and writes
   * through `locked` (on the locking transaction).
   */
  withRefreshLock<T>(id: string, fn: (current: Connection | undefined, locked: LockedConnection) => Promise<T>): Promise<T>;
  /** Active, refreshable connections whose token expires before `before`, soonest first. */
  dueForRefresh(before: Date, limit: number): Promise<Connection[]>;
}

export type ConnectSessionStatus = 'pending' | 'completed' | 'failed';

/** One end user's trip through Connect. */
export interface ConnectSession extends TenantRef {
  /** `csn_…` */
  id: string;
  endUserId: string;
  /** Providers the user may pick from (empty: every provider the app configured). */
  providers: string[];
  /** Permissions to ask for (empty: the app's provider configuration decides). */
  scopes: string[];
  /** Template values for the connection (`subdomain`). */
  params: Record<string, string>;
  redirectUrl?: string;
  /** Reconnecting this connection (`needs_reauth`) instead of creating one. */
  reconnectId?: string;
  status: ConnectSessionStatus;
  connectionId?: string;
  error?: string;
  errorDescription?: string;
  flow?: { state: string; provider: string; mode: ConnectMode; origin?: string };
  expiresAt: Date;
  createdAt: Date;
  completedAt?: Date;
}

/** How Connect was opened, and so how it reports back (issue 6: redirect, popup, headless). */
export type ConnectMode = 'redirect' | 'popup' | 'headless';

export interface ConnectSessionStore {
  create(session: Omit<ConnectSession, 'status' | 'createdAt' | 'flow' | 'connectionId' | 'error' | 'errorDescription' | 'completedAt'> & { tokenHash: string }): Promise<ConnectSession>;
  find(tenant: TenantRef, id: string): Promise<ConnectSession | undefined>;
  findByTokenHash(tokenHash: string): Promise<ConnectSession | undefined>;
  /** Starts (or restarts) the provider flow of a pending session, with the template values it uses. */
  startFlow(id: string, flow: NonNullable<ConnectSession['flow']>, params: Record<string, string>): Promise<ConnectSession | undefined>;
  /**
   * Ends a pending session whose flow has this `state`, once (a second callback with the same
   * state finds nothing): returns the session as it was, or undefined.
   */
  claimFlow(state: string): Promise<ConnectSession | undefined>;
  finish(id: string, outcome: { status: 'completed'; connectionId: string } | { status: 'failed'; error: string; errorDescription: string }): Promise<void>;
  purgeExpired(before: Date): Promise<number>;
}

export interface UpstreamRevocation extends TenantRef {
  /** `urv_…`: also the vault record id of the token to revoke. */
  id: string;
  connectionId: string;
  provider: string;
  dueAt: Date;
  attempts: number;
}

export interface UpstreamRevocationStore {
  /** Adds an item; the same id again keeps the later `dueAt` (every holder keeps its token until its own TTL). */
  add(item: Omit<UpstreamRevocation, 'attempts'>): Promise<void>;
  /**
   * Leases up to `limit` due items: their `dueAt` moves `leaseMs` ahead and `attempts` goes up,
   * in one statement that skips rows another node is leasing, so each item has one worker.
   */
  claimDue(now: Date, limit: number, leaseMs: number): Promise<UpstreamRevocation[]>;
  /** Done (revoked, or given up): the item goes. */
  complete(id: string): Promise<void>;
  /** Records why the last attempt failed (the lease already schedules the next). */
  fail(id: string, error: string): Promise<void>;
}
