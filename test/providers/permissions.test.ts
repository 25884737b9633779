import { describe, expect, it } from 'vitest';
import { builtInProvidersDir, loadCatalog } from '../../src/providers/catalog.ts';
import { providerSchema, type ProviderEntry, type ProviderInput } from '../../src/providers/provider-schema.ts';
import { compilePathGlob, permissionsForScopes, requestAllowed, scopesForPermissions, splitScopes, UnknownPermission } from '../../src/providers/permissions.ts';

/** A provider entry for tests: only what permissions look at matters. */
function provider(permissions: ProviderInput['permissions'], oauth: Partial<ProviderInput['oauth']> = {}): ProviderEntry {
  return providerSchema.parse({
    name: 'acme',
    display_name: 'Acme',
    categories: ['crm'],
    verified: false,
    oauth: { authorization_url: 'https://acme.example/authorize', token_url: 'https://acme.example/token', pkce: false, ...oauth },
    refresh: { supported: false },
    api: { base_urls: ['https://api.acme.example/v1'] },
    permissions,
  });
}

const acme = provider(
  {
    'repo:read': { scopes: ['repo.read', 'repo.write', 'repo'] },
    'repo:write': { scopes: ['repo.write', 'repo'] },
    'repo:admin': { scopes: ['repo'] },
    'issues:write': { scopes: ['repo.write'], requests: [{ methods: ['POST', 'PATCH'], paths: ['/repos/*/*/issues/**'] }] },
    'search:read': { scopes: [], requests: [{ methods: ['GET'] }, { methods: ['POST'], paths: ['/search', '/orgs/*/search'] }] },
    'files:read': { scopes: ['files'], requests: [{ methods: ['GET'], paths: ['/files/*.json', '/raw/**/blob'] }] },
    'admin': { scopes: ['admin'] },
  },
  { default_scopes: ['openid', 'repo.read'] },
);

describe('permissionsForScopes', () => {
  it('grants a permission when any of its scopes is held, sorted and unique', () => {
    expect(permissionsForScopes(acme, ['repo.read'])).toEqual(['repo:read', 'search:read']);
    expect(permissionsForScopes(acme, ['repo.write', 'repo.write'])).toEqual(['issues:write', 'repo:read', 'repo:write', 'search:read']);
    expect(permissionsForScopes(acme, ['repo', 'admin'])).toEqual(['admin', 'repo:admin', 'repo:read', 'repo:write', 'search:read']);
  });

  it('grants permissions without scopes to any grant, and nothing else for unknown scopes', () => {
    expect(permissionsForScopes(acme, [])).toEqual(['search:read']);
    expect(permissionsForScopes(acme, ['something-else'])).toEqual(['search:read']);
  });
});

describe('scopesForPermissions', () => {
  it('asks for the default scopes, then each permission’s first scope, unique and in order', () => {
    expect(scopesForPermissions(acme, ['repo:write', 'repo:read', 'issues:write', 'search:read'])).toEqual(['openid', 'repo.read', 'repo.write']);
    expect(scopesForPermissions(acme, ['admin', 'repo:admin'])).toEqual(['openid', 'repo.read', 'admin', 'repo']);
    expect(scopesForPermissions(acme, [])).toEqual(['openid', 'repo.read']);
  });

  it('throws UnknownPermission naming every unknown permission', () => {
    let error: unknown;
    try {
      scopesForPermissions(acme, ['repo:read', 'repo:delete', 'calendar:read', 'repo:delete']);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnknownPermission);
    expect(error).toMatchObject({ code: 'ERR_UNKNOWN_PERMISSION', permissions: ['repo:delete', 'calendar:read'] });
    expect((error as Error).message).toBe('provider acme has no permissions "repo:delete", "calendar:read"');
    expect(() => scopesForPermissions(acme, ['toString'])).toThrow(UnknownPermission);
  });
});

describe('requestAllowed', () => {
  it('lets a read permission without requests do GET, HEAD and OPTIONS anywhere, nothing else', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'get']) expect(requestAllowed(acme, ['repo:read'], method, '/repos/a/b'), method).toBe(true);
    expect(requestAllowed(acme, ['repo:read'], 'GET', '/')).toBe(true);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) expect(requestAllowed(acme, ['repo:read'], method, '/repos/a/b'), method).toBe(false);
  });

  it('lets any other permission without requests do everything', () => {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      expect(requestAllowed(acme, ['repo:write'], method, '/anything/at/all'), method).toBe(true);
      expect(requestAllowed(acme, ['admin'], method, '/x'), method).toBe(true);
    }
  });

  it('limits a permission with requests to its methods and paths', () => {
    expect(requestAllowed(acme, ['issues:write'], 'POST', '/repos/octo/hello/issues')).toBe(true);
    expect(requestAllowed(acme, ['issues:write'], 'PATCH', '/repos/octo/hello/issues/7/comments/9')).toBe(true);
    expect(requestAllowed(acme, ['issues:write'], 'DELETE', '/repos/octo/hello/issues/7')).toBe(false);
    expect(requestAllowed(acme, ['issues:write'], 'POST', '/repos/octo/hello/pulls')).toBe(false);
    expect(requestAllowed(acme, ['issues:write'], 'GET', '/repos/octo/hello/issues')).toBe(false);
  });

  it('matches * as one segment and ** as any number of segments, none included', () => {
    // *: exactly one segment, never empty, never across "/".
    expect(requestAllowed(acme, ['issues:write'], 'POST', '/repos/octo/issues')).toBe(false);
    expect(requestAllowed(acme, ['issues:write'], 'POST', '/repos/octo/hello/world/issues')).toBe(false);
    expect(requestAllowed(acme, ['issues:write'], 'POST', '/repos//hello/issues')).toBe(false);
    // Inside a segment, * is any run of characters but "/".
    expect(requestAllowed(acme, ['files:read'], 'GET', '/files/report.json')).toBe(true);
    expect(requestAllowed(acme, ['files:read'], 'GET', '/files/.json')).toBe(true);
    expect(requestAllowed(acme, ['files:read'], 'GET', '/files/a/report.json')).toBe(false);
    expect(requestAllowed(acme, ['files:read'], 'GET', '/files/report.jsonx')).toBe(false);
    // **: zero or more segments.
    expect(requestAllowed(acme, ['files:read'], 'GET', '/raw/blob')).toBe(true);
    expect(requestAllowed(acme, ['files:read'], 'GET', '/raw/a/b/c/blob')).toBe(true);
    expect(requestAllowed(acme, ['files:read'], 'GET', '/raw/a/b/c/blob/x')).toBe(false);
    expect(compilePathGlob('/a/**').test('/a')).toBe(true);
    expect(compilePathGlob('/a/**').test('/ab')).toBe(false);
    expect(compilePathGlob('/a.b/(x)').test('/a.b/(x)')).toBe(true);
    expect(compilePathGlob('/a.b/(x)').test('/axb/(x)')).toBe(false);
  });

  it('allows reads sent as POST where the permission lists them', () => {
    expect(requestAllowed(acme, ['search:read'], 'POST', '/search')).toBe(true);
    expect(requestAllowed(acme, ['search:read'], 'POST', '/orgs/acme/search')).toBe(true);
    expect(requestAllowed(acme, ['search:read'], 'GET', '/anything')).toBe(true);
    expect(requestAllowed(acme, ['search:read'], 'POST', '/repos/a/b/issues')).toBe(false);
  });

  it('combines permissions, and ignores the ones the provider does not define', () => {
    expect(requestAllowed(acme, ['repo:read', 'issues:write'], 'POST', '/repos/a/b/issues')).toBe(true);
    expect(requestAllowed(acme, ['calendar:write'], 'POST', '/repos/a/b/issues')).toBe(false);
    expect(requestAllowed(acme, [], 'GET', '/')).toBe(false);
  });

  it('ignores the query and never allows dot segments', () => {
    expect(requestAllowed(acme, ['files:read'], 'GET', '/files/report.json?download=1')).toBe(true);
    expect(requestAllowed(acme, ['issues:write'], 'POST', '/repos/a/b/issues/../../../admin')).toBe(false);
    expect(requestAllowed(acme, ['issues:write'], 'POST', '/repos/a/b/issues/%2e%2e/x')).toBe(false);
    expect(requestAllowed(acme, ['repo:read'], 'GET', 'repos/a/b')).toBe(false);
  });
});

describe('splitScopes', () => {
  it('splits by the provider separator, and always by spaces and commas', () => {
    const comma = provider({ 'a:read': { scopes: [] } }, { scope_separator: ',' });
    const plus = provider({ 'a:read': { scopes: [] } }, { scope_separator: '+' });
    expect(splitScopes(comma, 'chat:write,channels:read, users:read')).toEqual(['chat:write', 'channels:read', 'users:read']);
    expect(splitScopes(acme, 'repo read:org  repo')).toEqual(['repo', 'read:org']);
    expect(splitScopes(plus, 'a+b c')).toEqual(['a', 'b', 'c']);
    expect(splitScopes(acme, 'a+b')).toEqual(['a+b']);
    expect(splitScopes(acme, undefined)).toEqual([]);
    expect(splitScopes(acme, '')).toEqual([]);
  });
});

describe('built-in providers', () => {
  const catalog = loadCatalog({ builtInDir: builtInProvidersDir() });
  const slack = catalog.get('slack') as ProviderEntry;
  const github = catalog.get('github') as ProviderEntry;
  const googleCalendar = catalog.get('google-calendar') as ProviderEntry;
  const stripe = catalog.get('stripe') as ProviderEntry;

  it('Slack reads with POST on read methods only', () => {
    expect(requestAllowed(slack, ['chat:read'], 'POST', '/conversations.history')).toBe(true);
    expect(requestAllowed(slack, ['chat:read'], 'POST', '/conversations.list')).toBe(true);
    expect(requestAllowed(slack, ['chat:read'], 'POST', '/users.list')).toBe(true);
    expect(requestAllowed(slack, ['chat:read'], 'POST', '/chat.postMessage')).toBe(false);
    expect(requestAllowed(slack, ['chat:write'], 'POST', '/chat.postMessage')).toBe(true);
    expect(requestAllowed(slack, ['chat:write'], 'POST', '/chat.update')).toBe(true);
    expect(requestAllowed(slack, ['chat:write'], 'POST', '/chat.delete')).toBe(true);
    expect(requestAllowed(slack, ['chat:write'], 'POST', '/conversations.history')).toBe(false);
    expect(permissionsForScopes(slack, splitScopes(slack, 'chat:write,channels:history'))).toEqual(['chat:read', 'chat:write']);
    expect(scopesForPermissions(slack, ['chat:read', 'chat:write'])).toEqual(['channels:history', 'chat:write']);
  });

  it('GitHub read permissions cannot POST GraphQL; write ones can', () => {
    expect(requestAllowed(github, ['repo:read'], 'GET', '/repos/octo/hello/contents/README.md')).toBe(true);
    expect(requestAllowed(github, ['repo:read'], 'POST', '/graphql')).toBe(false);
    expect(requestAllowed(github, ['repo:write'], 'POST', '/graphql')).toBe(true);
    expect(requestAllowed(github, ['issues:write'], 'POST', '/repos/octo/hello/issues')).toBe(true);
    expect(requestAllowed(github, ['issues:write'], 'PUT', '/repos/octo/hello/pulls/1/merge')).toBe(false);
    expect(requestAllowed(github, ['pulls:write'], 'PUT', '/repos/octo/hello/pulls/1/merge')).toBe(true);
    expect(permissionsForScopes(github, splitScopes(github, 'repo,read:org'))).toContain('repo:write');
  });

  it('Google Calendar maps calendar:read and calendar:write to their scopes', () => {
    expect(scopesForPermissions(googleCalendar, ['calendar:read'])).toEqual(['https://www.googleapis.com/auth/calendar.readonly']);
    expect(scopesForPermissions(googleCalendar, ['calendar:write'])).toEqual(['https://www.googleapis.com/auth/calendar.events']);
    expect(permissionsForScopes(googleCalendar, ['https://www.googleapis.com/auth/calendar.events'])).toEqual(['calendar:read', 'calendar:write']);
  });

  it('Stripe limits each permission to its resources', () => {
    expect(permissionsForScopes(stripe, ['read_only'])).not.toContain('refunds:write');
    expect(requestAllowed(stripe, ['customers:read'], 'GET', '/v1/customers/cus_123')).toBe(true);
    expect(requestAllowed(stripe, ['customers:read'], 'GET', '/v1/charges')).toBe(false);
    expect(requestAllowed(stripe, ['refunds:write'], 'POST', '/v1/refunds')).toBe(true);
    expect(requestAllowed(stripe, ['refunds:write'], 'POST', '/v1/payouts')).toBe(false);
  });
});
