import { randomBytes } from 'node:crypto';
import type { SettingStore } from '../ports/store.ts';
import type { SecretIdentity, SecretStore } from '../ports/vault.ts';

interface SealedMarker {
  sealed_in_vault: string;
}

function identity(recordId: string): SecretIdentity {
  return { orgId: '_alter', appId: '_alter', purpose: 'setting', recordId };
}

function isMarker(value: unknown): value is SealedMarker {
  return typeof value === 'object' && value !== null && typeof (value as SealedMarker).sealed_in_vault === 'string';
}

/**
 * A {@link SettingStore} whose values (generated secrets: the audit signing key, the
 * identifier HMAC key, cookie keys) live in the vault; the `settings` table keeps a reference.
 * First writer wins across nodes: a node stores its candidate in the vault *before* it tries to
 * claim the setting (and deletes it when another node's claim won), so whichever reference wins
 * already points at a stored value, even if its node died right after. A value an earlier
 * version stored in plaintext keeps being used as it is.
 */
export class SealedSettingStore implements SettingStore {
  readonly #inner: SettingStore;
  readonly #vault: SecretStore;

  constructor(deps: { inner: SettingStore; vault: SecretStore }) {
    this.#inner = deps.inner;
    this.#vault = deps.vault;
  }

  async get<T>(name: string): Promise<T | undefined> {
    const stored = await this.#inner.get<unknown>(name);
    if (stored === undefined) return undefined;
    return isMarker(stored) ? this.#open<T>(stored) : (stored as T);
  }

  async #open<T>(marker: SealedMarker): Promise<T> {
    return JSON.parse(Buffer.from(await this.#vault.get(identity(marker.sealed_in_vault))).toString('utf8')) as T;
  }

  async getOrCreate<T>(name: string, create: () => T): Promise<T> {
    // the common case, a setting that exists: one read, no candidate written and deleted
    const existing = await this.get<T>(name);
    if (existing !== undefined) return existing;
    const candidate = `${name}.${randomBytes(9).toString('base64url')}`;
    await this.#vault.put(identity(candidate), Buffer.from(JSON.stringify(create())));
    const winner = await this.#inner.getOrCreate<unknown>(name, () => ({ sealed_in_vault: candidate }));
    if (!isMarker(winner)) {
      // stored in plaintext by an earlier version: keep using it
      await this.#vault.delete(identity(candidate));
      return winner as T;
    }
    if (winner.sealed_in_vault !== candidate) await this.#vault.delete(identity(candidate));
    return this.#open<T>(winner);
  }
}
