import type { SecretIdentity } from '../ports/vault.ts';
import { SecretNotFound, VaultUnavailable } from '../shared/errors.ts';

/** The {@link SecretNotFound} every store throws for a missing secret, or a missing version of one. */
export function secretNotFound(identity: SecretIdentity, version?: number): SecretNotFound {
  return new SecretNotFound(`no secret ${identity.purpose}/${identity.recordId}${version === undefined ? '' : ` version ${version}`}`);
}

/** Store versions are 1, 2, 3, …: anything else names no version (some services read 0 as "the latest"). */
export function isVersionNumber(version: number): boolean {
  return Number.isSafeInteger(version) && version > 0;
}

/** A put that kept losing the race for the next version to other writers. */
export function tooManyConcurrentWrites(adapter: string): VaultUnavailable {
  return new VaultUnavailable(adapter, 'too many concurrent writes to one secret; retry');
}
