import { z } from 'zod';

/**
 * The provider catalog schema (issue 6; DESIGN.md, Policy: provider-aware scopes). One YAML file
 * per provider under `config/providers/` (built in) or the operator's providers directory
 * (custom providers, same schema). Every object is strict: an unknown key is an error, so a typo
 * cannot silently drop a setting. Keys are snake_case as in the YAML.
 *
 * Templated parts: any URL may contain `{name}` placeholders. `{client_id}` is built in (the
 * app's client ID); every other placeholder must be declared under `templates`, and its value
 * comes from the app's provider configuration or the Connect session, checked against the
 * template's `pattern` before it is put into a URL.
 */

/** Provider names: what policies, connections and `audience` use (`github`, `google-calendar`). */
export const PROVIDER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Alter permission names (`repo:read`, `calendar:write`, `admin`). */
export const PERMISSION_NAME = /^[a-z0-9][a-z0-9._-]*(:[a-z0-9._-]+)*$/;

/** Template placeholder names (`subdomain`, `tenant`, `shop`). */
export const TEMPLATE_NAME = /^[a-z][a-z0-9_]*$/;

/** Placeholders supplied by Alter itself, never by the operator or end user. */
export const BUILT_IN_TEMPLATES = ['client_id'] as const;

/** How a provider's quirks are fixed (each names a response normaliser in `src/connections/quirks`). */
export const QUIRKS = [
  /** GitHub: token endpoint answers errors with HTTP 200 and form encoding unless `Accept: application/json`. */
  'github',
  /** Slack OAuth v2: `token_type: bot`, the user token nested under `authed_user`, `ok: false` errors with HTTP 200. */
  'slack',
  /** Token endpoint answers `{ "error": … }` with HTTP 200 (generic form of the GitHub quirk). */
  'errors_with_200',
  /** Token response omits `token_type` (assume `Bearer`). */
  'missing_token_type',
] as const;

/** How tokens are revoked upstream. */
export const REVOCATION_STYLES = [
  /** RFC 7009: POST `token` (+ `token_type_hint`) with client authentication. */
  'rfc7009',
  /** GitHub: DELETE `/applications/{client_id}/token`, Basic client auth, JSON `{ access_token }`. */
  'github',
] as const;

export const SCOPE_SEPARATORS = [' ', ',', '+'] as const;

export const HTTP_METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** The methods a `…:read` permission allows when it lists no `requests`. */
export const READ_METHODS = ['GET', 'HEAD', 'OPTIONS'] as const;

function strict<S extends z.core.$ZodLooseShape>(shape: S) {
  const expected = Object.keys(shape).join(', ');
  return z.strictObject(shape, { error: (iss) => (iss.code === 'unrecognized_keys' ? `expected: ${expected}` : undefined) });
}

/**
 * A URL template with each `{placeholder}` replaced by a harmless label (`{subdomain}` →
 * `xsubdomain`), so that it can be parsed as a URL to check its shape.
 */
export function labelPlaceholders(template: string): string {
  return template.replace(/\{([a-z][a-z0-9_]*)\}/g, 'x$1');
}

/** An absolute URL that may hold `{placeholders}`; HTTPS unless `insecure` (custom providers in development). */
const templatedUrl = z.string().superRefine((value, ctx) => {
  const probe = labelPlaceholders(value);
  let url: URL;
  try {
    url = new URL(probe);
  } catch {
    ctx.addIssue({ code: 'custom', message: `must be an absolute URL (got ${JSON.stringify(value)})` });
    return;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    ctx.addIssue({ code: 'custom', message: `must be an https URL (got ${JSON.stringify(value)})` });
  }
  if (url.hash) ctx.addIssue({ code: 'custom', message: 'must not have a #fragment' });
  if (/[{}]/.test(probe)) ctx.addIssue({ code: 'custom', message: 'has an unterminated or invalid {placeholder} (names: a-z, 0-9, _)' });
});

/** A path glob relative to the API base URL's path: `*` is one segment, `**` any number of them. */
const pathGlob = z.string().regex(/^\/[^\s?#]*$/, 'must start with "/" and hold no spaces, query or fragment');

const requestPattern = strict({
  /** Methods this pattern allows (`*`: any). */
  methods: z.array(z.enum([...HTTP_METHODS, '*'])).min(1),
  /** Paths under an API base URL (default: `/**`). */
  paths: z.array(pathGlob).min(1).optional(),
});

const permission = strict({
  description: z.string().optional(),
  /**
   * Upstream scopes that grant this permission: holding any of them grants it. The first one is
   * what Connect asks the provider for. Empty: the provider has no scopes (the grant gives all).
   */
  scopes: z.array(z.string().min(1).regex(/^\S+$/, 'must not contain spaces')),
  /** The requests it allows. Default: `GET HEAD OPTIONS` on `/**` for `…:read`, everything otherwise. */
  requests: z.array(requestPattern).min(1).optional(),
});

const template = strict({
  description: z.string().min(1),
  /** What a value must match (anchored). Default: a DNS label or host name, no `/`, `@` or `:`. */
  pattern: z.string().optional(),
  example: z.string().optional(),
});

export const providerSchema = strict({
  /** Must equal the file name without `.yaml`. */
  name: z.string().regex(PROVIDER_NAME, 'must be 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit'),
  display_name: z.string().min(1),
  /** Grouping for the Connect page and `alter providers list`. */
  categories: z.array(z.string().regex(/^[a-z][a-z0-9-]*$/)).min(1),
  /** The provider's OAuth documentation. */
  docs_url: z.string().url().optional(),
  /**
   * `true` once the endpoints were checked against the provider's own documentation; `false`
   * for facts taken from secondary sources only (shown as "unverified").
   */
  verified: z.boolean(),
  oauth: strict({
    authorization_url: templatedUrl,
    token_url: templatedUrl,
    revocation_url: templatedUrl.optional(),
    revocation_style: z.enum(REVOCATION_STYLES).default('rfc7009'),
    /**
     * Revoking one access token also ends the grant's refresh token (RFC 7009 §2.1 allows it;
     * Google and oidc-provider do it). Then Alter never revokes a broker-mode token at its TTL:
     * that would end the connection. Unknown: true.
     */
    revocation_revokes_grant: z.boolean().default(true),
    /** OIDC issuer: Connect uses discovery (`/.well-known/openid-configuration`) and checks ID tokens. */
    issuer: templatedUrl.optional(),
    scope_separator: z.enum(SCOPE_SEPARATORS).default(' '),
    /** Scopes always requested (besides the permissions' scopes). */
    default_scopes: z.array(z.string().min(1)).default([]),
    /** Extra authorization request parameters (`access_type: offline`, `prompt: consent`, `audience`). */
    authorization_params: z.record(z.string(), z.string()).default({}),
    /** Extra token request parameters. */
    token_params: z.record(z.string(), z.string()).default({}),
    token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_post'),
    /** Send PKCE (S256). Alter always sends `state`. */
    pkce: z.boolean(),
    quirks: z.array(z.enum(QUIRKS)).default([]),
  }),
  templates: z.record(z.string().regex(TEMPLATE_NAME, 'must be a-z, 0-9 and _, starting with a letter'), template).default({}),
  refresh: strict({
    /** The provider issues refresh tokens (possibly only with `authorization_params` such as `access_type=offline`). */
    supported: z.boolean(),
    /** A refresh answers with a new refresh token that replaces the old one. */
    rotates: z.boolean().default(false),
    /** A refresh may ask for a narrower `scope` (RFC 6749 §6); broker mode relies on it to downgrade. */
    narrow_scope: z.boolean().default(false),
    /** Access token lifetime assumed when the token response has no `expires_in` (absent: no expiry). */
    default_expires_in: z.number().int().positive().optional(),
  }),
  api: strict({
    /** The only places the proxy sends this provider's credentials to (scheme + host + path prefix). */
    base_urls: z.array(templatedUrl).min(1),
  }),
  /** Alter permissions (`repo:read`) → upstream scopes and the requests they allow. */
  permissions: z.record(z.string().regex(PERMISSION_NAME, 'must look like resource:action (a-z, 0-9, ".", "_", "-")'), permission),
  notes: z.string().optional(),
});

/** A catalog entry as written in YAML (after defaults). */
export type ProviderEntry = z.output<typeof providerSchema>;
export type ProviderInput = z.input<typeof providerSchema>;
export type PermissionEntry = ProviderEntry['permissions'][string];
export type RequestPattern = NonNullable<PermissionEntry['requests']>[number];
