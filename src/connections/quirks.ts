import type { ProviderEntry } from '../providers/provider-schema.ts';

/**
 * Token endpoint answers that do not follow RFC 6749 §5, rewritten into ones that do before
 * `openid-client` reads them (the catalog's `oauth.quirks` names which apply). Each fix is
 * small and keyed by the provider's documented behaviour:
 *
 * - `github`: form-encoded replies unless asked for JSON; errors with HTTP 200; comma-separated
 *   `scope`; `bad_refresh_token` for an invalid refresh token.
 * - `slack`: `{ ok: false, error }` with HTTP 200; `token_type: "bot"`; the user token nested
 *   under `authed_user` when no bot token was asked for; `invalid_refresh_token`.
 * - `errors_with_200`: `{ error }` with HTTP 200.
 * - `missing_token_type`: no `token_type` (Bearer is meant).
 */

/** Upstream error codes that mean "this grant is gone" (RFC 6749 §5.2 `invalid_grant`). */
const INVALID_GRANT_ALIASES = new Set(['bad_refresh_token', 'invalid_refresh_token', 'bad_verification_code', 'token_revoked', 'token_expired', 'invalid_code']);

function normaliseError(body: Record<string, unknown>): Record<string, unknown> {
  const code = typeof body.error === 'string' ? body.error : 'server_error';
  return {
    error: INVALID_GRANT_ALIASES.has(code) ? 'invalid_grant' : code,
    error_description: typeof body.error_description === 'string' ? body.error_description : `upstream error ${code}`,
  };
}

function parseBody(text: string, contentType: string): Record<string, unknown> | undefined {
  if (contentType.includes('application/x-www-form-urlencoded') || (!text.trimStart().startsWith('{') && text.includes('='))) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function fixSlack(body: Record<string, unknown>): Record<string, unknown> {
  if (body.ok === false) return normaliseError(body);
  const user = body.authed_user as Record<string, unknown> | undefined;
  // a user-token-only install puts the token under authed_user
  const source = typeof body.access_token === 'string' ? body : user && typeof user.access_token === 'string' ? { ...user, team: body.team } : body;
  const { ok: _ok, ...rest } = source;
  return { ...rest, token_type: 'Bearer' };
}

function fixGithub(body: Record<string, unknown>): Record<string, unknown> {
  if (typeof body.scope === 'string') body.scope = body.scope.split(',').map((s) => s.trim()).filter(Boolean).join(' ');
  for (const key of ['expires_in', 'refresh_token_expires_in']) {
    if (typeof body[key] === 'string' && /^\d+$/.test(body[key] as string)) body[key] = Number(body[key]);
  }
  return body;
}

/** Whether a provider needs its token responses rewritten. */
export function hasQuirks(provider: ProviderEntry): boolean {
  return provider.oauth.quirks.length > 0;
}

/** Headers a provider needs on token requests (GitHub answers JSON only when asked). */
export function quirkRequestHeaders(provider: ProviderEntry): Record<string, string> {
  return provider.oauth.quirks.includes('github') ? { accept: 'application/json' } : {};
}

/**
 * Rewrites one token endpoint response as RFC 6749 §5.1/§5.2 says it should have been: a
 * success is JSON with a `token_type`; an error is HTTP 400 JSON with `error`.
 */
export async function normaliseTokenResponse(provider: ProviderEntry, response: Response): Promise<Response> {
  const quirks = provider.oauth.quirks;
  const text = await response.text();
  let body = parseBody(text, response.headers.get('content-type') ?? '');
  if (!body) return new Response(text, { status: response.status, headers: response.headers });
  let status = response.status;
  if (quirks.includes('slack')) body = fixSlack(body);
  if (quirks.includes('github')) body = fixGithub(body);
  if (typeof body.error === 'string') {
    body = normaliseError(body);
    if (status < 400) status = 400;
  } else if (response.ok && quirks.includes('missing_token_type') && body.token_type === undefined) {
    body.token_type = 'Bearer';
  }
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
}
