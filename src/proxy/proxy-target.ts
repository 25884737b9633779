import { InvalidRequest, InvalidTarget } from '../shared/errors.ts';

/** Where a proxied request goes, once checked against the grant's API base URLs. */
export interface ProxyTarget {
  /** `https://api.example.com[:port]` */
  origin: string;
  host: string;
  /** The path as sent upstream, percent-encoding kept (no query). */
  path: string;
  /** `?…` or empty, forwarded as sent. */
  search: string;
  /** The base URL that matched. */
  baseUrl: string;
  /** `path` relative to the base URL's path, starting with "/" (what permissions are matched against). */
  relativePath: string;
}

const HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;
const DEFAULT_PORTS: Record<string, string> = { 'https:': '443', 'http:': '80' };

/** `host[:port]/path` (the proxy path after the grant id) → host and path. */
export function splitTarget(rest: string): { host: string; path: string } {
  const slash = rest.indexOf('/');
  const host = (slash === -1 ? rest : rest.slice(0, slash)).toLowerCase();
  const path = slash === -1 ? '/' : rest.slice(slash);
  if (host === '' || !HOST.test(host)) {
    throw new InvalidRequest(`the proxy path must be /v1/proxy/{grant_id}/{host}/{path}: "${host}" is not a host name (drop the scheme: /v1/proxy/con_…/api.example.com/v1/items)`);
  }
  return { host, path };
}

/** Dot segments (plain or percent-encoded) could climb out of the base URL's path. */
function hasDotSegment(path: string): boolean {
  return path.split('/').some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment));
}

/**
 * Checks the target against the grant's API base URLs: the host (port included) must be a base
 * URL's host and the path under its path. A credential is never sent anywhere else.
 */
export function matchTarget(baseUrls: readonly string[], host: string, path: string, search: string, grantLabel: string): ProxyTarget {
  if (hasDotSegment(path)) throw new InvalidTarget('the target path contains "." or ".." segments; send the resolved path');
  const hosts = new Set<string>();
  let hostMatched = false;
  for (const base of baseUrls) {
    const url = new URL(base);
    hosts.add(url.host);
    if (host !== url.host && host !== `${url.hostname}:${url.port || DEFAULT_PORTS[url.protocol]}`) continue;
    hostMatched = true;
    const basePath = url.pathname.replace(/\/+$/, '');
    if (path !== basePath && !path.startsWith(`${basePath}/`) && basePath !== '') continue;
    return {
      origin: url.origin, host: url.host, path, search, baseUrl: base,
      relativePath: path.slice(basePath.length) || '/',
    };
  }
  if (hostMatched) {
    throw new InvalidTarget(`${path} is outside the API base URLs of ${grantLabel} (${baseUrls.join(', ')})`);
  }
  throw new InvalidTarget(`${host} is not an API host of ${grantLabel}: its credential is only sent to ${[...hosts].join(', ') || 'no host'}`);
}
