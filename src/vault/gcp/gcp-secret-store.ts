import type { SecretIdentity, SecretStore, SecretVersionInfo } from '../../ports/vault.ts';
import { SecretIntegrityError, VaultUnavailable } from '../../shared/errors.ts';
import { describeStatus, restCall, unexpectedStatus, type RestResponse } from '../rest-call.ts';
import { isVersionNumber, secretNotFound } from '../secret-errors.ts';
import { crc32c } from './crc32c.ts';
import { gcpSecretId } from './gcp-secret-name.ts';

/** Settings of the GCP Secret Manager adapter. */
export interface GcpSecretStoreConfig {
  /** The project holding the secrets. */
  projectId: string;
  /** REST base URL; default `https://secretmanager.googleapis.com/v1` (a fake in tests). */
  endpoint?: string;
  /**
   * OAuth access token source, called per request. Production passes
   * {@link createGcpMetadataTokenProvider} (the attached service account, cached until expiry)
   * or a service-account token source; tests pass a static token.
   */
  token: () => Promise<string>;
  /** Deadline per request; default 5000 ms. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

interface AccessResponse {
  payload?: { data?: string; dataCrc32c?: string };
}

interface ListResponse {
  versions?: Array<{ name?: string; createTime?: string; state?: string }>;
  nextPageToken?: string;
}

/**
 * GCP Secret Manager over its REST API (`kind = 'gcp'`). One secret per identity (named by
 * {@link gcpSecretId}, automatic replication, label `managed-by=alter`); each put adds a
 * version. GCP numbers versions 1, 2, 3… per secret itself, so Alter's version is GCP's.
 * Payloads travel base64 with a CRC32C that GCP checks on write and Alter checks on read.
 * @see https://cloud.google.com/secret-manager/docs/reference/rest
 */
export function createGcpSecretStore(config: GcpSecretStoreConfig): SecretStore {
  return new GcpSecretStore(config);
}

class GcpSecretStore implements SecretStore {
  readonly kind = 'gcp';
  readonly #config: GcpSecretStoreConfig;
  readonly #project: string;

  constructor(config: GcpSecretStoreConfig) {
    this.#config = config;
    this.#project = `${(config.endpoint ?? 'https://secretmanager.googleapis.com/v1').replace(/\/+$/u, '')}/projects/${encodeURIComponent(config.projectId)}`;
  }

  async put(identity: SecretIdentity, value: Uint8Array): Promise<number> {
    const secret = this.#secret(identity);
    const body = { payload: { data: Buffer.from(value).toString('base64'), dataCrc32c: String(crc32c(value)) } };
    let added = await this.#call('POST', `${secret}:addVersion`, body);
    if (added.status === 404) {
      // First write: create the secret (409 when a concurrent writer already did), then add.
      const created = await this.#call('POST', `${this.#project}/secrets?secretId=${gcpSecretId(identity)}`, {
        replication: { automatic: {} },
        labels: { 'managed-by': 'alter' },
      });
      if (created.status !== 200 && created.status !== 409) throw unexpectedStatus('gcp', created);
      added = await this.#call('POST', `${secret}:addVersion`, body);
    }
    if (added.status !== 200) throw unexpectedStatus('gcp', added);
    const version = versionNumber((added.body as { name?: string } | undefined)?.name);
    if (version === undefined) throw new VaultUnavailable('gcp', 'addVersion returned no version name');
    return version;
  }

  async get(identity: SecretIdentity, version?: number): Promise<Uint8Array> {
    if (version !== undefined && !isVersionNumber(version)) throw secretNotFound(identity, version);
    const response = await this.#call('GET', `${this.#secret(identity)}/versions/${version ?? 'latest'}:access`);
    // 400 FAILED_PRECONDITION: the version is disabled or destroyed, so it has no value to give.
    if (response.status === 404 || (response.status === 400 && describeStatus(response).endsWith('FAILED_PRECONDITION'))) throw secretNotFound(identity, version);
    if (response.status !== 200) throw unexpectedStatus('gcp', response);
    const payload = (response.body as AccessResponse | undefined)?.payload;
    const value = Buffer.from(payload?.data ?? '', 'base64');
    if (payload?.dataCrc32c !== undefined && payload.dataCrc32c !== String(crc32c(value))) {
      throw new SecretIntegrityError(`secret ${identity.purpose}/${identity.recordId}: CRC32C mismatch on read`);
    }
    return value;
  }

  async delete(identity: SecretIdentity): Promise<void> {
    const response = await this.#call('DELETE', this.#secret(identity));
    if (response.status !== 200 && response.status !== 404) throw unexpectedStatus('gcp', response);
  }

  async listVersions(identity: SecretIdentity): Promise<SecretVersionInfo[]> {
    const versions: SecretVersionInfo[] = [];
    let pageToken: string | undefined;
    do {
      const query = `pageSize=100${pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : ''}`;
      const response = await this.#call('GET', `${this.#secret(identity)}/versions?${query}`);
      if (response.status === 404) return [];
      if (response.status !== 200) throw unexpectedStatus('gcp', response);
      const page = (response.body ?? {}) as ListResponse;
      for (const item of page.versions ?? []) {
        const version = versionNumber(item.name);
        if (version !== undefined && item.state !== 'DESTROYED') versions.push({ version, createdAt: new Date(item.createTime ?? 0) });
      }
      pageToken = page.nextPageToken || undefined;
    } while (pageToken);
    return versions.sort((a, b) => a.version - b.version);
  }

  #secret(identity: SecretIdentity): string {
    return `${this.#project}/secrets/${gcpSecretId(identity)}`;
  }

  #call(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<RestResponse> {
    return restCall('gcp', { method, url, body, token: this.#config.token, timeoutMs: this.#config.timeoutMs ?? 5_000, fetch: this.#config.fetch });
  }
}

/** `projects/123/secrets/s/versions/7` → 7. */
function versionNumber(name: string | undefined): number | undefined {
  const match = /\/versions\/(\d+)$/u.exec(name ?? '');
  return match ? Number(match[1]) : undefined;
}
