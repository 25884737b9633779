import type { SinkRequest, SinkResponse } from './sink.ts';

/** Largest response body read (a `_bulk` answer for a large batch stays well below). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

async function readBody(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= MAX_BODY_BYTES) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Why a request got no response, without anything from the request itself. */
function describeError(error: unknown, timeoutMs: number): string {
  const err = error as Error & { cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') return `no response within ${timeoutMs} ms`;
  const cause = err?.cause?.code ?? err?.cause?.message;
  return `request failed: ${err?.message ?? String(error)}${cause ? ` (${cause})` : ''}`;
}

/** A request that got no HTTP response (network error, timeout). */
export class SendFailed extends Error {
  override readonly name = 'SendFailed';
}

/**
 * POSTs one sink request with a timeout. Redirects are not followed: a 3xx is a failure, so
 * credentials are never replayed to another address.
 *
 * @throws SendFailed when no response came back in time.
 */
export async function sendRequest(fetchFn: typeof fetch, request: SinkRequest, timeoutMs: number): Promise<SinkResponse> {
  try {
    const response = await fetchFn(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: response.status, headers: response.headers, body: await readBody(response) };
  } catch (error) {
    throw new SendFailed(describeError(error, timeoutMs), { cause: error });
  }
}
