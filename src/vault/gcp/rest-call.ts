import { VaultUnavailable } from '../../shared/errors.ts';
import { parseJsonOrUndefined } from '../../shared/parse-json.ts';

/** One JSON request to a cloud secret service (shared by the GCP and Azure adapters). */
export interface RestRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  /** Bearer token source; called on every request so a refreshed token is picked up. */
  token: () => Promise<string>;
  body?: unknown;
  /** Bound on the whole exchange (connect, headers and body). */
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** Status and parsed JSON body (undefined when empty or not JSON). */
export interface RestResponse {
  status: number;
  body: unknown;
}

/**
 * Sends one request with a bearer token and a hard deadline. Network failures, timeouts and a
 * failing token source become {@link VaultUnavailable} naming `adapter`; HTTP statuses are
 * returned for the caller to map. Neither the token nor the body ever reaches an error message.
 */
export async function restCall(adapter: string, request: RestRequest): Promise<RestResponse> {
  let token: string;
  try {
    token = await request.token();
  } catch (cause) {
    if (cause instanceof VaultUnavailable) throw cause;
    throw new VaultUnavailable(adapter, 'access token unavailable', { cause });
  }
  const signal = AbortSignal.timeout(request.timeoutMs);
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  try {
    const response = await (request.fetch ?? fetch)(request.url, {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal,
      // A redirect would resend the bearer token elsewhere.
      redirect: 'error',
    });
    const text = await response.text();
    return { status: response.status, body: parseJsonOrUndefined(text) };
  } catch (cause) {
    throw new VaultUnavailable(adapter, signal.aborted ? `request timed out after ${request.timeoutMs} ms` : 'request failed (network error)', { cause: redact(cause) });
  }
}


/** Keeps the error class and message of a transport failure, never request data. */
function redact(cause: unknown): unknown {
  return cause instanceof Error ? new Error(`${cause.name}: ${cause.message}`) : cause;
}

/** A short, secret-free description of an error response: `HTTP 403 PERMISSION_DENIED`. */
export function describeStatus(response: RestResponse): string {
  const error = (response.body as { error?: { status?: unknown; code?: unknown } } | undefined)?.error;
  const code = typeof error?.status === 'string' ? error.status : typeof error?.code === 'string' ? error.code : '';
  return `HTTP ${response.status}${code ? ` ${code}` : ''}`;
}
