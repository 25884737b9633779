import type { JWK } from 'jose';
import type { AuditLogStore, ExportCursorStore } from './audit.ts';
import type { AppKeyStore, AppStore, ConnectionStore, ConnectSessionStore, ProviderConfigStore, UpstreamRevocationStore } from './connections.ts';
import type { ManagedSecretStore, VaultKekStore, VaultRecordStore } from './vault.ts';

export type { Connection, ConnectionStatus, ConnectionStore, NewConnection } from './connections.ts';

/**
 * Storage port. Core services and the oidc-provider bridge depend on these interfaces only;
 * `src/adapters/store` implements them once in SQL over a {@link SqlDatabase} that is either
 * PostgreSQL or PGlite.
 */

/** A stored oidc-provider model payload (opaque to the store apart from the indexed fields). */
export type OidcPayload = Record<string, unknown> & {
  grantId?: string;
  userCode?: string;
  uid?: string;
  consumed?: number;
};

/**
 * oidc-provider's adapter contract, keyed by model name (`Session`, `Grant`, `ReplayDetection`, …).
 * Expired rows are invisible to `find*` even before they are purged.
 */
export interface OidcModelStore {
  upsert(model: string, id: string, payload: OidcPayload, expiresInSeconds?: number): Promise<void>;
  find(model: string, id: string): Promise<OidcPayload | undefined>;
  findByUid(model: string, uid: string): Promise<OidcPayload | undefined>;
  findByUserCode(model: string, userCode: string): Promise<OidcPayload | undefined>;
  /** Marks the row consumed: the payload found afterwards carries `consumed` (epoch seconds). */
  consume(model: string, id: string): Promise<void>;
  destroy(model: string, id: string): Promise<void>;
  /** Deletes every row of `model` that belongs to the grant. */
  revokeByGrantId(model: string, grantId: string): Promise<void>;
  /**
   * Atomic set-if-absent (one statement, safe across processes): true if this call created the
   * row, false if a live row with that id already existed. Used for client assertion replay
   * detection. An expired row counts as absent and is replaced.
   */
  insertIfAbsent(model: string, id: string, payload: OidcPayload, expiresInSeconds: number): Promise<boolean>;
  /** Deletes expired rows; returns how many. */
  purgeExpired(): Promise<number>;
}

export interface Tenant {
  orgId: string;
  appId: string;
}

export interface TenantStore {
  /** Creates the default org and app on first call (idempotent, safe across processes). */
  ensureDefault(): Promise<Tenant>;
}

export type AgentStatus = 'active' | 'disabled';

export interface Agent {
  /** The OAuth `client_id` (`agt_…`). */
  id: string;
  orgId: string;
  appId: string;
  name: string;
  /** The agent class policies refer to ("data-reader"). */
  agentClass: string;
  status: AgentStatus;
  /** Public keys (exactly one of `jwks` / `jwksUri` is set). */
  jwks?: { keys: JWK[] };
  jwksUri?: string;
  /** Scopes the agent may request (empty: none). */
  scopes: string[];
  createdAt: Date;
  updatedAt: Date;
}

export interface NewAgent {
  id: string;
  orgId: string;
  appId: string;
  name: string;
  agentClass: string;
  jwks?: { keys: JWK[] };
  jwksUri?: string;
  scopes: string[];
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page, absent on the last page. */
  nextCursor?: string;
}

export interface AgentStore {
  /** Throws {@link ConflictError} when the app already has an agent with that name. */
  create(agent: NewAgent): Promise<Agent>;
  /** Looks an agent up by client_id across tenants (client_ids are globally unique). */
  findById(id: string): Promise<Agent | undefined>;
  /** The tenant's agent with this registered name. */
  findByName(tenant: Tenant, name: string): Promise<Agent | undefined>;
  list(tenant: Tenant, options: { limit: number; cursor?: string }): Promise<Page<Agent>>;
  /** Returns the updated agent, or undefined when it does not exist in that tenant. */
  setStatus(tenant: Tenant, id: string, status: AgentStatus): Promise<Agent | undefined>;
  /** Returns false when it did not exist in that tenant. */
  delete(tenant: Tenant, id: string): Promise<boolean>;
}

export type SigningKeyState = 'next' | 'current' | 'retired';

export interface SigningKeyRecord {
  kid: string;
  alg: 'EdDSA' | 'ES256';
  /** Private JWK (includes `d`). */
  privateJwk: JWK;
  state: SigningKeyState;
  createdAt: Date;
  /** When the key started signing (state current or retired). */
  activatedAt?: Date;
  /** When the key stopped signing (state retired). */
  retiredAt?: Date;
}

export interface SigningKeyStore {
  list(): Promise<SigningKeyRecord[]>;
  /**
   * First start: inserts `current` and `next` only if the table has no key yet (safe when two
   * nodes start at once). Returns true when it inserted them.
   */
  initialize(current: SigningKeyRecord, next: SigningKeyRecord): Promise<boolean>;
  /**
   * One transaction under a lock: `current` → `retired` (retiredAt = now), `next` → `current`
   * (activatedAt = now), `newNext` inserted as `next`. With `expectedNextKid`, throws
   * {@link ConflictError} when the `next` key is another one (a concurrent rotation won), so a
   * key that was never published cannot start signing.
   */
  rotate(newNext: SigningKeyRecord, now: Date, expectedNextKid?: string): Promise<void>;
  /** Deletes retired keys whose retiredAt is before `before`; returns their kids. */
  purgeRetired(before: Date): Promise<string[]>;
  /** Replaces a key's stored JWK (sealing a legacy plaintext key into the vault). */
  replaceJwk(kid: string, jwk: JWK): Promise<void>;
}

export type RevocationKind = 'jti' | 'agent';

export interface RevocationPredicate {
  orgId: string;
  kind: RevocationKind;
  value: string;
  revokedAt: Date;
  /** After this instant no token the predicate matches can still be alive; the row may go. */
  expiresAt: Date;
}

export interface RevocationStore {
  /** Adds (or extends: latest revokedAt and expiresAt win) a predicate. */
  add(predicate: RevocationPredicate): Promise<void>;
  /**
   * True if any predicate matches the token with `revokedAt ≥ iat`: `jti` = token jti, or
   * `agent` = token client_id or any agent of its delegation chain (`actors`).
   */
  isRevoked(token: { jti: string; clientId: string; iat: number; actors?: readonly string[] }): Promise<boolean>;
  /** Every unexpired predicate (for the in-memory copy each node keeps). */
  listActive(): Promise<RevocationPredicate[]>;
  purgeExpired(): Promise<number>;
}

export interface AdminKeyStore {
  /** Stores the SHA-256 hash of an admin key (idempotent). */
  add(orgId: string, keyHash: string): Promise<void>;
  /** True if this hash belongs to a non-revoked admin key; returns its org. */
  findOrg(keyHash: string): Promise<string | undefined>;
  count(): Promise<number>;
}

export interface SettingStore {
  /** The stored value, if any node stored one. */
  get<T>(name: string): Promise<T | undefined>;
  /** Returns the stored value, or stores `create()`'s result first (first writer wins across nodes). */
  getOrCreate<T>(name: string, create: () => T): Promise<T>;
}

/** One stored policy version (the YAML text every node compiles to the same revision). */
export interface PolicyRevisionRecord {
  /** SHA-256 hex of `body`. */
  revision: string;
  origin: string;
  body: string;
  createdAt: Date;
}

export interface PolicyRevisionStore {
  /** Stores the revision (idempotent) and makes it the active one, in one transaction. */
  activate(revision: { revision: string; origin: string; body: string }): Promise<void>;
  /** The active revision, if any node ever activated one. */
  active(): Promise<PolicyRevisionRecord | undefined>;
}

export interface DelegationCounterStore {
  /**
   * Atomically counts one more delegated token spawned from the subject token `jti`, unless it
   * already spawned `max`. True when counted. The counter lives until `expiresAt`.
   */
  claim(jti: string, max: number, expiresAt: Date): Promise<boolean>;
  purgeExpired(): Promise<number>;
}

/** Every repository, over one database. */
export interface Store {
  readonly kind: 'postgres' | 'pglite';
  readonly oidc: OidcModelStore;
  readonly tenants: TenantStore;
  readonly agents: AgentStore;
  readonly signingKeys: SigningKeyStore;
  readonly revocations: RevocationStore;
  readonly adminKeys: AdminKeyStore;
  readonly settings: SettingStore;
  readonly connections: ConnectionStore;
  readonly policies: PolicyRevisionStore;
  readonly delegations: DelegationCounterStore;
  readonly audit: AuditLogStore;
  readonly exportCursors: ExportCursorStore;
  readonly vaultRecords: VaultRecordStore;
  readonly vaultKeks: VaultKekStore;
  readonly managedSecrets: ManagedSecretStore;
  readonly apps: AppStore;
  readonly appKeys: AppKeyStore;
  readonly providerConfigs: ProviderConfigStore;
  readonly connectSessions: ConnectSessionStore;
  readonly upstreamRevocations: UpstreamRevocationStore;
  /**
   * Runs `fn` only if no other node is running a task under the same `lock` right now (a
   * database lock held for the whole call); returns false without running it otherwise.
   */
  exclusive(lock: 'auditExport', fn: () => Promise<void>): Promise<boolean>;
  /** Applies pending versioned migrations under a lock (safe when several nodes start at once). */
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
