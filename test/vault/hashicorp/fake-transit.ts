import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { envelope, failure, type FakeAnswer, type FakeRequest } from './fake-wire.ts';

interface Key {
  type: string;
  derived: boolean;
  /** Version → 256-bit key material (held by the fake only). */
  versions: Map<number, Buffer>;
  created: Map<number, number>;
  latest: number;
}

const MISSING_CONTEXT = "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key";

/**
 * Transit (`/v1/transit/…`) for `aes256-gcm96` keys: `keys/<k>` (GET, POST), `keys/<k>/rotate`,
 * `datakey/plaintext/<k>`, `decrypt/<k>`, `rewrap/<k>`. Real AES-256-GCM with a random 96-bit
 * nonce; a derived key is HKDF-SHA256(version key, info = context); ciphertexts read
 * `vault:v<N>:base64(nonce ‖ ciphertext ‖ tag)` like Vault's.
 *
 * @see https://developer.hashicorp.com/vault/api-docs/secret/transit
 */
export class FakeTransit {
  readonly #keys = new Map<string, Key>();

  handle(req: FakeRequest): FakeAnswer | undefined {
    const [endpoint, name, action, extra] = req.path.split('/');
    if (!name || extra !== undefined) return undefined;
    const id = `${req.namespace}\u0000${name}`;
    if (endpoint === 'keys' && action === undefined && req.method === 'GET') return this.#read(id, name);
    if (endpoint === 'keys' && action === undefined && req.method === 'POST') return this.#create(id, name, req.body);
    if (endpoint === 'keys' && action === 'rotate' && req.method === 'POST') return this.#rotate(id, name);
    if (req.method !== 'POST') return undefined;
    if (endpoint === 'datakey' && name === 'plaintext' && action) return this.#datakey(`${req.namespace}\u0000${action}`, req.body);
    if (endpoint === 'decrypt' && action === undefined) return this.#decrypt(id, req.body);
    if (endpoint === 'rewrap' && action === undefined) return this.#rewrap(id, req.body);
    return undefined;
  }

  #create(id: string, name: string, body: Record<string, unknown>): FakeAnswer {
    if (!this.#keys.has(id)) {
      const type = typeof body.type === 'string' ? body.type : 'aes256-gcm96';
      if (type !== 'aes256-gcm96') return failure(400, `unknown key type: ${type}`);
      this.#keys.set(id, { type, derived: body.derived === true, versions: new Map([[1, randomBytes(32)]]), created: new Map([[1, now()]]), latest: 1 });
    }
    return this.#read(id, name);
  }

  #read(id: string, name: string): FakeAnswer {
    const key = this.#keys.get(id);
    if (!key) return failure(404);
    return envelope({
      name, type: key.type, derived: key.derived, kdf: key.derived ? 'hkdf_sha256' : undefined, latest_version: key.latest,
      min_decryption_version: 1, min_encryption_version: 0, deletion_allowed: false, exportable: false,
      supports_encryption: true, supports_decryption: true, supports_derivation: true, keys: Object.fromEntries(key.created),
    });
  }

  #rotate(id: string, name: string): FakeAnswer {
    const key = this.#keys.get(id);
    if (!key) return failure(400, 'key not found');
    key.latest++;
    key.versions.set(key.latest, randomBytes(32));
    key.created.set(key.latest, now());
    return this.#read(id, name);
  }

  #datakey(id: string, body: Record<string, unknown>): FakeAnswer {
    const key = this.#keys.get(id);
    if (!key) return failure(400, 'encryption key not found');
    const bits = body.bits ?? 256;
    if (bits !== 128 && bits !== 256 && bits !== 512) return failure(400, 'invalid bit length');
    const derived = this.#keyFor(key, key.latest, body.context);
    if (typeof derived === 'string') return failure(400, derived);
    const plaintext = randomBytes(bits / 8);
    return envelope({ ciphertext: seal(key.latest, derived, plaintext), key_version: key.latest, plaintext: plaintext.toString('base64') });
  }

  #decrypt(id: string, body: Record<string, unknown>): FakeAnswer {
    const opened = this.#open(id, body);
    return typeof opened === 'string' ? failure(400, opened) : envelope({ plaintext: opened.toString('base64') });
  }

  #rewrap(id: string, body: Record<string, unknown>): FakeAnswer {
    const opened = this.#open(id, body);
    if (typeof opened === 'string') return failure(400, opened);
    const key = this.#keys.get(id)!;
    const derived = this.#keyFor(key, key.latest, body.context) as Buffer;
    return envelope({ ciphertext: seal(key.latest, derived, opened), key_version: key.latest });
  }

  /** The plaintext of `body.ciphertext`, or Vault's error message. */
  #open(id: string, body: Record<string, unknown>): Buffer | string {
    const key = this.#keys.get(id);
    if (!key) return 'encryption key not found';
    const m = typeof body.ciphertext === 'string' ? /^vault:v(\d+):(.*)$/.exec(body.ciphertext) : null;
    if (!m) return 'invalid ciphertext: no prefix';
    const version = Number(m[1]);
    if (!key.versions.has(version)) return 'invalid key version';
    const derived = this.#keyFor(key, version, body.context);
    if (typeof derived === 'string') return derived;
    const blob = Buffer.from(m[2]!, 'base64');
    if (blob.length < 28) return 'invalid ciphertext length';
    try {
      const decipher = createDecipheriv('aes-256-gcm', derived, blob.subarray(0, 12));
      decipher.setAuthTag(blob.subarray(blob.length - 16));
      return Buffer.concat([decipher.update(blob.subarray(12, blob.length - 16)), decipher.final()]);
    } catch {
      return 'cipher: message authentication failed';
    }
  }

  #keyFor(key: Key, version: number, context: unknown): Buffer | string {
    const material = key.versions.get(version)!;
    if (!key.derived) return material;
    if (typeof context !== 'string' || context === '') return MISSING_CONTEXT;
    return Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), Buffer.from(context, 'base64'), 32));
  }
}

function seal(version: number, key: Buffer, plaintext: Buffer): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const sealed = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return `vault:v${version}:${sealed.toString('base64')}`;
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}
