/**
 * Small helpers around `fetch`: network failures as {@link AlterConnectionError}, time limits
 * as {@link AlterTimeoutError}, the caller's `AbortSignal` honoured.
 */
import { AlterConnectionError, AlterTimeoutError } from './errors.ts';

/** The `fetch` the SDK calls (the global one unless the caller gives another). */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

/** A call's abort signal: the caller's signal and/or a time limit until the answer's headers. */
export interface CallSignal {
  signal: AbortSignal | undefined;
  /** Ends the time limit (the answer has arrived); the caller's signal stays in force for the body. */
  stopTimer(): void;
}

/**
 * Combines the caller's `signal` with a time limit of `timeoutMs` (if given): when the limit
 * passes, the call is aborted with an {@link AlterTimeoutError}.
 */
export function callSignal(signal: AbortSignal | undefined, timeoutMs: number | undefined): CallSignal {
  if (timeoutMs === undefined) return { signal, stopTimer() {} };
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new TypeError(`timeoutMs: expected a positive number of milliseconds, got ${String(timeoutMs)}`);
  }
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new AlterTimeoutError(`Alter did not answer within ${timeoutMs} ms`)), timeoutMs);
  return { signal: signal ? anySignal(signal, timeout.signal) : timeout.signal, stopTimer: () => clearTimeout(timer) };
}

/** A signal that aborts when either does (`AbortSignal.any`, or a fallback for Node < 20.3). */
function anySignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([a, b]);
  const both = new AbortController();
  for (const s of [a, b]) {
    if (s.aborted) {
      both.abort(s.reason);
      break;
    }
    s.addEventListener('abort', () => both.abort(s.reason), { once: true });
  }
  return both.signal;
}

/**
 * `fetch`, with a failure to reach `url` thrown as an {@link AlterConnectionError} (the original
 * error as `cause`), and an aborted call thrown as the signal's reason (an
 * {@link AlterTimeoutError} for a time limit, the caller's reason otherwise).
 */
export async function fetchAlter(fetchImpl: FetchFunction, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetchImpl(url, init);
  } catch (err) {
    if (init.signal?.aborted) {
      const reason: unknown = init.signal.reason;
      // AbortSignal.timeout() (the SDK's own requests)
      if (reason instanceof DOMException && reason.name === 'TimeoutError') {
        throw new AlterTimeoutError(`Alter (${new URL(url).origin}) did not answer in time`, { cause: reason });
      }
      throw reason;
    }
    if (err instanceof AlterConnectionError) throw err;
    const cause = (err as { cause?: unknown }).cause;
    const why = cause instanceof Error && cause.message ? cause.message : err instanceof Error ? err.message : String(err);
    throw new AlterConnectionError(`cannot reach Alter at ${new URL(url).origin}: ${why}`, { cause: err });
  }
}

/** `promise`, or the signal's reason as soon as it aborts (the promise itself keeps running). */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err as Error);
      },
    );
  });
}

/** Waits `ms`, or rejects with the signal's reason when it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The answer's JSON body, or `undefined` if it is not JSON. */
export async function readJson(response: Response): Promise<unknown> {
  try {
    return JSON.parse(await response.text()) as unknown;
  } catch {
    return undefined;
  }
}
