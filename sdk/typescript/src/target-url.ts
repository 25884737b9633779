/**
 * Building the target URL (placeholders, query parameters) and the proxy URL it maps to:
 * `{baseUrl}/v1/proxy/{grantId}/{host[:port]}{path}{?query}`.
 */

/** Values for `{name}` placeholders in the URL. */
export type PathParams = Readonly<Record<string, string | number | boolean>>;

/** One query value; arrays repeat the key (`?id=1&id=2`). `undefined`/`null` leave the key out. */
export type QueryValue = string | number | boolean;
export type QueryParams = Readonly<Record<string, QueryValue | readonly QueryValue[] | null | undefined>>;

/** The target URL split the way the proxy path needs it. */
export interface ProxyTarget {
  /** Host with its port, if not the scheme's default: `api.example.com:8443`. */
  host: string;
  /** The path, percent-encoded, starting with `/`. */
  path: string;
  /** `''` or `?…`, percent-encoded. */
  query: string;
}

const PLACEHOLDER = /\{([^{}]*)\}/g;
const GRANT_ID = /^(con|sec)_[A-Za-z0-9_-]+$/;

function scalar(what: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  throw new TypeError(`${what}: expected a string, a finite number or a boolean, got ${value === null ? 'null' : typeof value}`);
}

/**
 * Replaces each `{name}` in `url` by `pathParams[name]`, percent-encoded as one path segment
 * (`encodeURIComponent`: `/` becomes `%2F`). Throws a `TypeError` for a placeholder without a
 * value, a value that is not used, and `.` or `..` (they would change the path).
 */
export function fillPlaceholders(url: string, pathParams: PathParams = {}): string {
  const used = new Set<string>();
  const filled = url.replace(PLACEHOLDER, (_match, name: string) => {
    if (name === '') throw new TypeError(`url: empty placeholder "{}" in ${url}`);
    if (!Object.hasOwn(pathParams, name)) {
      throw new TypeError(`url: no value for placeholder {${name}}: give it in pathParams (${url})`);
    }
    const value = scalar(`pathParams.${name}`, pathParams[name]);
    if (value === '.' || value === '..') {
      throw new TypeError(`pathParams.${name}: "${value}" cannot be used as a path segment`);
    }
    used.add(name);
    return encodeURIComponent(value);
  });
  const unused = Object.keys(pathParams).filter((name) => !used.has(name));
  if (unused.length > 0) {
    throw new TypeError(`pathParams: ${unused.map((n) => `"${n}"`).join(', ')} ${unused.length === 1 ? 'has' : 'have'} no {placeholder} in the URL (${url})`);
  }
  return filled;
}

/** `query` (`''` or `?…`) with `params` appended, keys and values percent-encoded (`encodeURIComponent`). */
export function appendQuery(query: string, params: QueryParams = {}): string {
  const pairs: string[] = [];
  for (const [key, raw] of Object.entries(params)) {
    if (raw === undefined || raw === null) continue;
    const values: readonly unknown[] = Array.isArray(raw) ? raw : [raw];
    for (const value of values) pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(scalar(`queryParams.${key}`, value))}`);
  }
  if (pairs.length === 0) return query;
  if (query === '' || query === '?') return `?${pairs.join('&')}`;
  return `${query}${query.endsWith('&') ? '' : '&'}${pairs.join('&')}`;
}

/**
 * Resolves the target URL: placeholders filled, parsed (an absolute `http`/`https` URL), query
 * parameters appended. Existing percent-encoding is kept as it is; characters a URL cannot hold
 * (spaces, non-ASCII) are percent-encoded; `.`/`..` segments are resolved; the fragment is dropped.
 */
export function resolveTarget(url: string, pathParams?: PathParams, queryParams?: QueryParams): ProxyTarget {
  if (typeof url !== 'string' || url === '') throw new TypeError('url: expected an absolute URL such as https://api.example.com/v1/items');
  const filled = fillPlaceholders(url, pathParams);
  let parsed: URL;
  try {
    parsed = new URL(filled);
  } catch {
    throw new TypeError(`url: not an absolute URL: ${filled}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new TypeError(`url: only http and https URLs can be called, got ${parsed.protocol.slice(0, -1)}`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new TypeError('url: must not contain credentials (Alter injects them)');
  }
  if (parsed.host === '') throw new TypeError(`url: has no host: ${filled}`);
  return { host: parsed.host, path: parsed.pathname || '/', query: appendQuery(parsed.search, queryParams) };
}

/** Alter's base URL without trailing slashes; a `TypeError` unless it is an absolute http(s) URL. */
export function normalizeBaseUrl(baseUrl: unknown): string {
  if (typeof baseUrl !== 'string' || baseUrl === '') throw new TypeError('baseUrl is required: the URL of the Alter server, e.g. http://localhost:8080');
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    throw new TypeError(`baseUrl: not an absolute URL: ${baseUrl}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new TypeError(`baseUrl: must be an http or https URL, got ${baseUrl}`);
  if (parsed.search !== '' || parsed.hash !== '') throw new TypeError(`baseUrl: must not have a query or fragment: ${baseUrl}`);
  return `${parsed.origin}${parsed.pathname}`.replace(/\/+$/, '');
}

/** Checks a grant id (`con_…` or `sec_…`); a `TypeError` otherwise. */
export function checkGrantId(grantId: unknown): string {
  if (typeof grantId !== 'string' || !GRANT_ID.test(grantId)) {
    throw new TypeError(`grantId: expected a connection id (con_…) or a managed secret id (sec_…), got ${JSON.stringify(grantId)}`);
  }
  return grantId;
}

/** `{baseUrl}/v1/proxy/{grantId}/{host}{path}{query}`; `baseUrl` as returned by {@link normalizeBaseUrl}. */
export function proxyUrl(baseUrl: string, grantId: string, target: ProxyTarget): string {
  return `${baseUrl}/v1/proxy/${checkGrantId(grantId)}/${target.host}${target.path}${target.query}`;
}
