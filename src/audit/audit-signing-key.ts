import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { SettingStore } from '../ports/store.ts';
import { verifierKey } from './signed-note.ts';

/** The Ed25519 key that signs audit checkpoints, shared by every node (stored once, first writer wins). */
export interface AuditSigningKey {
  /** Signer name in notes. */
  name: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The signed-note verifier key string to pin (`alter audit verify --key`). */
  verifierKey: string;
}

export const AUDIT_KEY_NAME = 'alter-audit';

export async function loadAuditSigningKey(settings: SettingStore): Promise<AuditSigningKey> {
  const jwk = await settings.getOrCreate('audit_signing_key', () => generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }));
  const privateKey = createPrivateKey({ key: jwk as never, format: 'jwk' });
  const publicKey = createPublicKey(privateKey);
  return { name: AUDIT_KEY_NAME, privateKey, publicKey, verifierKey: verifierKey(AUDIT_KEY_NAME, publicKey) };
}
