import { Agent, errors } from 'undici';
import { UpstreamRequestFailed, type UpstreamHttp, type UpstreamRequest, type UpstreamResponse } from '../../ports/upstream-http.ts';

export interface UndiciUpstreamOptions {
  /** Time to establish a connection (TCP + TLS). */
  connectTimeoutMs: number;
  /** Time from sending the request to receiving the response headers. */
  headersTimeoutMs: number;
  /** Longest silence while receiving the response body. */
  bodyTimeoutMs: number;
  /** Idle keep-alive connections are closed after this long. */
  keepAliveTimeoutMs: number;
  /** Connections per origin at most. */
  connectionsPerOrigin: number;
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** Maps undici's and the socket's errors onto the port's failure kinds. */
function failure(err: unknown): UpstreamRequestFailed {
  const code = (err as { code?: string }).code ?? '';
  if (err instanceof errors.ConnectTimeoutError || CONNECT_CODES.has(code)) {
    return new UpstreamRequestFailed(code === 'UND_ERR_CONNECT_TIMEOUT' ? 'timeout' : 'connect', `could not connect (${code || 'error'})`, { beforeSend: true, cause: err });
  }
  if (err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError) {
    return new UpstreamRequestFailed('timeout', 'no response in time', { beforeSend: false, cause: err });
  }
  return new UpstreamRequestFailed('reset', `the connection failed (${code || (err as Error).message})`, { beforeSend: false, cause: err });
}

/**
 * The upstream HTTP client: one undici `Agent` (a keep-alive pool per origin), no redirects,
 * bounded connect/headers/body timeouts.
 */
export function createUndiciUpstream(options: UndiciUpstreamOptions): UpstreamHttp {
  const agent = new Agent({
    connect: { timeout: options.connectTimeoutMs },
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    connections: options.connectionsPerOrigin,
    pipelining: 1,
  });
  return {
    async send(request: UpstreamRequest): Promise<UpstreamResponse> {
      try {
        const response = await agent.request({
          origin: request.origin,
          path: request.path,
          method: request.method as 'GET',
          headers: request.headers,
          body: request.body ?? null,
          ...(request.signal ? { signal: request.signal } : {}),
        });
        return { status: response.statusCode, headers: response.headers, body: response.body };
      } catch (err) {
        if ((err as Error).name === 'AbortError' || request.signal?.aborted) throw err;
        throw failure(err);
      }
    },
    async close(): Promise<void> {
      await agent.close();
    },
  };
}
