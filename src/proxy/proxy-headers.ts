import type { HeaderValue } from '../ports/upstream-http.ts';

/** RFC 9110 §7.6.1 hop-by-hop headers, plus the proxy ones that never travel on. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Request headers that describe the hop to Alter or carry Alter's own credential. */
const REQUEST_ONLY = new Set(['host', 'authorization', 'cookie', 'forwarded', 'expect']);

function connectionTokens(value: HeaderValue | undefined): Set<string> {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(text.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
}

/** Headers of the caller's request that go upstream (docs/proxy.md, What is forwarded). */
export function forwardedRequestHeaders(incoming: Record<string, HeaderValue | undefined>): Record<string, HeaderValue> {
  const named = connectionTokens(incoming.connection);
  const out: Record<string, HeaderValue> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name) || REQUEST_ONLY.has(name) || named.has(name)) continue;
    if (name.startsWith('alter-') || name.startsWith('x-forwarded-')) continue;
    out[name] = value;
  }
  return out;
}

/** Headers of the upstream response that go back to the caller. */
export function returnedResponseHeaders(upstream: Record<string, HeaderValue | undefined>): Record<string, HeaderValue> {
  const named = connectionTokens(upstream.connection);
  const out: Record<string, HeaderValue> = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name) || named.has(name) || name === 'set-cookie' || name.startsWith('alter-')) continue;
    out[name] = value;
  }
  return out;
}
