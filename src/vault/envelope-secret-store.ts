import type { KekProvider, SecretIdentity, SecretStore, SecretVersionInfo, VaultRecordStore } from '../ports/vault.ts';
import { SecretIntegrityError } from '../shared/errors.ts';
import { open, recordContext, seal } from './envelope.ts';
import { secretNotFound, tooManyConcurrentWrites } from './secret-errors.ts';

/**
 * The built-in vault (`kind = 'aes'`): AES-256-GCM envelope encryption. Each record version
 * gets a fresh 256-bit data key and a random 96-bit nonce; its identity and version are the
 * additional authenticated data; the data key is wrapped by the KEK provider (local master
 * key or Vault Transit). The database holds only ciphertext.
 */
export class EnvelopeSecretStore implements SecretStore {
  readonly kind = 'aes';
  readonly #records: VaultRecordStore;
  readonly #kek: KekProvider;

  constructor(deps: { records: VaultRecordStore; kek: KekProvider }) {
    this.#records = deps.records;
    this.#kek = deps.kek;
  }

  async put(identity: SecretIdentity, value: Uint8Array): Promise<number> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const version = (await this.#records.latestVersion(identity)) + 1;
      const context = recordContext(identity, version);
      const key = await this.#kek.generateDataKey(context);
      try {
        const { nonce, sealed } = seal(key.plaintext, value, context);
        const inserted = await this.#records.insert({
          ...identity, version, kekVersion: key.kekVersion, wrappedKey: key.wrapped, nonce: nonce.toString('base64'), ciphertext: sealed.toString('base64'),
        });
        if (inserted) return version;
      } finally {
        key.plaintext.fill(0);
      }
    }
    throw tooManyConcurrentWrites('aes');
  }

  async get(identity: SecretIdentity, version?: number): Promise<Uint8Array> {
    const record = await this.#records.find(identity, version);
    if (!record) throw secretNotFound(identity, version);
    const context = recordContext(identity, record.version);
    const dataKey = await this.#kek.unwrap(record.wrappedKey, context);
    try {
      return open(dataKey, Buffer.from(record.nonce, 'base64'), Buffer.from(record.ciphertext, 'base64'), context);
    } finally {
      dataKey.fill(0);
    }
  }

  delete(identity: SecretIdentity): Promise<void> {
    return this.#records.delete(identity);
  }

  async listVersions(identity: SecretIdentity): Promise<SecretVersionInfo[]> {
    return this.#records.versions(identity);
  }

  /**
   * Moves every record to the newest KEK, `batchSize` rows per transaction (re-wrapping data
   * keys; values are not re-encrypted). A record that does not authenticate is left as it is
   * and counted in `failed` (it would not decrypt either way). Safe while traffic runs and on
   * several nodes at once.
   */
  async rewrapAll(batchSize = 500): Promise<{ rewrapped: number; failed: number }> {
    const current = await this.#kek.current();
    let cursor: string | undefined;
    let rewrapped = 0;
    let failed = 0;
    for (;;) {
      const batch = await this.#records.rewrapBatch(current, batchSize, async (record) => {
        try {
          const r = await this.#kek.rewrap(record.wrappedKey, recordContext(record, record.version));
          return { wrappedKey: r.wrapped, kekVersion: r.kekVersion };
        } catch (err) {
          if (!(err instanceof SecretIntegrityError)) throw err;
          failed++;
          return undefined;
        }
      }, cursor);
      rewrapped += batch.rewrapped;
      if (batch.seen < batchSize || !batch.cursor) return { rewrapped, failed };
      cursor = batch.cursor;
    }
  }
}
