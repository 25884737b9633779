import { setTimeout as sleep } from 'node:timers/promises';
import type { SecretIdentity, SecretStore, SecretVersionInfo } from '../../ports/vault.ts';
import { VaultUnavailable } from '../../shared/errors.ts';
import { restCall, unexpectedStatus, type RestRequest, type RestResponse } from '../rest-call.ts';
import { secretNotFound, tooManyConcurrentWrites } from '../secret-errors.ts';
import { azureSecretName } from './azure-secret-name.ts';

/** Settings of the Azure Key Vault adapter. */
export interface AzureSecretStoreConfig {
  /** `https://<vault-name>.vault.azure.net` (a fake in tests). */
  vaultUrl: string;
  /**
   * Bearer token source for `https://vault.azure.net`, called per request. Production passes
   * {@link createAzureManagedIdentityTokenProvider} (managed identity, cached until expiry);
   * tests pass a static token.
   */
  token: () => Promise<string>;
  /** Default `7.4`. */
  apiVersion?: string;
  /** Deadline per request; default 5000 ms. */
  timeoutMs?: number;
  /** Purge after the soft delete (default true; a 403 on purge is ignored). */
  purge?: boolean;
  fetch?: typeof fetch;
}

/** Tag holding Alter's version number on each Key Vault version. */
const VERSION_TAG = 'alter-version';
/** Tag marking a version that lost a race for its number (it is also disabled). */
const VOID_TAG = 'alter-void';
const MAX_PUT_ATTEMPTS = 10;

interface VersionItem {
  /** Key Vault's opaque version id. */
  id: string;
  /** Alter's number (undefined: not written by Alter). */
  version?: number;
  void: boolean;
  enabled: boolean;
  created: Date;
}

interface SecretItem {
  id?: string;
  attributes?: { enabled?: boolean; created?: number };
  tags?: Record<string, string>;
}

/**
 * Azure Key Vault secrets over REST (`kind = 'azure'`). One secret per identity (named by
 * {@link azureSecretName}); each put is a `PUT` that creates a new Key Vault version holding the
 * base64 value, with Alter's N in the `alter-version` tag (Key Vault version ids are opaque).
 *
 * Key Vault has no conditional write, so N is claimed optimistically: take the lowest N no live
 * (non-void) version holds, write it, list again; if another live version also holds N, disable
 * ours, tag it `alter-void` and retry after a random pause. A writer returns N only when its
 * post-write listing shows no other live N, so two writers never both return N (a later writer
 * always sees the earlier one). A writer that crashes between its write and its check can leave
 * a second live N behind (reads then take the older); one that crashes right after voiding
 * leaves a gap the next put fills. Delete is a soft delete followed by a purge.
 * @see https://learn.microsoft.com/rest/api/keyvault/secrets
 */
export function createAzureSecretStore(config: AzureSecretStoreConfig): SecretStore {
  return new AzureSecretStore(config);
}

class AzureSecretStore implements SecretStore {
  readonly kind = 'azure';
  readonly #config: AzureSecretStoreConfig;
  readonly #vault: URL;

  constructor(config: AzureSecretStoreConfig) {
    this.#config = config;
    this.#vault = new URL(config.vaultUrl.replace(/\/+$/u, ''));
  }

  async put(identity: SecretIdentity, value: Uint8Array): Promise<number> {
    const name = azureSecretName(identity);
    const body = { value: Buffer.from(value).toString('base64'), contentType: 'application/octet-stream;base64', tags: {} as Record<string, string> };
    for (let attempt = 0; attempt < MAX_PUT_ATTEMPTS; attempt++) {
      const version = firstFree((await this.#versions(name)) ?? []);
      body.tags = { [VERSION_TAG]: String(version), 'managed-by': 'alter' };
      const written = await this.#call('PUT', `secrets/${name}`, body);
      if (written.status === 409) {
        // Deleted but not yet purged: the name cannot be reused until the purge completes.
        await this.#purge(name, true);
        await sleep(100 * (attempt + 1));
        continue;
      }
      if (written.status !== 200) throw unexpectedStatus('azure', written);
      const mine = versionId((written.body as SecretItem | undefined)?.id);
      if (!mine) throw new VaultUnavailable('azure', 'set secret returned no version id');
      const rivals = ((await this.#versions(name)) ?? []).filter((v) => v.version === version && !v.void && v.id !== mine);
      if (rivals.length === 0) return version;
      const voided = await this.#call('PATCH', `secrets/${name}/${mine}`, { attributes: { enabled: false }, tags: { [VERSION_TAG]: String(version), [VOID_TAG]: 'true' } });
      if (voided.status !== 200) throw unexpectedStatus('azure', voided);
      await sleep(Math.random() * 50 * (attempt + 1));
    }
    throw tooManyConcurrentWrites('azure');
  }

  async get(identity: SecretIdentity, version?: number): Promise<Uint8Array> {
    const name = azureSecretName(identity);
    const versions = live((await this.#versions(name)) ?? []);
    const target = version === undefined ? versions.at(-1) : versions.find((v) => v.version === version);
    if (!target) throw secretNotFound(identity, version);
    const response = await this.#call('GET', `secrets/${name}/${target.id}`);
    if (response.status === 404) throw secretNotFound(identity, version);
    if (response.status !== 200) throw unexpectedStatus('azure', response);
    return Buffer.from((response.body as { value?: string } | undefined)?.value ?? '', 'base64');
  }

  async delete(identity: SecretIdentity): Promise<void> {
    const name = azureSecretName(identity);
    const response = await this.#call('DELETE', `secrets/${name}`);
    if (response.status !== 200 && response.status !== 404) throw unexpectedStatus('azure', response);
    if (this.#config.purge !== false) await this.#purge(name, false);
  }

  async listVersions(identity: SecretIdentity): Promise<SecretVersionInfo[]> {
    return live((await this.#versions(azureSecretName(identity))) ?? []).map((v) => ({ version: v.version!, createdAt: v.created }));
  }

  /** Purges a soft-deleted secret; 403 (no purge permission) and 404 are fine, 409 (still deleting) is retried briefly. */
  async #purge(name: string, required: boolean): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const response = await this.#call('DELETE', `deletedsecrets/${name}`);
      if (response.status === 200 || response.status === 204 || response.status === 404) return;
      if (response.status === 403) {
        if (required) throw new VaultUnavailable('azure', 'secret is soft-deleted and purge is not permitted; recover or purge it in Key Vault');
        return;
      }
      if (response.status !== 409) throw unexpectedStatus('azure', response);
      await sleep(200 * (attempt + 1));
    }
  }

  /** Every version of a secret (all pages); undefined when there is no secret. */
  async #versions(name: string): Promise<VersionItem[] | undefined> {
    const items: VersionItem[] = [];
    let url: string | undefined = this.#url(`secrets/${name}/versions`, 'maxresults=25');
    while (url) {
      const response = await this.#fetch('GET', url);
      if (response.status === 404) return undefined;
      if (response.status !== 200) throw unexpectedStatus('azure', response);
      const page = (response.body ?? {}) as { value?: SecretItem[]; nextLink?: string | null };
      for (const item of page.value ?? []) {
        const id = versionId(item.id);
        if (!id) continue;
        const tagged = Number(item.tags?.[VERSION_TAG]);
        items.push({
          id,
          version: Number.isSafeInteger(tagged) && tagged > 0 ? tagged : undefined,
          void: item.tags?.[VOID_TAG] === 'true',
          enabled: item.attributes?.enabled !== false,
          created: new Date((item.attributes?.created ?? 0) * 1000),
        });
      }
      url = page.nextLink ? this.#sameVault(page.nextLink) : undefined;
    }
    return items;
  }

  /** A nextLink must stay on the vault: the bearer token goes wherever it points. */
  #sameVault(link: string): string {
    if (new URL(link).origin !== this.#vault.origin) throw new VaultUnavailable('azure', 'nextLink points outside the vault');
    return link;
  }

  #url(path: string, query = ''): string {
    return `${this.#vault.href.replace(/\/+$/u, '')}/${path}?api-version=${this.#config.apiVersion ?? '7.4'}${query ? `&${query}` : ''}`;
  }

  #call(method: RestRequest['method'], path: string, body?: unknown): Promise<RestResponse> {
    return this.#fetch(method, this.#url(path), body);
  }

  #fetch(method: RestRequest['method'], url: string, body?: unknown): Promise<RestResponse> {
    return restCall('azure', { method, url, body, token: this.#config.token, timeoutMs: this.#config.timeoutMs ?? 5_000, fetch: this.#config.fetch });
  }
}

/** Alter's live versions, oldest first; for a duplicated N (a crashed writer) the older wins. */
function live(items: VersionItem[]): VersionItem[] {
  const byVersion = new Map<number, VersionItem>();
  const ordered = items.filter((v) => v.version !== undefined && !v.void && v.enabled).sort((a, b) => a.created.getTime() - b.created.getTime());
  for (const item of ordered) if (!byVersion.has(item.version!)) byVersion.set(item.version!, item);
  return [...byVersion.values()].sort((a, b) => a.version! - b.version!);
}

/**
 * The lowest N no live version holds. Normally the highest N plus one; a number whose every
 * claimant lost (all void) is taken again, so racing writers leave no gaps.
 */
function firstFree(items: VersionItem[]): number {
  const held = new Set(items.filter((v) => !v.void && v.version !== undefined).map((v) => v.version));
  let version = 1;
  while (held.has(version)) version++;
  return version;
}

/** `https://v.vault.azure.net/secrets/name/<version>` → `<version>`. */
function versionId(id: string | undefined): string | undefined {
  return /\/secrets\/[0-9a-zA-Z-]+\/([0-9a-zA-Z]+)$/u.exec(id ?? '')?.[1];
}
