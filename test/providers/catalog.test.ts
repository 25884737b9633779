import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtInProvidersDir, CatalogInvalid, loadCatalog, parseProviderFile, type CatalogProvider } from '../../src/providers/catalog.ts';
import { PROVIDER_NAME, SCOPE_SEPARATORS } from '../../src/providers/provider-schema.ts';
import { requiredTemplates, resolveEndpoints, resolveUrl, TemplateError } from '../../src/providers/templates.ts';
import { scopesForPermissions } from '../../src/providers/permissions.ts';
import { providersTable, withProvidersSection } from '../../scripts/providers-table.ts';

const catalog = loadCatalog({ builtInDir: builtInProvidersDir() });
const providers = catalog.list();

/** Every template's example value, plus the built-in client_id. */
function exampleValues(provider: CatalogProvider): Record<string, string> {
  const values: Record<string, string> = { client_id: 'client id/1' };
  for (const [name, template] of Object.entries(provider.templates)) values[name] = template.example ?? '';
  return values;
}

/** Every URL of an entry, with a label. */
function urls(provider: CatalogProvider): [string, string][] {
  const list: [string, string | undefined][] = [
    ['authorization_url', provider.oauth.authorization_url],
    ['token_url', provider.oauth.token_url],
    ['revocation_url', provider.oauth.revocation_url],
    ['issuer', provider.oauth.issuer],
    ['docs_url', provider.docs_url],
    ...provider.api.base_urls.map((url, i): [string, string] => [`api.base_urls[${i}]`, url]),
  ];
  return list.filter((entry): entry is [string, string] => entry[1] !== undefined);
}

describe('the built-in catalog', () => {
  it('holds at least 60 providers, sorted by name, names included by the example policy', () => {
    expect(providers.length).toBeGreaterThanOrEqual(60);
    const names = providers.map((p) => p.name);
    expect(names).toEqual([...names].sort());
    for (const name of ['github', 'slack', 'google-calendar', 'stripe']) expect(catalog.get(name)?.name).toBe(name);
    expect(catalog.get('no-such-provider')).toBeUndefined();
  });

  describe.each(providers.map((p) => [p.name, p] as const))('%s', (name, provider) => {
    it('is named after its file and comes from the built-in directory', () => {
      expect(name).toMatch(PROVIDER_NAME);
      expect(basename(provider.file)).toBe(`${name}.yaml`);
      expect(provider.source).toBe('built-in');
    });

    it('has the required fields and a known scope separator', () => {
      expect(provider.display_name.trim()).not.toBe('');
      expect(provider.categories.length).toBeGreaterThan(0);
      expect(typeof provider.verified).toBe('boolean');
      expect(typeof provider.oauth.pkce).toBe('boolean');
      expect(typeof provider.refresh.supported).toBe('boolean');
      expect(provider.api.base_urls.length).toBeGreaterThan(0);
      expect(SCOPE_SEPARATORS).toContain(provider.oauth.scope_separator);
      expect(['client_secret_basic', 'client_secret_post']).toContain(provider.oauth.token_endpoint_auth_method);
    });

    it('uses HTTPS everywhere', () => {
      for (const [label, url] of urls(provider)) expect(url, label).toMatch(/^https:\/\//);
    });

    it('resolves every template with its example into valid https URLs', () => {
      for (const template of requiredTemplates(provider)) expect(provider.templates[template]?.example, template).toBeTruthy();
      const endpoints = resolveEndpoints(provider, exampleValues(provider));
      const resolved = [endpoints.authorizationUrl, endpoints.tokenUrl, endpoints.revocationUrl, endpoints.issuer, ...endpoints.apiBaseUrls];
      for (const url of resolved.filter((u) => u !== undefined)) {
        expect(url).not.toMatch(/[{}]/);
        expect(new URL(url).protocol).toBe('https:');
      }
      expect(endpoints.apiBaseUrls).toHaveLength(provider.api.base_urls.length);
    });

    it('defines permissions, at least one of them a read permission, each of them requestable', () => {
      const names = Object.keys(provider.permissions);
      expect(names.length).toBeGreaterThan(0);
      expect(names.some((n) => n.endsWith(':read'))).toBe(true);
      expect(() => scopesForPermissions(provider, names)).not.toThrow();
    });
  });

  it('carries the provider specifics the rest of Alter relies on', () => {
    const github = catalog.get('github');
    expect(github?.oauth.revocation_style).toBe('github');
    expect(github?.oauth.revocation_url).toBe('https://api.github.com/applications/{client_id}/token');
    expect(github?.oauth.quirks).toContain('github');
    expect(catalog.get('slack')?.oauth.quirks).toContain('slack');
    expect(catalog.get('google-calendar')?.api.base_urls).toEqual(['https://www.googleapis.com/calendar/v3']);
    expect(catalog.get('google-calendar')?.permissions['calendar:read']?.scopes[0]).toBe('https://www.googleapis.com/auth/calendar.readonly');
    expect(catalog.get('google-calendar')?.oauth.authorization_params).toEqual({ access_type: 'offline', prompt: 'consent' });
    expect(catalog.get('google')?.oauth.issuer).toBe('https://accounts.google.com');
    expect(catalog.get('stripe')?.oauth.authorization_url).toBe('https://connect.stripe.com/oauth/authorize');
    expect(catalog.get('stripe')?.api.base_urls).toEqual(['https://api.stripe.com']);
    expect(Object.keys(catalog.get('stripe')?.permissions ?? {})).toEqual(expect.arrayContaining(['customers:read', 'charges:write', 'payouts:write', 'refunds:write']));
    expect(catalog.get('microsoft')?.oauth.issuer).toBeUndefined();
    expect(catalog.get('microsoft')?.oauth.default_scopes).toContain('offline_access');
  });

  it('hands out frozen entries', () => {
    const slack = catalog.get('slack') as CatalogProvider;
    expect(Object.isFrozen(slack)).toBe(true);
    expect(Object.isFrozen(slack.permissions)).toBe(true);
  });
});

describe('README.md', () => {
  it("lists exactly the catalog's providers between the markers", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf('<!-- providers:start -->');
    const end = readme.indexOf('<!-- providers:end -->');
    expect(start).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const rows = readme
      .slice(start, end)
      .split('\n')
      .filter((line) => line.startsWith('|'))
      .map((line) => line.slice(1, -1).split(' | ').map((cell) => cell.trim()));
    expect(rows[0]).toEqual(['Provider', 'Name', 'Categories', 'Refresh', 'PKCE', 'Verified']);
    const body = rows.slice(2);
    expect(body.map((cells) => cells[0]?.replace(/`/g, ''))).toEqual(providers.map((p) => p.name));
    for (const [i, provider] of providers.entries()) {
      const yes = (b: boolean) => (b ? 'yes' : 'no');
      expect(body[i]).toEqual([`\`${provider.name}\``, provider.display_name, provider.categories.join(', '), yes(provider.refresh.supported), yes(provider.oauth.pkce), yes(provider.verified)]);
    }
  });

  it('is what scripts/providers-table.ts generates, and the script only touches its own section', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(withProvidersSection(readme, providersTable(providers))).toBe(readme);
    const other = '# Title\n\nText.\n\n<!-- providers:start -->\nold\n<!-- providers:end -->\n\n## After\n';
    expect(withProvidersSection(other, 'new')).toBe('# Title\n\nText.\n\n<!-- providers:start -->\nnew\n<!-- providers:end -->\n\n## After\n');
    const appended = withProvidersSection('# Title\n\nText.\n', 'table');
    expect(appended).toMatch(/^# Title\n\nText\.\n\n## Providers\n\n[^]+\n\n<!-- providers:start -->\ntable\n<!-- providers:end -->\n$/);
  });
});

/** A valid provider file; `edit` rewrites its text. */
function providerYaml(name: string, edit: (text: string) => string = (t) => t): string {
  return edit(`name: ${name}
display_name: Acme
categories: [crm]
verified: false
oauth:
  authorization_url: https://{subdomain}.acme.example/oauth/authorize
  token_url: https://{subdomain}.acme.example/oauth/token
  pkce: true
templates:
  subdomain:
    description: Account subdomain
    example: demo
refresh:
  supported: true
api:
  base_urls: ["https://{subdomain}.acme.example/api"]
permissions:
  records:read:
    scopes: [read]
  records:write:
    scopes: [write, admin]
`);
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A new directory under the OS temp dir holding these files. */
function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'alter-providers-'));
  tempDirs.push(dir);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

/** The CatalogInvalid thrown by `fn`. */
function invalid(fn: () => unknown): CatalogInvalid {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CatalogInvalid);
    return error as CatalogInvalid;
  }
  throw new Error('expected CatalogInvalid');
}

describe('loading provider files', () => {
  it('accepts a valid file, with defaults filled in', () => {
    const entry = parseProviderFile(providerYaml('acme'), '/x/acme.yaml', { source: 'custom' });
    expect(entry).toMatchObject({ name: 'acme', source: 'custom', file: '/x/acme.yaml' });
    expect(entry.oauth.scope_separator).toBe(' ');
    expect(entry.oauth.revocation_style).toBe('rfc7009');
    expect(entry.oauth.token_endpoint_auth_method).toBe('client_secret_post');
    expect(entry.refresh.rotates).toBe(false);
  });

  it('rejects an unknown key, at the key', () => {
    const dir = dirWith({ 'acme.yaml': providerYaml('acme', (t) => t.replace('verified: false\n', 'verified: false\ncolour: blue\n')) });
    const error = invalid(() => loadCatalog({ builtInDir: dir }));
    expect(error.code).toBe('ERR_CATALOG_INVALID');
    expect(error.problems).toEqual([expect.stringMatching(/^.*acme\.yaml:5:1: colour: unknown key "colour" \(expected: name, display_name, /)]);
    expect(error.message).toContain(`${join(dir, 'acme.yaml')}:5:1: colour: unknown key`);
  });

  it('rejects a bad URL', () => {
    const error = invalid(() => parseProviderFile(providerYaml('acme', (t) => t.replace('https://{subdomain}.acme.example/oauth/token', 'not a url')), 'acme.yaml'));
    expect(error.problems).toEqual(['acme.yaml:7:14: oauth.token_url: token_url must be an absolute URL (got "not a url")']);
  });

  it('rejects an undeclared placeholder', () => {
    const text = providerYaml('acme', (t) => t.replace('  pkce: true', '  revocation_url: https://acme.example/{tenant}/revoke\n  pkce: true'));
    const error = invalid(() => parseProviderFile(text, 'acme.yaml'));
    expect(error.problems).toEqual(['acme.yaml:8:19: oauth.revocation_url: uses {tenant}, which is not declared under templates']);
  });

  it('accepts the built-in {client_id} without a declaration, but not a declaration of it', () => {
    const uses = providerYaml('acme', (t) => t.replace('  pkce: true', '  revocation_url: https://acme.example/apps/{client_id}/token\n  pkce: true'));
    expect(parseProviderFile(uses, 'acme.yaml').oauth.revocation_url).toContain('{client_id}');
    const declares = uses.replace('templates:\n', 'templates:\n  client_id:\n    description: no\n');
    expect(invalid(() => parseProviderFile(declares, 'acme.yaml')).problems).toEqual(['acme.yaml:11:3: templates.client_id: {client_id} is built in and must not be declared']);
  });

  it('rejects an unused template', () => {
    const text = providerYaml('acme', (t) => t.replace('    example: demo\n', '    example: demo\n  region:\n    description: Unused\n'));
    const error = invalid(() => parseProviderFile(text, 'acme.yaml'));
    expect(error.problems).toEqual(['acme.yaml:13:3: templates.region: template region is declared but no URL uses it']);
  });

  it('rejects a template pattern that does not compile, and an example that does not match', () => {
    const bad = providerYaml('acme', (t) => t.replace('    example: demo\n', '    pattern: "[a-z"\n    example: demo\n'));
    expect(invalid(() => parseProviderFile(bad, 'acme.yaml')).problems).toEqual([expect.stringMatching(/^acme\.yaml:12:14: templates\.subdomain\.pattern: pattern is not a valid regular expression/)]);
    const mismatch = providerYaml('acme', (t) => t.replace('    example: demo\n', '    pattern: "[0-9]+"\n    example: demo\n'));
    expect(invalid(() => parseProviderFile(mismatch, 'acme.yaml')).problems).toEqual(['acme.yaml:13:14: templates.subdomain.example: example "demo" does not match the pattern']);
  });

  it('rejects http URLs in built-in entries, and in custom ones unless insecure URLs are allowed', () => {
    const text = providerYaml('acme', (t) => t.replace('https://{subdomain}.acme.example/oauth/authorize', 'http://{subdomain}.acme.example/oauth/authorize'));
    const problem = /^.*acme\.yaml:6:22: oauth\.authorization_url: must be an https URL/;
    const builtIn = dirWith({ 'acme.yaml': text });
    expect(invalid(() => loadCatalog({ builtInDir: builtIn })).problems).toEqual([expect.stringMatching(problem)]);
    // allowInsecureUrls never applies to built-in entries.
    expect(invalid(() => loadCatalog({ builtInDir: builtIn, allowInsecureUrls: true })).problems).toEqual([expect.stringMatching(problem)]);
    const custom = dirWith({ 'acme.yaml': text });
    const empty = dirWith({});
    expect(invalid(() => loadCatalog({ builtInDir: empty, customDir: custom })).problems).toEqual([expect.stringMatching(problem)]);
    expect(loadCatalog({ builtInDir: empty, customDir: custom, allowInsecureUrls: true }).get('acme')?.source).toBe('custom');
    const ftpDocs = providerYaml('acme', (t) => t.replace('verified: false', 'docs_url: ftp://acme.example/docs\nverified: false'));
    expect(invalid(() => parseProviderFile(ftpDocs, 'acme.yaml', { source: 'custom', allowInsecureUrls: true })).problems).toEqual([
      'acme.yaml:4:11: docs_url: must be an https URL (got "ftp://acme.example/docs")',
    ]);
  });

  it('rejects a name that differs from the file name', () => {
    const error = invalid(() => parseProviderFile(providerYaml('acme'), '/some/dir/acme-crm.yaml'));
    expect(error.problems).toEqual(['/some/dir/acme-crm.yaml:1:7: name: name "acme" must equal the file name (acme-crm.yaml)']);
  });

  it('rejects bad permission names, duplicate scopes, bad path globs and a github revocation without URL', () => {
    const text = providerYaml('acme', (t) =>
      t
        .replace('  pkce: true', '  revocation_style: github\n  pkce: true')
        .replace('    scopes: [write, admin]', '    scopes: [write, write]\n    requests:\n      - methods: [POST]\n        paths: ["/a**", "/x/../y"]')
        .concat('  Records:\n    scopes: []\n'),
    );
    expect(invalid(() => parseProviderFile(text, 'acme.yaml')).problems).toEqual([
      'acme.yaml:8:21: oauth.revocation_style: revocation_style github needs a revocation_url',
      'acme.yaml:22:21: permissions["records:write"].scopes[1]: scope "write" is listed twice',
      'acme.yaml:25:17: permissions["records:write"].requests[0].paths[0]: path "/a**": "**" must be a whole segment (/a/**/b)',
      'acme.yaml:25:25: permissions["records:write"].requests[0].paths[1]: path "/x/../y" must not hold "." or ".." segments',
      'acme.yaml:26:3: permissions.Records: name "Records" must look like resource:action (a-z, 0-9, ".", "_", "-")',
    ]);
  });

  it('reports YAML syntax errors with their position', () => {
    const error = invalid(() => parseProviderFile('name: acme\noauth: [unclosed\n', 'acme.yaml'));
    expect(error.problems[0]).toMatch(/^acme\.yaml:\d+:\d+: YAML: /);
    expect(invalid(() => parseProviderFile('- a list\n', 'acme.yaml')).problems[0]).toMatch(/^acme\.yaml:1:1: a provider file must be a mapping/);
  });

  it('lists the problems of every bad file in one error', () => {
    const dir = dirWith({
      'one.yaml': providerYaml('one', (t) => t.replace('verified: false', 'verified: maybe')),
      'two.yaml': providerYaml('zwei'),
      'three.yaml': providerYaml('three'),
      'notes.txt': 'not a provider',
    });
    const error = invalid(() => loadCatalog({ builtInDir: dir }));
    expect(error.problems).toEqual([
      expect.stringMatching(/one\.yaml:4:11: verified: verified must be true or false \(got "maybe"\)$/),
      expect.stringMatching(/two\.yaml:1:7: name: name "zwei" must equal the file name \(two\.yaml\)$/),
    ]);
    expect(error.message.split('\n')).toEqual(['provider catalog rejected: 2 problems', ...error.problems]);
  });

  it('lets custom entries add providers and replace built-in ones by name', () => {
    const builtIn = dirWith({ 'acme.yaml': providerYaml('acme'), 'beta.yaml': providerYaml('beta') });
    const custom = dirWith({
      'acme.yaml': providerYaml('acme', (t) => t.replace('display_name: Acme', 'display_name: Acme (ours)')),
      'gamma.yaml': providerYaml('gamma'),
    });
    const loaded = loadCatalog({ builtInDir: builtIn, customDir: custom });
    expect(loaded.list().map((p) => [p.name, p.source, p.display_name])).toEqual([
      ['acme', 'custom', 'Acme (ours)'],
      ['beta', 'built-in', 'Acme'],
      ['gamma', 'custom', 'Acme'],
    ]);
    expect(loadCatalog({ builtInDir: builtIn, customDir: join(custom, 'missing') }).list()).toHaveLength(2);
  });

  it('reports a missing built-in directory', () => {
    const missing = join(dirWith({}), 'nope');
    expect(invalid(() => loadCatalog({ builtInDir: missing })).problems).toEqual([expect.stringContaining('cannot read the built-in providers directory: ENOENT')]);
  });

  it('skips subdirectories named like provider files', () => {
    const dir = dirWith({ 'acme.yaml': providerYaml('acme') });
    mkdirSync(join(dir, 'old.yaml'));
    expect(loadCatalog({ builtInDir: dir }).list().map((p) => p.name)).toEqual(['acme']);
  });
});

describe('URL templates', () => {
  const acme = parseProviderFile(
    providerYaml('acme', (t) =>
      t
        .replace('  pkce: true', '  revocation_url: https://acme.example/apps/{client_id}/token\n  pkce: true')
        .replace('    example: demo\n', '    example: demo\n  tenant:\n    description: Tenant ID\n    pattern: "[0-9]+"\n    example: "42"\n')
        .replace('["https://{subdomain}.acme.example/api"]', '["https://{subdomain}.acme.example/api/{tenant}"]'),
    ),
    'acme.yaml',
  );

  it('resolves every endpoint, URL-encoding client_id', () => {
    expect(requiredTemplates(acme)).toEqual(['subdomain', 'tenant']);
    expect(resolveEndpoints(acme, { subdomain: 'demo', tenant: '42', client_id: 'a b/c' })).toEqual({
      authorizationUrl: 'https://demo.acme.example/oauth/authorize',
      tokenUrl: 'https://demo.acme.example/oauth/token',
      revocationUrl: 'https://acme.example/apps/a%20b%2Fc/token',
      apiBaseUrls: ['https://demo.acme.example/api/42'],
    });
  });

  it('names the missing or bad placeholder and the provider', () => {
    expect(() => resolveUrl(acme, acme.oauth.token_url, {})).toThrow(TemplateError);
    expect(() => resolveUrl(acme, acme.oauth.token_url, {})).toThrow(/provider acme: no value for \{subdomain\}/);
    expect(() => resolveUrl(acme, 'https://{subdomain}.acme.example/api/{tenant}', { subdomain: 'demo', tenant: '4x' })).toThrow(/provider acme: value "4x" for \{tenant\} does not match/);
    expect(() => resolveUrl(acme, 'https://{other}.acme.example', { other: 'x' })).toThrow(/\{other\} is not declared/);
    expect(() => resolveUrl(acme, acme.oauth.revocation_url ?? '', {})).toThrow(/built-in placeholder \{client_id\}/);
  });

  it('keeps values from moving the URL to another host', () => {
    for (const value of ['evil.example/x', 'a@evil.example', 'evil.example:443', 'evil.example#', '-demo', 'demo.', 'de mo']) {
      let error: unknown;
      try {
        resolveUrl(acme, acme.oauth.token_url, { subdomain: value });
      } catch (e) {
        error = e;
      }
      expect(error, value).toBeInstanceOf(TemplateError);
      expect((error as TemplateError).code).toBe('ERR_PROVIDER_TEMPLATE');
    }
    expect(resolveUrl(acme, acme.oauth.token_url, { subdomain: 'eu.demo' })).toBe('https://eu.demo.acme.example/oauth/token');
  });
});
