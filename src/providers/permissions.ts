import { READ_METHODS, type ProviderEntry, type RequestPattern } from './provider-schema.ts';

/*
 * Alter permissions (`repo:read`, `chat:write`) against a provider's upstream scopes and API
 * requests. A permission lists the upstream scopes that grant it and, optionally, the requests
 * it allows; without `requests`, a `…:read` permission allows GET, HEAD and OPTIONS anywhere
 * under the API base URL and any other permission allows every request.
 *
 * Request paths are matched against globs: `*` is one path segment (or, inside a segment, any
 * run of characters but "/"), `**` any number of segments, none included.
 */

/** Permission names the provider does not define were asked for. */
export class UnknownPermission extends Error {
  override readonly name = 'UnknownPermission';
  readonly code = 'ERR_UNKNOWN_PERMISSION';
  /** The unknown names, in the order they were asked for. */
  readonly permissions: string[];

  constructor(provider: string, permissions: string[]) {
    const list = permissions.map((p) => JSON.stringify(p)).join(', ');
    super(`provider ${provider} has no permission${permissions.length === 1 ? '' : 's'} ${list}`);
    this.permissions = permissions;
  }
}

/** One compiled request pattern: methods (undefined: any) and path expressions. */
interface CompiledRequest {
  methods: ReadonlySet<string> | undefined;
  paths: readonly RegExp[];
}

/** Compiled request patterns of each provider, by permission name. */
const compiledRequests = new WeakMap<ProviderEntry, Map<string, readonly CompiledRequest[]>>();

/** Whether a permission name is a read permission (`calendar:read`, `read`). */
export function isRead(permission: string): boolean {
  return permission === 'read' || permission.endsWith(':read');
}

/** The regular expression of one path glob (see the module comment). */
export function compilePathGlob(glob: string): RegExp {
  let source = '^';
  const segments = glob.split('/').slice(1);
  for (const segment of segments) {
    if (segment === '**') {
      source += '(?:/[^/]*)*';
    } else if (segment === '*') {
      source += '/[^/]+';
    } else {
      source += `/${segment
        .split('*')
        .map((part) => part.replace(/[\\^$.|?+()[\]{}]/g, '\\$&'))
        .join('[^/]*')}`;
    }
  }
  return new RegExp(`${source}$`);
}

/** The requests a permission allows when it lists none. */
function defaultRequests(permission: string): RequestPattern[] {
  return [isRead(permission) ? { methods: [...READ_METHODS], paths: ['/**'] } : { methods: ['*'], paths: ['/**'] }];
}

/** Every permission's compiled request patterns, compiled once per provider entry. */
function requestsOf(provider: ProviderEntry): Map<string, readonly CompiledRequest[]> {
  let byPermission = compiledRequests.get(provider);
  if (byPermission) return byPermission;
  byPermission = new Map();
  for (const [name, permission] of Object.entries(provider.permissions)) {
    const patterns = permission.requests ?? defaultRequests(name);
    byPermission.set(
      name,
      patterns.map((pattern) => ({
        methods: pattern.methods.includes('*') ? undefined : new Set<string>(pattern.methods),
        paths: (pattern.paths ?? ['/**']).map(compilePathGlob),
      })),
    );
  }
  compiledRequests.set(provider, byPermission);
  return byPermission;
}

/**
 * Splits an upstream `scope` string (a token response's, a grant's) by the provider's separator;
 * spaces and commas always separate too, since providers are inconsistent. Unique, in order.
 */
export function splitScopes(provider: ProviderEntry, scope: string | undefined): string[] {
  if (!scope) return [];
  const separators = provider.oauth.scope_separator === '+' ? /[\s,+]+/ : /[\s,]+/;
  return [...new Set(scope.split(separators).filter((s) => s !== ''))];
}

/**
 * Alter permissions granted by these upstream scopes: a permission is granted when any of its
 * scopes is held; one with `scopes: []` (a provider without scopes) is granted by any grant.
 * Sorted, unique.
 */
export function permissionsForScopes(provider: ProviderEntry, upstreamScopes: readonly string[]): string[] {
  const held = new Set(upstreamScopes);
  const granted = Object.entries(provider.permissions)
    .filter(([, permission]) => permission.scopes.length === 0 || permission.scopes.some((s) => held.has(s)))
    .map(([name]) => name);
  return [...new Set(granted)].sort();
}

/**
 * Upstream scopes to request for these permissions: the provider's `default_scopes`, then each
 * permission's first scope; unique, in order.
 *
 * @throws UnknownPermission for names the provider does not define (all of them).
 */
export function scopesForPermissions(provider: ProviderEntry, permissions: readonly string[]): string[] {
  const unknown = permissions.filter((name) => !Object.hasOwn(provider.permissions, name));
  if (unknown.length > 0) throw new UnknownPermission(provider.name, [...new Set(unknown)]);
  const scopes = new Set(provider.oauth.default_scopes);
  for (const name of permissions) {
    const first = provider.permissions[name]?.scopes[0];
    if (first !== undefined) scopes.add(first);
  }
  return [...scopes];
}

/** A request path without query or fragment, or undefined when it must never match. */
function normalisePath(path: string): string | undefined {
  const bare = path.replace(/[?#].*$/s, '');
  if (!bare.startsWith('/')) return undefined;
  // Dot segments (plain or percent-encoded) would let a path climb out of what a glob allows.
  if (bare.split('/').some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment))) return undefined;
  return bare;
}

/**
 * Whether holding these permissions allows this request. `method` is the HTTP method; `path`
 * the request path relative to the matched API base URL's path, starting with "/" (a query is
 * ignored; a path with dot segments is never allowed). Names the provider does not define
 * grant nothing.
 */
export function requestAllowed(provider: ProviderEntry, permissions: readonly string[], method: string, path: string): boolean {
  const bare = normalisePath(path);
  if (bare === undefined) return false;
  const verb = method.toUpperCase();
  const byPermission = requestsOf(provider);
  return permissions.some((name) =>
    (byPermission.get(name) ?? []).some(
      (pattern) => (pattern.methods === undefined || pattern.methods.has(verb)) && pattern.paths.some((re) => re.test(bare)),
    ),
  );
}
