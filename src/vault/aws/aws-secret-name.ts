import { createHash } from 'node:crypto';
import type { SecretIdentity } from '../../ports/vault.ts';

/** Secrets Manager names: `[A-Za-z0-9/_+=.@-]`, at most 512 characters. */
const MAX_LENGTH = 512;

/**
 * The Secrets Manager name of an identity: `alter/<org>/<app>/<purpose>/<recordId>`. Each part
 * is escaped so the mapping is injective: any character outside `[A-Za-z0-9_]` becomes `.`
 * plus the hex of each of its UTF-8 bytes (so `/` only separates parts, and a name never ends
 * in `-` and six characters, which AWS would confuse with its ARN suffix). A name longer than
 * 512 characters becomes `alter/h/<sha256 hex>` of the identity (three parts, never five).
 */
export function awsSecretName(identity: SecretIdentity): string {
  const parts = [identity.orgId, identity.appId, identity.purpose, identity.recordId];
  const name = `alter/${parts.map(escapePart).join('/')}`;
  if (name.length <= MAX_LENGTH) return name;
  return `alter/h/${createHash('sha256').update(JSON.stringify(parts)).digest('hex')}`;
}

function escapePart(part: string): string {
  return part.replace(/[^A-Za-z0-9_]/gu, (c) => Buffer.from(c, 'utf8').toString('hex').replace(/../g, '.$&'));
}

/**
 * Alter's version N as the Secrets Manager `ClientRequestToken` (which becomes the VersionId):
 * `alter-v` and N zero-padded to 32 characters, the minimum AWS allows. Deterministic, so a
 * concurrent writer aiming at the same N collides (`ResourceExistsException`) instead of
 * silently creating a second version N, and an SDK retry is idempotent.
 */
export function awsVersionId(version: number): string {
  return `alter-v${String(version).padStart(25, '0')}`;
}

/** The inverse of {@link awsVersionId}; undefined for versions Alter did not write. */
export function alterVersion(versionId: string | undefined): number | undefined {
  const match = /^alter-v(\d{25})$/u.exec(versionId ?? '');
  return match ? Number(match[1]) : undefined;
}
