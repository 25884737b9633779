import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys: a text, a blank line, and
 * one line per signature `— <name> <base64(key hash ‖ signature)>`. The key hash is the first 4
 * bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ 32-byte public key); the signature covers the text.
 */

const EM_DASH = '\u2014';

/** The 32 raw bytes of an Ed25519 public key. */
export function rawPublicKey(key: KeyObject): Buffer {
  const jwk = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url');
}

export function keyHash(name: string, publicKey: KeyObject): Buffer {
  return createHash('sha256').update(`${name}\n`).update(Buffer.from([0x01])).update(rawPublicKey(publicKey)).digest().subarray(0, 4);
}

/** The verifier key string of the spec: `<name>+<hex key hash>+<base64(0x01 ‖ public key)>`. */
export function verifierKey(name: string, publicKey: KeyObject): string {
  return `${name}+${keyHash(name, publicKey).toString('hex')}+${Buffer.concat([Buffer.from([0x01]), rawPublicKey(publicKey)]).toString('base64')}`;
}

/** Parses a verifier key string back into its name and public key. */
export function parseVerifierKey(text: string): { name: string; publicKey: KeyObject } {
  // `<name>+<8 hex>+<base64>`: the base64 part may itself contain "+"
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(text.trim());
  const [, name, hash, key] = m ?? [];
  const raw = Buffer.from(key ?? '', 'base64');
  if (!name || !hash || raw.length !== 33 || raw[0] !== 0x01) throw new TypeError('not an Ed25519 signed-note verifier key');
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.subarray(1).toString('base64url') }, format: 'jwk' });
  if (keyHash(name, publicKey).toString('hex') !== hash) throw new TypeError('verifier key hash does not match its key');
  return { name, publicKey };
}

/** Signs `text` (must end with a newline) as a note. */
export function signNote(text: string, name: string, privateKey: KeyObject): string {
  if (!text.endsWith('\n')) throw new TypeError('a note text ends with a newline');
  const signature = sign(null, Buffer.from(text, 'utf8'), privateKey);
  return `${text}\n${EM_DASH} ${name} ${Buffer.concat([keyHash(name, createPublicKey(privateKey)), signature]).toString('base64')}\n`;
}

/**
 * Opens a note: returns its text when a signature by one of `keys` verifies, else undefined
 * (unknown signer, bad signature, malformed note).
 */
export function openNote(note: string, keys: ReadonlyArray<{ name: string; publicKey: KeyObject }>): string | undefined {
  const split = note.lastIndexOf('\n\n');
  if (split === -1) return undefined;
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2).split('\n').filter(Boolean);
  for (const line of lines) {
    const match = new RegExp(`^${EM_DASH} (\\S+) ([A-Za-z0-9+/=]+)$`).exec(line);
    if (!match) return undefined;
    const blob = Buffer.from(match[2]!, 'base64');
    if (blob.length !== 68) continue;
    for (const key of keys) {
      if (key.name !== match[1] || !keyHash(key.name, key.publicKey).equals(blob.subarray(0, 4))) continue;
      if (verify(null, Buffer.from(text, 'utf8'), key.publicKey, blob.subarray(4))) return text;
    }
  }
  return undefined;
}
