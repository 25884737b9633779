import { hkdfSync, randomBytes } from 'node:crypto';
import type { KekProvider, VaultKekStore } from '../ports/vault.ts';
import { SecretIntegrityError } from '../shared/errors.ts';
import { open, seal } from './envelope.ts';

const PREFIX = 'alter';
const CHECK_TEXT = Buffer.from('alter-vault kek check', 'utf8');
/** How long a node trusts its view of the newest KEK version (another node may rotate). */
const CURRENT_TTL_MS = 10_000;

/** The master key cannot open the vault's KEKs: start must stop (never silently lose secrets). */
export class MasterKeyMismatch extends Error {
  override readonly name = 'MasterKeyMismatch';
  readonly code = 'ERR_MASTER_KEY_MISMATCH';
}

/**
 * Key-encryption keys derived from one master key (HKDF-SHA256, one KEK per version; the KEKs
 * themselves are never stored). Wrapped data keys read `alter:v<N>:<base64(nonce ‖ ct ‖ tag)>`.
 * Each version has a stored check value, so a wrong or lost master key is detected at start.
 */
export class LocalKekProvider implements KekProvider {
  readonly kind = 'local';
  readonly #master: Buffer;
  readonly #store: VaultKekStore;
  #current: { version: number; at: number } | undefined;
  readonly #derived = new Map<number, Buffer>();

  private constructor(master: Buffer, store: VaultKekStore) {
    this.#master = Buffer.from(master);
    this.#store = store;
  }

  /** Checks the master key against every stored KEK version (creating v1 on first start). */
  static async open(master: Buffer, store: VaultKekStore): Promise<LocalKekProvider> {
    if (master.length !== 32) throw new TypeError('the master key must be 32 bytes');
    const provider = new LocalKekProvider(master, store);
    let versions = await store.list();
    if (versions.length === 0) {
      await store.add(1, provider.#checkValue(1));
      versions = await store.list();
    }
    for (const v of versions) {
      try {
        const [nonce, sealed] = v.checkValue.split('.').map((p) => Buffer.from(p, 'base64'));
        open(provider.#kek(v.version), nonce!, sealed!, Buffer.from(`check:v${v.version}`));
      } catch {
        throw new MasterKeyMismatch(`the master key cannot open the vault (KEK v${v.version} fails its check): it is not the key this vault was created with. Stored secrets cannot be decrypted; restore the original ALTER_MASTER_KEY (or master.key) instead of starting with a new one.`);
      }
    }
    return provider;
  }

  #kek(version: number): Buffer {
    let kek = this.#derived.get(version);
    if (!kek) {
      kek = Buffer.from(hkdfSync('sha256', this.#master, 'alter-vault-kek', `kek-v${version}`, 32));
      this.#derived.set(version, kek);
    }
    return kek;
  }

  #checkValue(version: number): string {
    const { nonce, sealed } = seal(this.#kek(version), CHECK_TEXT, Buffer.from(`check:v${version}`));
    return `${nonce.toString('base64')}.${sealed.toString('base64')}`;
  }

  async #currentVersion(): Promise<number> {
    if (this.#current && Date.now() - this.#current.at < CURRENT_TTL_MS) return this.#current.version;
    const versions = await this.#store.list();
    const version = Math.max(1, ...versions.map((v) => v.version));
    this.#current = { version, at: Date.now() };
    return version;
  }

  async current(): Promise<string> {
    return `${PREFIX}:v${await this.#currentVersion()}`;
  }

  #wrap(version: number, dataKey: Buffer, context: Uint8Array): string {
    const { nonce, sealed } = seal(this.#kek(version), dataKey, context);
    return `${PREFIX}:v${version}:${Buffer.concat([nonce, sealed]).toString('base64')}`;
  }

  async generateDataKey(context: Uint8Array): Promise<{ plaintext: Buffer; wrapped: string; kekVersion: string }> {
    const version = await this.#currentVersion();
    const plaintext = randomBytes(32);
    return { plaintext, wrapped: this.#wrap(version, plaintext, context), kekVersion: `${PREFIX}:v${version}` };
  }

  async unwrap(wrapped: string, context: Uint8Array): Promise<Buffer> {
    const m = /^alter:v(\d+):([A-Za-z0-9+/=]+)$/.exec(wrapped);
    if (!m) throw new SecretIntegrityError('not a wrapped data key of the local KEK');
    const blob = Buffer.from(m[2]!, 'base64');
    return open(this.#kek(Number(m[1])), blob.subarray(0, 12), blob.subarray(12), context);
  }

  async rewrap(wrapped: string, context: Uint8Array): Promise<{ wrapped: string; kekVersion: string }> {
    const version = await this.#currentVersion();
    const dataKey = await this.unwrap(wrapped, context);
    try {
      return { wrapped: this.#wrap(version, dataKey, context), kekVersion: `${PREFIX}:v${version}` };
    } finally {
      dataKey.fill(0);
    }
  }

  async rotate(): Promise<void> {
    for (;;) {
      const next = Math.max(0, ...(await this.#store.list()).map((v) => v.version)) + 1;
      if (await this.#store.add(next, this.#checkValue(next))) {
        this.#current = { version: next, at: Date.now() };
        return;
      }
    }
  }
}
