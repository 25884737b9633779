import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretIdentity, SecretStore, SecretVersionInfo } from '../../ports/vault.ts';
import { isVersionNumber, secretNotFound, tooManyConcurrentWrites } from '../secret-errors.ts';
import { awsErrorName, awsFailure } from './aws-errors.ts';
import { alterVersion, awsSecretName, awsVersionId } from './aws-secret-name.ts';

type Sdk = typeof import('@aws-sdk/client-secrets-manager');

/** Settings of the AWS Secrets Manager adapter. */
export interface AwsSecretStoreConfig {
  region: string;
  /** Custom endpoint (a VPC endpoint, or the fake in tests). */
  endpoint?: string;
  /** Static credentials; omitted → the SDK's default chain (environment, IRSA, instance role…). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Connect and socket timeout per attempt; default 5000 ms (two attempts at most). */
  timeoutMs?: number;
}

/** How many writers may collide on one secret before a put gives up. */
const MAX_PUT_ATTEMPTS = 20;

/**
 * AWS Secrets Manager (`kind = 'aws'`). The SDK loads only when this factory runs. One secret
 * per identity (named by {@link awsSecretName}), the value in `SecretBinary`; Alter's version N
 * is the Secrets Manager version whose id is {@link awsVersionId}(N) (a `ClientRequestToken`,
 * rather than an `alter-v<N>` staging label, because a secret holds at most 20 labels). "Latest"
 * is the highest N, not `AWSCURRENT`, which concurrent writers may leave on a lower one.
 *
 * AWS keeps at most 100 versions and eventually removes versions without a staging label, so
 * old versions stay readable only while AWS retains them; Alter writes again on rotation.
 * @see https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html
 */
export async function createAwsSecretStore(config: AwsSecretStoreConfig): Promise<SecretStore> {
  const sdk: Sdk = await import('@aws-sdk/client-secrets-manager');
  const timeoutMs = config.timeoutMs ?? 5_000;
  const client = new sdk.SecretsManagerClient({
    region: config.region,
    endpoint: config.endpoint,
    credentials: config.credentials,
    maxAttempts: 2,
    // Without throwOnRequestTimeout the handler only warns when requestTimeout passes.
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true },
  });
  return new AwsSecretStore(sdk, client);
}

class AwsSecretStore implements SecretStore {
  readonly kind = 'aws';
  readonly #sdk: Sdk;
  readonly #client: SecretsManagerClient;

  constructor(sdk: Sdk, client: SecretsManagerClient) {
    this.#sdk = sdk;
    this.#client = client;
  }

  async put(identity: SecretIdentity, value: Uint8Array): Promise<number> {
    const name = awsSecretName(identity);
    for (let attempt = 0; attempt < MAX_PUT_ATTEMPTS; attempt++) {
      const versions = await this.#versions(name);
      const version = versions === undefined ? 1 : Math.max(0, ...versions.map((v) => v.version)) + 1;
      const token = awsVersionId(version);
      try {
        if (versions === undefined) {
          await this.#client.send(new this.#sdk.CreateSecretCommand({
            Name: name, SecretBinary: value, ClientRequestToken: token, Description: 'Managed by Alter', Tags: [{ Key: 'managed-by', Value: 'alter' }],
          }));
        } else {
          await this.#client.send(new this.#sdk.PutSecretValueCommand({ SecretId: name, SecretBinary: value, ClientRequestToken: token }));
        }
        return version;
      } catch (error) {
        // Another writer created the secret or took this version first: re-read and try the next.
        if (awsErrorName(error) === 'ResourceExistsException') continue;
        // Deleted between our read and write: start over from version 1.
        if (awsErrorName(error) === 'ResourceNotFoundException') continue;
        throw awsFailure(error);
      }
    }
    throw tooManyConcurrentWrites('aws');
  }

  async get(identity: SecretIdentity, version?: number): Promise<Uint8Array> {
    const notFound = () => secretNotFound(identity, version);
    const name = awsSecretName(identity);
    let target = version;
    if (target === undefined) {
      const versions = await this.#versions(name);
      if (!versions?.length) throw notFound();
      target = Math.max(...versions.map((v) => v.version));
    }
    if (!isVersionNumber(target)) throw notFound();
    try {
      const result = await this.#client.send(new this.#sdk.GetSecretValueCommand({ SecretId: name, VersionId: awsVersionId(target) }));
      if (result.SecretBinary) return result.SecretBinary;
      return Buffer.from(result.SecretString ?? '', 'utf8');
    } catch (error) {
      throw awsFailure(error, notFound);
    }
  }

  async delete(identity: SecretIdentity): Promise<void> {
    try {
      await this.#client.send(new this.#sdk.DeleteSecretCommand({ SecretId: awsSecretName(identity), ForceDeleteWithoutRecovery: true }));
    } catch (error) {
      if (awsErrorName(error) === 'ResourceNotFoundException') return;
      throw awsFailure(error);
    }
  }

  async listVersions(identity: SecretIdentity): Promise<SecretVersionInfo[]> {
    const versions = (await this.#versions(awsSecretName(identity))) ?? [];
    return versions.sort((a, b) => a.version - b.version);
  }

  /** Alter's versions of a secret (every page, deprecated ones included); undefined when there is no secret. */
  async #versions(name: string): Promise<SecretVersionInfo[] | undefined> {
    const versions: SecretVersionInfo[] = [];
    let next: string | undefined;
    try {
      do {
        const page = await this.#client.send(new this.#sdk.ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true, MaxResults: 100, NextToken: next }));
        for (const item of page.Versions ?? []) {
          const version = alterVersion(item.VersionId);
          if (version !== undefined) versions.push({ version, createdAt: item.CreatedDate ?? new Date(0) });
        }
        next = page.NextToken;
      } while (next);
    } catch (error) {
      if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
      throw awsFailure(error);
    }
    return versions;
  }
}
