import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the fake received it. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A response the fake sends. */
export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** What a sink's checker makes of a request: entries to store, or a wire-format violation. */
export type Verdict =
  | { ok: true; entries: [key: string, value: Record<string, unknown>][]; respond: (stored: Map<string, Record<string, unknown>>) => FakeResponse }
  | { ok: false; violation: string; response: FakeResponse };

/** A failure the fake plays for the next requests. */
export interface Fault extends FakeResponse {
  /** Store the entries anyway (the sink got them but its answer was lost). */
  store?: boolean;
}

/**
 * An in-process HTTP sink on 127.0.0.1 that checks each request with a sink-specific checker
 * and keeps a dedup view of what it received (by the sink's dedup key).
 */
export interface FakeSink {
  url: string;
  /** What the sink holds, by dedup key (the first copy of each). */
  dedup: Map<string, Record<string, unknown>>;
  /** Every key received, duplicates included, in arrival order. */
  received: string[];
  requests: ReceivedRequest[];
  /** Wire-format violations (a correct exporter leaves this empty). */
  violations: string[];
  /** The next requests get these responses, in order. */
  fail(...faults: Fault[]): void;
  /** Faults not played yet. */
  pendingFaults(): number;
  /** Drops the faults not played yet. */
  clearFaults(): void;
  /** Holds the next request until `release()`; `arrived` resolves when it comes in. */
  holdNext(): { arrived: Promise<void>; release(): void };
  close(): Promise<void>;
}

/** Starts a fake sink; `check` decides on each request. */
export async function startFakeSink(check: (request: ReceivedRequest) => Verdict): Promise<FakeSink> {
  const dedup = new Map<string, Record<string, unknown>>();
  const received: string[] = [];
  const requests: ReceivedRequest[] = [];
  const violations: string[] = [];
  const faults: Fault[] = [];
  let hold: { arrived: () => void; released: Promise<void> } | undefined;

  const store = (entries: [string, Record<string, unknown>][]) => {
    for (const [key, value] of entries) {
      received.push(key);
      if (!dedup.has(key)) dedup.set(key, value);
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const held = hold;
      hold = undefined;
      if (held) {
        held.arrived();
        await held.released;
      }
      const request: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(request);
      const verdict = check(request);
      let response: FakeResponse;
      if (!verdict.ok) {
        violations.push(verdict.violation);
        response = verdict.response;
      } else {
        const fault = faults.shift();
        if (fault) {
          if (fault.store) store(verdict.entries);
          response = fault;
        } else {
          const before = new Map(dedup);
          store(verdict.entries);
          response = verdict.respond(before);
        }
      }
      res.writeHead(response.status, { 'content-type': 'application/json', ...response.headers });
      res.end(response.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    dedup,
    received,
    requests,
    violations,
    fail: (...more) => faults.push(...more),
    pendingFaults: () => faults.length,
    clearFaults: () => {
      faults.length = 0;
    },
    holdNext() {
      let arrived!: () => void;
      let release!: () => void;
      const arrivedPromise = new Promise<void>((resolve) => (arrived = resolve));
      hold = { arrived, released: new Promise<void>((resolve) => (release = resolve)) };
      return { arrived: arrivedPromise, release };
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Rejects a request with a violation. */
export function violation(message: string, status = 400): Verdict {
  return { ok: false, violation: message, response: { status, body: JSON.stringify({ error: message }) } };
}

/** The single value of a header (undefined when absent or repeated). */
export function header(request: ReceivedRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return typeof value === 'string' ? value : undefined;
}

const IDEMPOTENCY_KEY = /^(.+):(\d+)-(\d+)$/;

/** Checks `Idempotency-Key: <org>:<first>-<last>` against the seqs carried; a message when wrong. */
export function checkIdempotencyKey(request: ReceivedRequest, ids: readonly string[]): string | undefined {
  const key = header(request, 'idempotency-key');
  const match = key === undefined ? null : IDEMPOTENCY_KEY.exec(key);
  if (!match) return `Idempotency-Key missing or malformed: ${String(key)}`;
  const expected = `${ids[0]}-${ids.at(-1)?.split(':').at(-1)}`;
  return key === expected ? undefined : `Idempotency-Key ${key} does not match the entries (${expected})`;
}

/** Whether a value is a plain JSON object. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keys of an object that are not in `allowed`, and required ones that are missing. */
export function keyProblems(value: Record<string, unknown>, required: readonly string[], optional: readonly string[] = []): string | undefined {
  const missing = required.filter((k) => !(k in value));
  const extra = Object.keys(value).filter((k) => !required.includes(k) && !optional.includes(k));
  if (missing.length === 0 && extra.length === 0) return undefined;
  return `${missing.length ? `missing ${missing.join(', ')}` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `unexpected ${extra.join(', ')}` : ''}`;
}
