import type { AuditEntry } from '../../../ports/audit.ts';
import type { SplunkExporterConfig } from '../exporter-types.ts';
import { batchRequest, eventOf, httpFailure, type SinkFormat, type SinkResponse } from '../sink.ts';

/** One HEC event object (Splunk docs, "Format events for HTTP Event Collector"). */
function hecEvent(entry: AuditEntry, config: SplunkExporterConfig, host: string): Record<string, unknown> {
  return {
    // epoch seconds with millisecond decimals, as HEC expects
    time: entry.occurredAt.getTime() / 1000,
    host,
    source: 'alter',
    sourcetype: 'alter:audit',
    ...(config.index ? { index: config.index } : {}),
    event: eventOf(entry),
  };
}

function check(response: SinkResponse): string | undefined {
  if (response.status !== 200) return httpFailure(response);
  let body: { code?: unknown } | undefined;
  try {
    body = JSON.parse(response.body) as { code?: unknown };
  } catch {
    return `HTTP 200 without a HEC status: ${httpFailure(response)}`;
  }
  return body?.code === 0 ? undefined : `HEC refused the batch: ${httpFailure(response)}`;
}

/**
 * Splunk HTTP Event Collector: one POST per batch to `/services/collector/event` with
 * `Authorization: Splunk <token>`, the body being the events' JSON objects one after the other
 * (HEC batch format). Success is 200 with `{"text":"Success","code":0}`. HEC has no dedup
 * field: each event carries its `id` (`<org>:<seq>`) for searches to deduplicate on.
 *
 * @see https://docs.splunk.com/Documentation/Splunk/latest/Data/FormateventsforHTTPEventCollector
 */
export function splunkHecFormat(config: SplunkExporterConfig, host: string): SinkFormat {
  return {
    requests: (entries) => batchRequest(config.url, entries, { authorization: `Splunk ${config.token}`, 'content-type': 'application/json' },
      () => entries.map((entry) => JSON.stringify(hecEvent(entry, config, host))).join('\n')),
    check,
  };
}
