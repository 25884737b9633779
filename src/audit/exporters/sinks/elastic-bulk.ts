import type { AuditEntry } from '../../../ports/audit.ts';
import type { ElasticAuth, ElasticExporterConfig } from '../exporter-types.ts';
import { batchRequest, entryId, eventOf, excerpt, httpFailure, type SinkFormat, type SinkResponse } from '../sink.ts';

interface BulkItemResult {
  status?: number;
  error?: { type?: string; reason?: string };
}

function authorization(auth: ElasticAuth): string {
  return auth.kind === 'api_key' ? `ApiKey ${auth.apiKey}` : `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
}

/** The action line and the document line of one entry. */
function bulkLines(entry: AuditEntry, index: string): string {
  const action = { create: { _index: index, _id: entryId(entry) } };
  const document = { '@timestamp': entry.occurredAt.toISOString(), ...eventOf(entry) };
  return `${JSON.stringify(action)}\n${JSON.stringify(document)}\n`;
}

/**
 * 200 with `errors: false`, or item errors that are all 409 (the document was created by an
 * earlier attempt: `create` with the same `_id` is idempotent). Any other item error fails
 * the batch, which is sent again whole (its created documents then answer 409).
 */
function check(response: SinkResponse, expected: number): string | undefined {
  if (response.status !== 200) return httpFailure(response);
  let body: { errors?: unknown; items?: Record<string, BulkItemResult>[] };
  try {
    body = JSON.parse(response.body) as typeof body;
  } catch {
    return `HTTP 200 without a bulk response: ${excerpt(response.body)}`;
  }
  const items = Array.isArray(body.items) ? body.items.map((item) => Object.values(item)[0] ?? {}) : [];
  if (items.length !== expected) return `bulk response has ${items.length} items for ${expected} documents`;
  if (body.errors === false) return undefined;
  const failed = items.filter((item) => item.status === undefined || ((item.status < 200 || item.status > 299) && item.status !== 409));
  if (failed.length === 0) return undefined;
  const first = failed[0]!;
  return `${failed.length} of ${expected} documents refused: ${first.status ?? '?'} ${excerpt(`${first.error?.type ?? ''} ${first.error?.reason ?? ''}`)}`;
}

/**
 * Elasticsearch `_bulk`: one POST per batch to the configured `_bulk` URL, NDJSON
 * (`application/x-ndjson`, newline-terminated) of a `create` action with `_id: "<org>:<seq>"`
 * and the document (the event with `@timestamp`; `create` also suits data streams). Auth is
 * `Authorization: ApiKey <encoded key>` or Basic.
 *
 * @see https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html
 */
export function elasticBulkFormat(config: ElasticExporterConfig): SinkFormat {
  const auth = authorization(config.auth);
  return {
    requests: (entries) => batchRequest(config.url, entries, { authorization: auth, 'content-type': 'application/x-ndjson', accept: 'application/json' },
      () => entries.map((entry) => bulkLines(entry, config.index)).join('')),
    check: (response, request) => check(response, request.count),
  };
}
