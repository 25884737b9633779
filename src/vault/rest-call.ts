import { VaultUnavailable } from '../shared/errors.ts';
import { parseJsonOrUndefined } from '../shared/parse-json.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One JSON request to a secret service, its credentials already in `headers`. */
export interface JsonRequest {
  method: Method;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
  /** Bound on the whole exchange (connect, headers and body). */
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** One JSON request to a cloud secret service with a bearer token (the GCP and Azure adapters). */
export interface RestRequest extends Omit<JsonRequest, 'headers'> {
  /** Bearer token source; called on every request so a refreshed token is picked up. */
  token: () => Promise<string>;
}

/** Status and parsed JSON body (undefined when empty or not JSON). */
export interface RestResponse {
  status: number;
  body: unknown;
}

/**
 * Sends one request with a hard deadline, refusing redirects (they would resend the
 * credentials elsewhere). A network failure or timeout becomes {@link VaultUnavailable} naming
 * `adapter` (its message starts with `label`); every HTTP status is returned for the caller to
 * map. Neither the headers nor the body ever reach an error. Shared by every HTTP adapter.
 */
export async function sendJson(adapter: string, request: JsonRequest, label = ''): Promise<RestResponse> {
  const signal = AbortSignal.timeout(request.timeoutMs);
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  try {
    const response = await (request.fetch ?? fetch)(request.url, {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal,
      redirect: 'error',
    });
    const text = await response.text();
    return { status: response.status, body: parseJsonOrUndefined(text) };
  } catch (cause) {
    const description = signal.aborted ? `request timed out after ${request.timeoutMs} ms` : 'request failed (network error)';
    throw new VaultUnavailable(adapter, `${label}${description}`, { cause: redact(cause) });
  }
}

/**
 * {@link sendJson} with a bearer token. A failing token source becomes {@link VaultUnavailable}
 * naming `adapter` (one that already is passes through).
 */
export async function restCall(adapter: string, request: RestRequest): Promise<RestResponse> {
  let token: string;
  try {
    token = await request.token();
  } catch (cause) {
    if (cause instanceof VaultUnavailable) throw cause;
    throw new VaultUnavailable(adapter, 'access token unavailable', { cause });
  }
  const { token: _source, ...rest } = request;
  return sendJson(adapter, { ...rest, headers: { authorization: `Bearer ${token}` } });
}

/** Keeps the error class and message of a failure, never request data. */
export function redact(cause: unknown): unknown {
  return cause instanceof Error ? new Error(`${cause.name}: ${cause.message}`) : cause;
}

/** A short, secret-free description of an error response: `HTTP 403 PERMISSION_DENIED`. */
export function describeStatus(response: RestResponse): string {
  const error = (response.body as { error?: { status?: unknown; code?: unknown } } | undefined)?.error;
  const code = typeof error?.status === 'string' ? error.status : typeof error?.code === 'string' ? error.code : '';
  return `HTTP ${response.status}${code ? ` ${code}` : ''}`;
}

/** A status the caller does not expect: denied (401/403), throttled (429), down (5xx) or unexpected. */
export function unexpectedStatus(adapter: string, response: RestResponse): VaultUnavailable {
  return new VaultUnavailable(adapter, describeStatus(response));
}
