import { createHash } from 'node:crypto';
import type { SecretIdentity } from '../../ports/vault.ts';

/** GCP secret ids: `[A-Za-z0-9_-]`, at most 255 characters. */
const MAX_LENGTH = 255;

/**
 * The GCP secret id of an identity: `alter-<org>-<app>-<purpose>-<recordId>`. Each part is
 * escaped so the mapping is injective: `_` becomes `__`, any other character outside
 * `[A-Za-z0-9]` becomes `_` plus the hex of each of its UTF-8 bytes, so `-` only ever
 * separates parts. An id longer than 255 characters becomes `alter-h-<sha256 hex>` of the
 * identity (two parts, so it never equals a four-part id).
 */
export function gcpSecretId(identity: SecretIdentity): string {
  const parts = [identity.orgId, identity.appId, identity.purpose, identity.recordId];
  const id = `alter-${parts.map(escapePart).join('-')}`;
  if (id.length <= MAX_LENGTH) return id;
  return `alter-h-${createHash('sha256').update(JSON.stringify(parts)).digest('hex')}`;
}

function escapePart(part: string): string {
  return part.replace(/[^A-Za-z0-9]/gu, (c) => (c === '_' ? '__' : Buffer.from(c, 'utf8').toString('hex').replace(/../g, '_$&')));
}
