/**
 * Vault port (DESIGN.md, Parts: vault; issue 5). Every stored credential goes through a
 * {@link SecretStore}: the application database keeps only references and metadata.
 */

/**
 * Whose secret this is. Bound to the ciphertext as additional authenticated data (built-in AES)
 * or encoded in the external secret's name, so a secret copied to another row or tenant does not
 * decrypt or resolve.
 */
export interface SecretIdentity {
  orgId: string;
  appId: string;
  /** The owning record's id (`sec_…`, `con_…`, a signing key id). */
  recordId: string;
  /** What the secret is for: `managed_secret`, `connection_token`, `signing_key`, … */
  purpose: string;
}

export interface SecretVersionInfo {
  /** 1, 2, 3, … per identity. */
  version: number;
  createdAt: Date;
}

/**
 * A secret store. Values are bytes; every write creates a new version. Implementations throw
 * {@link VaultUnavailable} (the store is down, times out or denies access: 503 naming the
 * adapter), {@link SecretNotFound}, or {@link SecretIntegrityError} (a value that does not
 * authenticate: tampered, moved, or the wrong key) — never a fallback to anything else.
 */
export interface SecretStore {
  /** `aes`, `hashicorp`, `aws`, `gcp`, `azure`: named in errors and logs. */
  readonly kind: string;
  /** Stores a new version; returns its number. */
  put(identity: SecretIdentity, value: Uint8Array): Promise<number>;
  /** The latest version's value, or the given version's. */
  get(identity: SecretIdentity, version?: number): Promise<Uint8Array>;
  /** Deletes every version (idempotent). */
  delete(identity: SecretIdentity): Promise<void>;
  /** Versions, oldest first (empty when there is none). */
  listVersions(identity: SecretIdentity): Promise<SecretVersionInfo[]>;
}

/** One envelope as the built-in store keeps it (all binary fields base64). */
export interface VaultRecord extends SecretIdentity {
  version: number;
  /** The KEK version that wraps the data key (`alter:v3`, `vault:v2`, …). */
  kekVersion: string;
  wrappedKey: string;
  nonce: string;
  /** AES-256-GCM ciphertext followed by its 16-byte tag. */
  ciphertext: string;
  createdAt: Date;
}

/** Storage of the built-in vault's envelopes (the database holds ciphertext only). */
export interface VaultRecordStore {
  /** Inserts a version; false when that version already exists (a concurrent writer won). */
  insert(record: Omit<VaultRecord, 'createdAt'>): Promise<boolean>;
  latestVersion(identity: SecretIdentity): Promise<number>;
  find(identity: SecretIdentity, version?: number): Promise<VaultRecord | undefined>;
  versions(identity: SecretIdentity): Promise<SecretVersionInfo[]>;
  delete(identity: SecretIdentity): Promise<void>;
  /**
   * Re-wraps up to `limit` records whose KEK version is not `current`, in key order after
   * `after` (a cursor from the previous batch): `rewrap` gets each record and returns its new
   * wrapped key, or undefined to leave it (a record that does not authenticate). Rows are locked
   * while re-wrapped (safe with several nodes and with traffic).
   */
  rewrapBatch(
    current: string,
    limit: number,
    rewrap: (record: VaultRecord) => Promise<{ wrappedKey: string; kekVersion: string } | undefined>,
    after?: string,
  ): Promise<{ seen: number; rewrapped: number; cursor?: string }>;
  /** How many records each KEK version wraps. */
  countByKek(): Promise<Record<string, number>>;
}

/** The local KEK versions (the keys derive from the master key; only check values are stored). */
export interface VaultKekStore {
  list(): Promise<Array<{ version: number; checkValue: string; createdAt: Date }>>;
  /** Adds a version; false when it already exists (a concurrent rotation won). */
  add(version: number, checkValue: string): Promise<boolean>;
}

/** Wraps data keys under a key-encryption key (local, derived from the master key, or Vault Transit). */
export interface KekProvider {
  readonly kind: string;
  /** A fresh 256-bit data key, in clear and wrapped under the newest KEK version. */
  generateDataKey(context: Uint8Array): Promise<{ plaintext: Buffer; wrapped: string; kekVersion: string }>;
  unwrap(wrapped: string, context: Uint8Array): Promise<Buffer>;
  /** Re-wraps under the newest KEK version without exposing the data key outside the provider. */
  rewrap(wrapped: string, context: Uint8Array): Promise<{ wrapped: string; kekVersion: string }>;
  /** Starts a new KEK version; new records use it. */
  rotate(): Promise<void>;
  /** The newest KEK version. */
  current(): Promise<string>;
}

export type ManagedSecretType = 'bearer' | 'api_key' | 'basic' | 'aws_sigv4';

/** A developer-managed credential's metadata (its value lives in the vault, never here). */
export interface ManagedSecret {
  /** `sec_…`: usable wherever a connection id is. */
  id: string;
  orgId: string;
  appId: string;
  name: string;
  type: ManagedSecretType;
  /**
   * Non-secret settings: the API key's header or query parameter, the SigV4 region and service,
   * and where the proxy may send it (`base_urls`) under which policy provider name (`provider`).
   */
  metadata: Record<string, string | string[]>;
  currentVersion: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface ManagedSecretStore {
  /** Throws ConflictError when the app already has a secret with that name. */
  create(secret: Omit<ManagedSecret, 'createdAt' | 'updatedAt'>): Promise<ManagedSecret>;
  find(tenant: { orgId: string; appId: string }, id: string): Promise<ManagedSecret | undefined>;
  list(tenant: { orgId: string; appId: string }): Promise<ManagedSecret[]>;
  setVersion(tenant: { orgId: string; appId: string }, id: string, version: number): Promise<ManagedSecret | undefined>;
  delete(tenant: { orgId: string; appId: string }, id: string): Promise<boolean>;
}
