import { BUILT_IN_TEMPLATES, type ProviderEntry } from './provider-schema.ts';

/*
 * URL templates of the provider catalog: `https://{subdomain}.zendesk.com/oauth/tokens`. Every
 * placeholder but the built-in `{client_id}` is declared under the entry's `templates`, and a
 * value is only put into a URL after it matched the template's pattern (anchored), so a value
 * cannot move a credential to another host (`evil.example/x`, `a@evil.example`).
 */

/**
 * A template's value did not fit: missing, not matching its pattern, undeclared, or giving an
 * invalid URL. The message names the placeholder and the provider.
 */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  readonly code = 'ERR_PROVIDER_TEMPLATE';
}

/**
 * Default value pattern: a host name or DNS label(s) (`acme`, `acme.okta.com`), no `/`, `@`,
 * `:` or spaces.
 */
export const DEFAULT_TEMPLATE_PATTERN =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** `{name}` placeholders (the names `TEMPLATE_NAME` of the schema allows). */
const PLACEHOLDER = /\{([a-z][a-z0-9_]*)\}/g;

/** Characters no value may hold whatever its pattern says: they would change the URL's shape. */
const NEVER_IN_VALUES = /[\s?#@\\{}]/;

const BUILT_IN = new Set<string>(BUILT_IN_TEMPLATES);

/** Compiled `pattern`s, anchored, by source. */
const compiled = new Map<string, RegExp>();

/**
 * The anchored regular expression for a template's `pattern` (the default when absent).
 *
 * @throws SyntaxError when `source` is not a valid regular expression.
 */
export function templatePattern(source: string | undefined): RegExp {
  if (source === undefined) return DEFAULT_TEMPLATE_PATTERN;
  let re = compiled.get(source);
  if (!re) {
    re = new RegExp(`^(?:${source})$`);
    compiled.set(source, re);
  }
  return re;
}

/** Placeholder names used in a URL template, in order, without duplicates. */
export function placeholders(template: string): string[] {
  const names: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] as string;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** The value for one placeholder, checked (and URL-encoded for `client_id`). */
function valueFor(provider: ProviderEntry, name: string, values: Readonly<Record<string, string>>): string {
  const value = Object.hasOwn(values, name) ? values[name] : undefined;
  if (BUILT_IN.has(name)) {
    if (value === undefined || value === '') throw new TemplateError(`provider ${provider.name}: no value for the built-in placeholder {${name}}`);
    return encodeURIComponent(value);
  }
  const template = Object.hasOwn(provider.templates, name) ? provider.templates[name] : undefined;
  if (!template) throw new TemplateError(`provider ${provider.name}: placeholder {${name}} is not declared under templates`);
  if (value === undefined || value === '') {
    throw new TemplateError(`provider ${provider.name}: no value for {${name}} (${template.description})`);
  }
  let pattern: RegExp;
  try {
    pattern = templatePattern(template.pattern);
  } catch (cause) {
    throw new TemplateError(`provider ${provider.name}: the pattern of {${name}} is not a valid regular expression`, { cause });
  }
  if (NEVER_IN_VALUES.test(value) || !pattern.test(value)) {
    const expected = template.pattern === undefined ? 'a host name or DNS label' : `/${template.pattern}/`;
    throw new TemplateError(`provider ${provider.name}: value ${JSON.stringify(value)} for {${name}} does not match ${expected}`);
  }
  return value;
}

/**
 * Replaces a URL template's placeholders with `values`: each checked against its template's
 * pattern (anchored; the default is {@link DEFAULT_TEMPLATE_PATTERN}), `client_id` URL-encoded.
 *
 * @throws TemplateError naming the missing or bad placeholder and the provider, or when the
 *   result is not an absolute URL.
 */
export function resolveUrl(provider: ProviderEntry, template: string, values: Readonly<Record<string, string>>): string {
  const resolved = new Map<string, string>();
  for (const name of placeholders(template)) resolved.set(name, valueFor(provider, name, values));
  const url = template.replace(PLACEHOLDER, (_match, name: string) => resolved.get(name) ?? '');
  try {
    new URL(url);
  } catch {
    throw new TemplateError(`provider ${provider.name}: ${JSON.stringify(url)} is not a valid URL once its placeholders are replaced`);
  }
  return url;
}

/** A provider's endpoints with every template resolved. */
export interface ResolvedEndpoints {
  authorizationUrl: string;
  tokenUrl: string;
  revocationUrl?: string;
  issuer?: string;
  apiBaseUrls: string[];
}

/**
 * The provider's OAuth endpoints, issuer and API base URLs with every placeholder replaced
 * (see {@link resolveUrl}).
 *
 * @throws TemplateError when a value is missing or does not match its pattern.
 */
export function resolveEndpoints(provider: ProviderEntry, values: Readonly<Record<string, string>>): ResolvedEndpoints {
  const { oauth } = provider;
  const endpoints: ResolvedEndpoints = {
    authorizationUrl: resolveUrl(provider, oauth.authorization_url, values),
    tokenUrl: resolveUrl(provider, oauth.token_url, values),
    apiBaseUrls: provider.api.base_urls.map((url) => resolveUrl(provider, url, values)),
  };
  if (oauth.revocation_url !== undefined) endpoints.revocationUrl = resolveUrl(provider, oauth.revocation_url, values);
  if (oauth.issuer !== undefined) endpoints.issuer = resolveUrl(provider, oauth.issuer, values);
  return endpoints;
}

/** Names of the templates an operator or end user must supply (the declared templates, in order). */
export function requiredTemplates(provider: ProviderEntry): string[] {
  return Object.keys(provider.templates);
}
