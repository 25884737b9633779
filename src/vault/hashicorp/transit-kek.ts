import type { KekProvider } from '../../ports/vault.ts';
import { SecretIntegrityError, VaultUnavailable } from '../../shared/errors.ts';
import { mountPath } from './kv2-path.ts';
import { ADAPTER, summary, type VaultHttp, type VaultReply } from './vault-http.ts';

/** A Transit ciphertext: `vault:v<N>:<base64>`. */
const CIPHERTEXT = /^vault:v(\d+):[A-Za-z0-9+/]+={0,2}$/;
const DATA_KEY_BYTES = 32;

/**
 * HashiCorp Vault Transit as the key-encryption key of the built-in envelope encryption
 * (`kind = 'transit'`). Data keys come from `datakey/plaintext`, wrapped under the newest key
 * version; the record's context is the Transit key-derivation context, so a wrapped key copied
 * to another record does not unwrap. Rewrap happens inside Vault (the data key never leaves it).
 * KEK versions read `vault:v<N>`, the prefix of Transit's ciphertexts.
 *
 * The key is created on first use as a derived `aes256-gcm96` key; an existing key that is not
 * derived is refused (Vault would silently ignore the context).
 *
 * @see https://developer.hashicorp.com/vault/api-docs/secret/transit
 */
export class TransitKekProvider implements KekProvider {
  readonly kind = 'transit';
  readonly #vault: VaultHttp;
  readonly #mount: string;
  readonly #key: string;
  #ready: Promise<void> | undefined;

  constructor(deps: { vault: VaultHttp; mount?: string; key?: string }) {
    this.#vault = deps.vault;
    this.#mount = mountPath(deps.mount ?? 'transit');
    const key = deps.key ?? 'alter-kek';
    if (!/^[A-Za-z0-9_.-]+$/.test(key)) throw new TypeError('the Transit key name may hold letters, digits, "_", "." and "-" only');
    this.#key = key;
  }

  async generateDataKey(context: Uint8Array): Promise<{ plaintext: Buffer; wrapped: string; kekVersion: string }> {
    await this.#ensureKey();
    const reply = await this.#post(`datakey/plaintext/${this.#key}`, { context: b64(context), bits: DATA_KEY_BYTES * 8 });
    if (reply.status !== 200) throw rejected('datakey', reply);
    const data = (reply.body as { data?: { plaintext?: unknown; ciphertext?: unknown } } | undefined)?.data;
    const plaintext = typeof data?.plaintext === 'string' ? Buffer.from(data.plaintext, 'base64') : undefined;
    if (!plaintext || plaintext.length !== DATA_KEY_BYTES || typeof data?.ciphertext !== 'string') {
      plaintext?.fill(0);
      throw new VaultUnavailable(ADAPTER, 'Transit datakey answered without a 256-bit key and its ciphertext');
    }
    return { plaintext, wrapped: data.ciphertext, kekVersion: kekVersionOf(data.ciphertext) };
  }

  async unwrap(wrapped: string, context: Uint8Array): Promise<Buffer> {
    checkCiphertext(wrapped);
    const reply = await this.#post(`decrypt/${this.#key}`, { ciphertext: wrapped, context: b64(context) });
    if (reply.status === 400) throw doesNotAuthenticate('decrypt', reply);
    if (reply.status !== 200) throw rejected('decrypt', reply);
    const plaintext = (reply.body as { data?: { plaintext?: unknown } } | undefined)?.data?.plaintext;
    const key = typeof plaintext === 'string' ? Buffer.from(plaintext, 'base64') : undefined;
    if (!key || key.length !== DATA_KEY_BYTES) throw new SecretIntegrityError('the Transit ciphertext does not hold a 256-bit data key');
    return key;
  }

  async rewrap(wrapped: string, context: Uint8Array): Promise<{ wrapped: string; kekVersion: string }> {
    checkCiphertext(wrapped);
    const reply = await this.#post(`rewrap/${this.#key}`, { ciphertext: wrapped, context: b64(context) });
    if (reply.status === 400) throw doesNotAuthenticate('rewrap', reply);
    if (reply.status !== 200) throw rejected('rewrap', reply);
    const ciphertext = (reply.body as { data?: { ciphertext?: unknown } } | undefined)?.data?.ciphertext;
    if (typeof ciphertext !== 'string') throw new VaultUnavailable(ADAPTER, 'Transit rewrap answered without a ciphertext');
    return { wrapped: ciphertext, kekVersion: kekVersionOf(ciphertext) };
  }

  async rotate(): Promise<void> {
    await this.#ensureKey();
    const reply = await this.#post(`keys/${this.#key}/rotate`, {});
    if (reply.status !== 200 && reply.status !== 204) throw rejected('rotate', reply);
  }

  async current(): Promise<string> {
    await this.#ensureKey();
    const info = await this.#readKey();
    if (!info) throw new VaultUnavailable(ADAPTER, `Transit key ${this.#key} disappeared`);
    return `vault:v${info.latest_version}`;
  }

  /** Creates the key on first use (once per process; retried after a failure). */
  #ensureKey(): Promise<void> {
    this.#ready ??= this.#createIfMissing().catch((err: unknown) => {
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }

  async #createIfMissing(): Promise<void> {
    let info = await this.#readKey();
    if (!info) {
      const reply = await this.#post(`keys/${this.#key}`, { type: 'aes256-gcm96', derived: true });
      if (reply.status !== 200 && reply.status !== 204) throw rejected('key creation', reply);
      info = await this.#readKey();
      if (!info) throw new VaultUnavailable(ADAPTER, `Transit key ${this.#key} was not created`);
    }
    if (info.derived !== true) throw new VaultUnavailable(ADAPTER, `Transit key ${this.#key} is not a derived key: create it with derived=true (the record context must bind each data key)`);
  }

  async #readKey(): Promise<{ latest_version: number; derived?: boolean } | undefined> {
    const reply = await this.#vault.request('GET', `${this.#mount}/keys/${this.#key}`);
    if (reply.status === 404) return undefined;
    if (reply.status !== 200) throw rejected('key read', reply);
    const data = (reply.body as { data?: { latest_version?: unknown; derived?: unknown } } | undefined)?.data;
    if (typeof data?.latest_version !== 'number') throw new VaultUnavailable(ADAPTER, `Transit key ${this.#key} answered without latest_version`);
    return { latest_version: data.latest_version, derived: data.derived === true };
  }

  #post(endpoint: string, body: unknown): Promise<VaultReply> {
    return this.#vault.request('POST', `${this.#mount}/${endpoint}`, body);
  }
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

function checkCiphertext(wrapped: string): void {
  if (!CIPHERTEXT.test(wrapped)) throw new SecretIntegrityError('not a Transit-wrapped data key');
}

/** `vault:v3:…` → `vault:v3`. */
function kekVersionOf(ciphertext: string): string {
  const m = CIPHERTEXT.exec(ciphertext);
  if (!m) throw new VaultUnavailable(ADAPTER, 'Transit answered with a malformed ciphertext');
  return `vault:v${m[1]}`;
}

/** A 400 on decrypt or rewrap: the ciphertext does not open, unless the key itself is gone. */
function doesNotAuthenticate(operation: 'decrypt' | 'rewrap', reply: VaultReply): SecretIntegrityError | VaultUnavailable {
  if (reply.errors.some((e) => /key not found/i.test(e))) return rejected(operation, reply);
  return new SecretIntegrityError(`the wrapped data key does not authenticate under Transit (wrong context, tampered or unknown key version${summary(reply)})`);
}

function rejected(operation: string, reply: VaultReply): VaultUnavailable {
  return new VaultUnavailable(ADAPTER, `Transit ${operation} rejected (HTTP ${reply.status}${summary(reply)})`);
}
