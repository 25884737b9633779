/** An access token and when it stops being valid (ms since the epoch). */
export interface ExpiringToken {
  token: string;
  expiresAt: number;
}

/**
 * Caches a fetched token until shortly before it expires; concurrent callers share one fetch.
 * Used by the GCP metadata-server and Azure managed-identity token providers.
 */
export function cachedToken(fetchToken: () => Promise<ExpiringToken>, options: { now?: () => number; marginMs?: number } = {}): () => Promise<string> {
  const now = options.now ?? Date.now;
  const margin = options.marginMs ?? 60_000;
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
