/**
 * The errors the SDK throws. Everything derives from {@link AlterSdkError}:
 *
 * - {@link AlterError} and its subclasses: Alter itself refused or failed (a response with the
 *   `Alter-Error` header, or an error answer of Alter's own APIs);
 * - {@link UpstreamError}: the provider's API answered with a status >= 400 (not Alter);
 * - {@link AlterConnectionError}: Alter could not be reached at all (or did not answer in time);
 * - {@link ConnectError}: headless Connect ended without a connection.
 *
 * Invalid arguments (a missing path parameter, a reserved header, a bad option) throw a plain
 * `TypeError` before anything is sent.
 */

/** Base class of every error the SDK throws about a call (not about its arguments). */
export class AlterSdkError extends Error {
  override name = 'AlterSdkError';
}

/** What an {@link AlterError} is made of. */
export interface AlterErrorInit {
  /** HTTP status of Alter's answer. */
  status: number;
  /** The `error` member (or the `Alter-Error` header). */
  code: string;
  /** The `error_description` member, if any. */
  description?: string | undefined;
  /** The parsed JSON body, if it was JSON. */
  body?: unknown;
  /** Alter's request id header (`Alter-Request-Id` or `X-Request-Id`), if any. */
  requestId?: string | undefined;
  /** The response headers. */
  headers?: Headers | undefined;
}

/** Alter refused or failed the call itself (not the upstream API). */
export class AlterError extends AlterSdkError {
  override name = 'AlterError';
  /** HTTP status of Alter's answer. */
  readonly status: number;
  /** Alter's error code: the body's `error` member, e.g. `access_denied`. */
  readonly code: string;
  /** Alter's `error_description`, if any. */
  readonly description: string | undefined;
  /** The parsed JSON body (undefined if it was not JSON). */
  readonly body: unknown;
  /** Alter's request id (`Alter-Request-Id` or `X-Request-Id`), to find the call in Alter's logs and audit trail. */
  readonly requestId: string | undefined;
  /** Headers of Alter's answer (e.g. `Retry-After` on a 503). */
  readonly headers: Headers;

  constructor(init: AlterErrorInit) {
    super(`${init.code}${init.description ? `: ${init.description}` : ''} (HTTP ${init.status})`);
    this.status = init.status;
    this.code = init.code;
    this.description = init.description;
    this.body = init.body;
    this.requestId = init.requestId;
    this.headers = init.headers ?? new Headers();
  }
}

/** `invalid_token` (401): the app key or the Alter access token is missing, invalid, expired or revoked. */
export class AuthenticationError extends AlterError {
  override name = 'AuthenticationError';
}

/** `access_denied` (403): the policy denies the call, or the declared actor is unknown or disabled. */
export class PolicyDeniedError extends AlterError {
  override name = 'PolicyDeniedError';
}

/** `insufficient_scope` (403): the permissions held do not allow this method and path. */
export class ScopeInsufficientError extends AlterError {
  override name = 'ScopeInsufficientError';
  /** Permissions that would allow the call (the body's space-separated `scope`), if Alter said. */
  readonly requiredScopes: string[];

  constructor(init: AlterErrorInit) {
    super(init);
    const scope = memberOf(init.body, 'scope');
    this.requiredScopes = typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
  }
}

/** `needs_reauth` (403): the end user must reconnect the account (see `vault.connect`). */
export class NeedsReauthError extends AlterError {
  override name = 'NeedsReauthError';
  /** The connection to reconnect (the body's `connection_id`), if Alter said. */
  readonly connectionId: string | undefined;

  constructor(init: AlterErrorInit) {
    super(init);
    const id = memberOf(init.body, 'connection_id');
    this.connectionId = typeof id === 'string' ? id : undefined;
  }
}

/** `invalid_target` (400): the host is not one of the grant's API hosts, or the path is outside its base URL. */
export class InvalidTargetError extends AlterError {
  override name = 'InvalidTargetError';
}

/** `not_found` (404): no such connection or secret in the caller's app (or it was revoked). */
export class NotFoundError extends AlterError {
  override name = 'NotFoundError';
}

/** `upstream_unreachable` (502), `upstream_timeout` (504) or `temporarily_unavailable` (503). */
export class UpstreamUnavailableError extends AlterError {
  override name = 'UpstreamUnavailableError';
}

/** Agent-key mode: Alter's token endpoint refused the token exchange (e.g. `invalid_grant`, `access_denied`, `invalid_client`). */
export class TokenExchangeError extends AlterError {
  override name = 'TokenExchangeError';
}

/**
 * The upstream API answered with a status >= 400. Its answer is in {@link UpstreamError.response},
 * unread: `await err.response.json()` / `.text()`.
 */
export class UpstreamError extends AlterSdkError {
  override name = 'UpstreamError';
  /** The upstream's status. */
  readonly status: number;
  /** The upstream's headers (as forwarded by Alter). */
  readonly headers: Headers;
  /** The upstream's answer, body not consumed. */
  readonly response: Response;
  /** Alter's id of the call (`Alter-Request-Id`), if Alter sent one. */
  readonly requestId: string | undefined;

  constructor(response: Response) {
    super(`the upstream API answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
    this.status = response.status;
    this.headers = response.headers;
    this.response = response;
    this.requestId = response.headers.get('alter-request-id') ?? undefined;
  }
}

/** Alter could not be reached (DNS, refused connection, reset, TLS…). `cause` is the underlying error. */
export class AlterConnectionError extends AlterSdkError {
  override name = 'AlterConnectionError';
}

/** Alter did not answer within `timeoutMs`. */
export class AlterTimeoutError extends AlterConnectionError {
  override name = 'AlterTimeoutError';
}

/** Headless Connect ended without a connection: the end user's attempt failed, or it timed out (`code` `timeout`). */
export class ConnectError extends AlterSdkError {
  override name = 'ConnectError';
  /** `timeout`, or the session's `error` (e.g. `access_denied` when the end user declined). */
  readonly code: string;
  /** The session's `error_description`, if any. */
  readonly description: string | undefined;

  constructor(code: string, description?: string) {
    super(`Connect failed: ${code}${description ? `: ${description}` : ''}`);
    this.code = code;
    this.description = description;
  }
}

/** Alter's request id: `Alter-Request-Id` (proxy answers), else `X-Request-Id`. */
export function requestIdOf(headers: Headers): string | undefined {
  return headers.get('alter-request-id') || headers.get('x-request-id') || undefined;
}

/** `body[name]` when body is an object. */
function memberOf(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

type AlterErrorClass = new (init: AlterErrorInit) => AlterError;

const ERROR_CLASSES: Readonly<Record<string, AlterErrorClass>> = {
  invalid_token: AuthenticationError,
  access_denied: PolicyDeniedError,
  insufficient_scope: ScopeInsufficientError,
  needs_reauth: NeedsReauthError,
  invalid_target: InvalidTargetError,
  not_found: NotFoundError,
  upstream_unreachable: UpstreamUnavailableError,
  upstream_timeout: UpstreamUnavailableError,
  temporarily_unavailable: UpstreamUnavailableError,
};

/**
 * The typed error for one of Alter's error answers: the subclass chosen by `code`, else
 * {@link AlterError}.
 */
export function alterErrorFor(init: AlterErrorInit): AlterError {
  const Class = Object.hasOwn(ERROR_CLASSES, init.code) ? ERROR_CLASSES[init.code] : undefined;
  return new (Class ?? AlterError)(init);
}

/**
 * Reads one of Alter's error answers (JSON `{error, error_description, …}`, not yet consumed)
 * into the typed error. `fallbackCode` is used when the body names no error (e.g. the
 * `Alter-Error` header's value).
 */
export async function alterErrorFromResponse(response: Response, fallbackCode?: string, make: (init: AlterErrorInit) => AlterError = alterErrorFor): Promise<AlterError> {
  let body: unknown;
  try {
    const text = await response.text();
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const error = memberOf(body, 'error');
  const description = memberOf(body, 'error_description');
  return make({
    status: response.status,
    code: typeof error === 'string' && error !== '' ? error : fallbackCode || 'unexpected_response',
    description: typeof description === 'string' ? description : undefined,
    body,
    requestId: requestIdOf(response.headers),
    headers: response.headers,
  });
}
