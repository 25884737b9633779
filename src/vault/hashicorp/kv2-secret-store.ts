import { setTimeout as sleep } from 'node:timers/promises';
import type { SecretIdentity, SecretStore, SecretVersionInfo } from '../../ports/vault.ts';
import { SecretIntegrityError, VaultUnavailable } from '../../shared/errors.ts';
import { isVersionNumber, secretNotFound, tooManyConcurrentWrites } from '../secret-errors.ts';
import { kv2SecretPath, mountPath } from './kv2-path.ts';
import { ADAPTER, summary, type VaultHttp, type VaultReply } from './vault-http.ts';

/** Vault's answer when `options.cas` is not the secret's current version. */
const CAS_MISMATCH = 'check-and-set parameter did not match';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

interface VersionMetadata {
  created_time?: string;
  deletion_time?: string;
  destroyed?: boolean;
}

interface Kv2Metadata {
  current_version?: number;
  versions?: Record<string, VersionMetadata>;
}

/**
 * A {@link SecretStore} on HashiCorp Vault's KV secrets engine, version 2 (`kind = 'hashicorp'`).
 * Each identity is one secret at `<mount>/alter/<org>/<app>/<purpose>/<recordId>` whose Vault
 * versions are the store's versions; the value is kept base64 in `data.value`. Writes use
 * check-and-set on the current version, so concurrent writers never overwrite each other: the
 * loser re-reads and writes the next version.
 *
 * Versions beyond the mount's `max_versions` (10 by default) are pruned by Vault itself.
 *
 * @see https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2
 */
export class Kv2SecretStore implements SecretStore {
  readonly kind = 'hashicorp';
  readonly #vault: VaultHttp;
  readonly #mount: string;
  readonly #maxWriteAttempts: number;

  constructor(deps: { vault: VaultHttp; mount?: string; maxWriteAttempts?: number }) {
    this.#vault = deps.vault;
    this.#mount = mountPath(deps.mount ?? 'secret');
    this.#maxWriteAttempts = deps.maxWriteAttempts ?? 20;
  }

  async put(identity: SecretIdentity, value: Uint8Array): Promise<number> {
    const path = kv2SecretPath(identity);
    for (let attempt = 0; attempt < this.#maxWriteAttempts; attempt++) {
      const cas = (await this.#metadata(path))?.current_version ?? 0;
      const reply = await this.#vault.request('POST', `${this.#mount}/data/${path}`, {
        options: { cas },
        data: { value: Buffer.from(value).toString('base64') },
      });
      if (reply.status === 200) {
        const version = (reply.body as { data?: { version?: unknown } } | undefined)?.data?.version;
        if (typeof version === 'number' && Number.isInteger(version) && version > 0) return version;
        throw new VaultUnavailable(ADAPTER, 'KV v2 write answered without a version');
      }
      if (!(reply.status === 400 && reply.errors.some((e) => e.includes(CAS_MISMATCH)))) throw unexpected('write', reply);
      // Another writer took this version: back off a little (jitter spreads the retries) and re-read.
      await sleep(Math.floor(Math.random() * 10 * (attempt + 1)));
    }
    throw tooManyConcurrentWrites(ADAPTER);
  }

  async get(identity: SecretIdentity, version?: number): Promise<Uint8Array> {
    // Vault reads `version=0` as "the latest": only positive integers name a version.
    if (version !== undefined && !isVersionNumber(version)) throw secretNotFound(identity, version);
    const query = version === undefined ? '' : `?version=${version}`;
    const reply = await this.#vault.request('GET', `${this.#mount}/data/${kv2SecretPath(identity)}${query}`);
    // A soft-deleted or destroyed version answers 404 (with its metadata) as well.
    if (reply.status === 404) throw secretNotFound(identity, version);
    if (reply.status !== 200) throw unexpected('read', reply);
    const data = (reply.body as { data?: { data?: { value?: unknown } | null; metadata?: VersionMetadata } } | undefined)?.data;
    if (!data?.data || data.metadata?.destroyed || data.metadata?.deletion_time) throw secretNotFound(identity, version);
    const stored = data.data.value;
    if (typeof stored !== 'string' || !BASE64.test(stored) || stored.length % 4 !== 0) {
      throw new SecretIntegrityError(`the Vault secret for ${identity.purpose}/${identity.recordId} was not written by Alter (no base64 data.value)`);
    }
    return Buffer.from(stored, 'base64');
  }

  async delete(identity: SecretIdentity): Promise<void> {
    const reply = await this.#vault.request('DELETE', `${this.#mount}/metadata/${kv2SecretPath(identity)}`);
    if (reply.status !== 204 && reply.status !== 200 && reply.status !== 404) throw unexpected('delete', reply);
  }

  async listVersions(identity: SecretIdentity): Promise<SecretVersionInfo[]> {
    const versions = (await this.#metadata(kv2SecretPath(identity)))?.versions ?? {};
    return Object.entries(versions)
      .filter(([, v]) => !v.destroyed && !v.deletion_time)
      .map(([n, v]) => ({ version: Number(n), createdAt: new Date(v.created_time ?? 0) }))
      .filter((v) => Number.isInteger(v.version) && v.version > 0)
      .sort((a, b) => a.version - b.version);
  }

  /** The secret's metadata, or undefined when it does not exist. */
  async #metadata(path: string): Promise<Kv2Metadata | undefined> {
    const reply = await this.#vault.request('GET', `${this.#mount}/metadata/${path}`);
    if (reply.status === 404) return undefined;
    if (reply.status !== 200) throw unexpected('metadata read', reply);
    const data = (reply.body as { data?: Kv2Metadata } | undefined)?.data;
    if (!data || typeof data !== 'object') throw new VaultUnavailable(ADAPTER, 'KV v2 metadata answered without data');
    return data;
  }
}

function unexpected(operation: string, reply: VaultReply): VaultUnavailable {
  return new VaultUnavailable(ADAPTER, `KV v2 ${operation} rejected (HTTP ${reply.status}${summary(reply)})`);
}
