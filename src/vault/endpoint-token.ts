import { VaultUnavailable } from '../shared/errors.ts';

/** An access token and when it stops being valid (ms since the epoch). */
interface ExpiringToken {
  token: string;
  expiresAt: number;
}

/**
 * A token source that asks a workload's local token endpoint (the GCP metadata server, Azure's
 * managed identity endpoint) for an OAuth access token, with the header that endpoint requires,
 * and caches it until a minute before `expires_in` (seconds, a number or a string) runs out;
 * concurrent callers share one fetch. Failures are {@link VaultUnavailable} naming `adapter`,
 * described by `source` ("metadata server").
 */
export function endpointTokenProvider(
  adapter: string,
  source: string,
  options: { url: string | URL; headers: Record<string, string>; timeoutMs?: number; fetch?: typeof fetch; now?: () => number },
): () => Promise<string> {
  const now = options.now ?? Date.now;
  return cachedToken(async () => {
    let response: Response;
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      response = await (options.fetch ?? fetch)(options.url, { headers: options.headers, signal: AbortSignal.timeout(options.timeoutMs ?? 5_000), redirect: 'error' });
      body = response.ok ? ((await response.json()) as typeof body) : {};
    } catch (cause) {
      throw new VaultUnavailable(adapter, `${source} unreachable`, { cause: cause instanceof Error ? new Error(cause.message) : undefined });
    }
    if (!response.ok) throw new VaultUnavailable(adapter, `${source} token request failed: HTTP ${response.status}`);
    const expiresIn = Number(body.expires_in);
    if (typeof body.access_token !== 'string' || !Number.isFinite(expiresIn)) throw new VaultUnavailable(adapter, `${source} returned no access token`);
    return { token: body.access_token, expiresAt: now() + expiresIn * 1000 };
  }, now);
}

/** Caches a fetched token until a minute before it expires; concurrent callers share one fetch. */
function cachedToken(fetchToken: () => Promise<ExpiringToken>, now: () => number): () => Promise<string> {
  const margin = 60_000;
  let cached: ExpiringToken | undefined;
  let pending: Promise<ExpiringToken> | undefined;
  return async () => {
    if (cached && cached.expiresAt - margin > now()) return cached.token;
    pending ??= fetchToken().finally(() => {
      pending = undefined;
    });
    cached = await pending;
    return cached.token;
  };
}
