import type { SecretIdentity } from '../../ports/vault.ts';

/**
 * The URL path (after `/v1/<mount>/data/` or `/metadata/`) of an identity's KV v2 secret:
 * `alter/<org>/<app>/<purpose>/<recordId>`.
 *
 * Vault decodes the URL path before routing, so `%2F` inside a segment would become a `/` and
 * `org "a/b", app "c"` would collide with `org "a", app "b/c"`. Each segment is therefore
 * percent-encoded to form the secret's name in Vault (injective, no `/`; plain ids such as
 * `org_1` stay readable), and encoded once more for the URL. Dot-only segments are escaped too,
 * as URL parsers would resolve `.` and `..`.
 */
export function kv2SecretPath(identity: SecretIdentity): string {
  return ['alter', identity.orgId, identity.appId, identity.purpose, identity.recordId]
    .map((segment) => encodeURIComponent(vaultName(segment)))
    .join('/');
}

/** A mount path (`secret`, `teams/kv`) for a URL: each segment encoded, no empty ones. */
export function mountPath(mount: string): string {
  const segments = mount.split('/').filter((s) => s !== '');
  if (segments.length === 0) throw new TypeError('the Vault mount must not be empty');
  return segments.map((s) => encodeURIComponent(s)).join('/');
}

function vaultName(segment: string): string {
  if (segment === '') throw new TypeError('a secret identity field must not be empty');
  const encoded = encodeURIComponent(segment);
  return /^\.+$/.test(encoded) ? encoded.replaceAll('.', '%2E') : encoded;
}
