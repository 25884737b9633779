/**
 * Turning the caller's `body` into what `fetch` sends. Streams and (async) iterables are sent
 * as they are produced (`duplex: 'half'`), never collected in memory.
 */

/** What `vault.request` accepts as a body. */
export type RequestBody =
  | string
  | Uint8Array
  | ArrayBuffer
  | ArrayBufferView
  | Blob
  | URLSearchParams
  | FormData
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array | string>
  | Iterable<Uint8Array | string>
  | JsonBody;

/**
 * A plain object or an array, sent as JSON (`Content-Type: application/json` unless the caller
 * set one). Typed `object` so that interfaces are accepted; other objects are refused at run time.
 */
export type JsonBody = object;

/** A body ready for `fetch`. */
export interface PreparedBody {
  /** What to pass as `init.body`. */
  body: RequestInit['body'];
  /** `Content-Type` to set when the caller did not. */
  contentType?: string;
  /** A stream: needs `duplex: 'half'`. */
  streaming: boolean;
  /** Can be sent again (for the one retry after an expired token). */
  replayable: boolean;
}

const encoder = new TextEncoder();

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return encoder.encode(chunk);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`body: a streamed chunk must be a Uint8Array or a string, got ${chunk === null ? 'null' : typeof chunk}`);
}

/**
 * A `ReadableStream` reading `source` one chunk at a time, only when the consumer asks for
 * more (high-water mark 0): back-pressure reaches the producer, nothing is buffered ahead.
 */
export function iterableToStream(source: AsyncIterable<unknown> | Iterable<unknown>): ReadableStream<Uint8Array> {
  let iterator: AsyncIterator<unknown> | Iterator<unknown> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        iterator ??= Symbol.asyncIterator in source
          ? (source as AsyncIterable<unknown>)[Symbol.asyncIterator]()
          : (source as Iterable<unknown>)[Symbol.iterator]();
        for (;;) {
          const next = await iterator.next();
          if (next.done) {
            controller.close();
            return;
          }
          const bytes = toBytes(next.value);
          if (bytes.byteLength === 0) continue; // an empty chunk would read as the end in some stacks
          controller.enqueue(bytes);
          return;
        }
      },
      async cancel(reason) {
        await iterator?.return?.(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

function isPlainJson(value: object): boolean {
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Classifies and converts a request body; a `TypeError` for a value it cannot send. */
export function prepareBody(body: unknown): PreparedBody {
  if (body === undefined || body === null) return { body: undefined, streaming: false, replayable: true };
  if (typeof body === 'string') return { body, streaming: false, replayable: true };
  if (typeof body !== 'object') throw new TypeError(`body: cannot send a ${typeof body}; use a string, bytes, a stream or a JSON object/array`);
  if (body instanceof ArrayBuffer) return { body, streaming: false, replayable: true };
  if (ArrayBuffer.isView(body)) return { body: toBytes(body), streaming: false, replayable: true };
  if (typeof Blob !== 'undefined' && body instanceof Blob) return { body, streaming: false, replayable: true };
  if (body instanceof URLSearchParams) return { body, streaming: false, replayable: true };
  if (typeof FormData !== 'undefined' && body instanceof FormData) return { body, streaming: false, replayable: true };
  if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) {
    return { body: body as ReadableStream<Uint8Array>, streaming: true, replayable: false };
  }
  if (Symbol.asyncIterator in body) return { body: iterableToStream(body as AsyncIterable<unknown>), streaming: true, replayable: false };
  if (isPlainJson(body)) return { body: JSON.stringify(body), contentType: 'application/json', streaming: false, replayable: true };
  if (Symbol.iterator in body) return { body: iterableToStream(body as Iterable<unknown>), streaming: true, replayable: false };
  if (typeof (body as { toJSON?: unknown }).toJSON === 'function') {
    return { body: JSON.stringify(body), contentType: 'application/json', streaming: false, replayable: true };
  }
  throw new TypeError(`body: cannot send a ${(body as object).constructor?.name ?? 'object'}; use a string, bytes, a Blob, a stream, an async iterable or a plain JSON object/array`);
}
