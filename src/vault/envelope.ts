import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SecretIdentity } from '../ports/vault.ts';
import { SecretIntegrityError } from '../shared/errors.ts';

const TAG_BYTES = 16;

/**
 * The additional authenticated data of a record: its identity and version. A ciphertext copied
 * to another row, tenant, purpose or version fails to authenticate.
 */
export function recordContext(identity: SecretIdentity, version: number): Buffer {
  return Buffer.from(['alter-vault/v1', identity.orgId, identity.appId, identity.purpose, identity.recordId, String(version)].join('\n'), 'utf8');
}

/** AES-256-GCM with a random 96-bit nonce; returns the nonce and ciphertext‖tag. */
export function seal(key: Buffer, plaintext: Uint8Array, aad: Uint8Array): { nonce: Buffer; sealed: Buffer } {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { nonce, sealed };
}

/** Opens what {@link seal} produced; anything that does not authenticate is a SecretIntegrityError. */
export function open(key: Buffer, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  if (nonce.length !== 12 || sealed.length < TAG_BYTES) throw new SecretIntegrityError('malformed envelope');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(Buffer.from(sealed.subarray(sealed.length - TAG_BYTES)));
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch (cause) {
    throw new SecretIntegrityError('the envelope does not authenticate (tampered, moved, or the wrong key)', { cause });
  }
}
