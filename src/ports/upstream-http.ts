import type { Readable } from 'node:stream';

/**
 * Outbound HTTP to provider APIs (the proxy's forwarding leg). One request, no redirects
 * followed, bounded timeouts; the adapter (`adapters/http/undici-upstream.ts`) pools keep-alive
 * connections per origin.
 */

export type HeaderValue = string | string[];

export interface UpstreamRequest {
  /** `https://api.example.com` (scheme, host, port). */
  origin: string;
  /** Path and query, as sent upstream (`/v1/items?limit=10`). */
  path: string;
  method: string;
  headers: Record<string, HeaderValue>;
  /** Streamed (a request stream) or buffered; absent: no body. */
  body?: Readable | Buffer;
  signal?: AbortSignal;
}

export interface UpstreamResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, HeaderValue | undefined>;
  body: Readable;
}

/** Why an upstream request produced no response. */
export type UpstreamFailureKind = 'connect' | 'timeout' | 'reset';

/** The request got no response: could not connect, timed out, or the connection broke. */
export class UpstreamRequestFailed extends Error {
  override readonly name = 'UpstreamRequestFailed';
  readonly kind: UpstreamFailureKind;
  /** True when the failure happened before any byte of the request was sent (always safe to retry). */
  readonly beforeSend: boolean;
  constructor(kind: UpstreamFailureKind, message: string, options: { beforeSend: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.beforeSend = options.beforeSend;
  }
}

export interface UpstreamHttp {
  send(request: UpstreamRequest): Promise<UpstreamResponse>;
  close(): Promise<void>;
}
