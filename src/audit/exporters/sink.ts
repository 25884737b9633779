import type { AuditEntry } from '../../ports/audit.ts';

/** One HTTP request to a sink (always a POST). */
export interface SinkRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The last seq this request carries: the cursor may move there once the sink acknowledged it. */
  lastSeq: number;
  /** How many entries it carries. */
  count: number;
}

/** What came back, body read as text. */
export interface SinkResponse {
  status: number;
  headers: Headers;
  body: string;
}

/**
 * A sink's wire format: how a batch of entries becomes requests, and whether a response means
 * the sink has them. One file per sink under `sinks/`.
 */
export interface SinkFormat {
  /**
   * The requests for a batch, in seq order (entries already passed the exporter's `types`
   * filter; may be empty). Built anew for every attempt, so signatures and timestamps are fresh.
   */
  requests(entries: readonly AuditEntry[], now: Date): SinkRequest[];
  /** Undefined when the sink acknowledged the request, else why not (no secrets in it). */
  check(response: SinkResponse, request: SinkRequest): string | undefined;
}

/** `<org>:<seq>`: the event's `id`, and the per-entry dedup key where the sink has one. */
export function entryId(entry: AuditEntry): string {
  return `${entry.orgId}:${entry.seq}`;
}

/**
 * `<org>:<firstSeq>-<lastSeq>`: the `Idempotency-Key` of a request. A retry of the same range
 * carries the same key; a retry that carries more entries (the log grew meanwhile) carries a
 * new one, so a receiver deduplicating by key never drops entries it has not seen.
 */
export function batchId(entries: readonly AuditEntry[]): string {
  const first = entries[0];
  const last = entries.at(-1);
  if (!first || !last) throw new RangeError('an empty batch has no id');
  return `${first.orgId}:${first.seq}-${last.seq}`;
}

/**
 * The single POST of a sink that takes a whole batch at once (none for an empty batch), with
 * the batch's `Idempotency-Key`.
 */
export function batchRequest(url: string, entries: readonly AuditEntry[], headers: Record<string, string>, body: () => string): SinkRequest[] {
  if (entries.length === 0) return [];
  return [{ url, headers: { ...headers, 'idempotency-key': batchId(entries) }, body: body(), lastSeq: entries.at(-1)!.seq, count: entries.length }];
}

/** The event as JSON data (the stored text is canonical JSON). */
export function eventOf(entry: AuditEntry): Record<string, unknown> {
  return JSON.parse(entry.event) as Record<string, unknown>;
}

/** A response body for a message: one line, at most 200 characters. */
export function excerpt(body: string): string {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** `HTTP 503: <excerpt>` */
export function httpFailure(response: SinkResponse): string {
  const text = excerpt(response.body);
  return `HTTP ${response.status}${text ? `: ${text}` : ''}`;
}
