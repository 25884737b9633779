import type { AlterConfig } from '../config/config.ts';
import type { KekProvider, SecretStore } from '../ports/vault.ts';
import type { Store } from '../ports/store.ts';
import type { Logger } from '../shared/logger.ts';
import { EnvelopeSecretStore } from './envelope-secret-store.ts';
import { LocalKekProvider } from './local-kek.ts';
import { loadMasterKey } from './master-key.ts';

/** The vault as configured: the built-in envelope store (always: Alter's own keys) and the store for managed secrets. */
export interface OpenedVault {
  kek: KekProvider;
  builtIn: EnvelopeSecretStore;
  /** Where managed secrets go: the built-in store, or the external one configured by ALTER_VAULT. */
  secrets: SecretStore;
}

/**
 * Builds the vault from the configuration (issue 5). External adapters are imported only when
 * configured, so their code (and SDKs) load only where they are used.
 */
export async function openVault(config: AlterConfig, store: Store, log: Logger): Promise<OpenedVault> {
  let kek: KekProvider;
  let vaultHttp: import('./hashicorp/vault-http.ts').VaultHttp | undefined;
  const hashicorp = config.vault.hashicorp;
  if (hashicorp) {
    const { VaultHttp } = await import('./hashicorp/vault-http.ts');
    vaultHttp = new VaultHttp({ address: hashicorp.address, token: hashicorp.token, ...(hashicorp.namespace ? { namespace: hashicorp.namespace } : {}) });
  }
  if (config.vault.kek === 'transit') {
    const { TransitKekProvider } = await import('./hashicorp/transit-kek.ts');
    kek = new TransitKekProvider({ vault: vaultHttp!, mount: hashicorp!.transitMount, key: hashicorp!.transitKey });
    await kek.current(); // fail at start, naming Vault, if Transit cannot be reached
  } else {
    const { key, generatedFile } = await loadMasterKey(config.masterKey!);
    if (generatedFile) log.warn({ path: generatedFile }, 'generated the vault master key; back it up: secrets stored with it cannot be decrypted without it');
    kek = await LocalKekProvider.open(key, store.vaultKeks);
  }
  const builtIn = new EnvelopeSecretStore({ records: store.vaultRecords, kek });
  let secrets: SecretStore = builtIn;
  const { aws, gcp, azure } = config.vault;
  if (config.vault.store === 'hashicorp') {
    const { Kv2SecretStore } = await import('./hashicorp/kv2-secret-store.ts');
    secrets = new Kv2SecretStore({ vault: vaultHttp!, mount: hashicorp!.kvMount });
  } else if (config.vault.store === 'aws' && aws) {
    const { createAwsSecretStore } = await import('./aws/aws-secret-store.ts');
    secrets = await createAwsSecretStore({ region: aws.region, ...(aws.endpoint ? { endpoint: aws.endpoint } : {}), ...(aws.credentials ? { credentials: aws.credentials } : {}) });
  } else if (config.vault.store === 'gcp' && gcp) {
    const [{ createGcpSecretStore }, { createGcpMetadataTokenProvider }] = await Promise.all([import('./gcp/gcp-secret-store.ts'), import('./gcp/metadata-token.ts')]);
    const token = gcp.accessToken;
    secrets = createGcpSecretStore({
      projectId: gcp.project,
      ...(gcp.endpoint ? { endpoint: gcp.endpoint } : {}),
      token: token ? async () => token : createGcpMetadataTokenProvider(),
    });
  } else if (config.vault.store === 'azure' && azure) {
    const [{ createAzureSecretStore }, { createAzureManagedIdentityTokenProvider }] = await Promise.all([import('./azure/azure-secret-store.ts'), import('./azure/managed-identity-token.ts')]);
    const token = azure.accessToken;
    secrets = createAzureSecretStore({
      vaultUrl: azure.vaultUrl,
      token: token ? async () => token : createAzureManagedIdentityTokenProvider(azure.clientId ? { clientId: azure.clientId } : {}),
    });
  }
  return { kek, builtIn, secrets };
}
