import { createHash } from 'node:crypto';
import type { SecretIdentity } from '../../ports/vault.ts';

/** Key Vault secret names: `[0-9a-zA-Z-]`, at most 127 characters. */
const MAX_LENGTH = 127;
const HASH_LENGTH = 32;

/**
 * The Key Vault secret name of an identity: `alter-<org>-<app>-<purpose>-<recordId>` with every
 * character outside `[0-9a-zA-Z]` dropped and cut to fit (readable only, as a hint), then `-` and
 * the first 128 bits (32 hex) of the SHA-256 of the identity. The charset has no escape
 * character to spare, so the hash is what makes the name unique; it is always present so no
 * two identities share a name whatever their length.
 */
export function azureSecretName(identity: SecretIdentity): string {
  const parts = [identity.orgId, identity.appId, identity.purpose, identity.recordId];
  const hash = createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, HASH_LENGTH);
  const readable = `alter-${parts.map((part) => part.replace(/[^0-9a-zA-Z]/gu, '')).join('-')}`.slice(0, MAX_LENGTH - HASH_LENGTH - 1);
  return `${readable}-${hash}`;
}
