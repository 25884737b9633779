import type { AuditEntry } from '../../../ports/audit.ts';
import type { DatadogExporterConfig } from '../exporter-types.ts';
import { batchRequest, httpFailure, type SinkFormat } from '../sink.ts';

/** One log item of the v2 intake (`HTTPLogItem`). */
function logItem(entry: AuditEntry, config: DatadogExporterConfig, hostname: string): Record<string, string> {
  return {
    ddsource: config.source,
    ddtags: [...config.tags, `org:${entry.orgId}`, `event_type:${entry.type}`].join(','),
    hostname,
    service: config.service,
    // the canonical event text: Datadog parses JSON messages into attributes
    message: entry.event,
  };
}

/**
 * Datadog Logs API v2: one POST per batch to `https://http-intake.logs.<site>/api/v2/logs`
 * with the `DD-API-KEY` header and a JSON array of log items (at most 1000, 5 MB). Success is
 * 202. Datadog has no dedup field: each message carries the event's `id` (`<org>:<seq>`).
 * No `timestamp` is sent: the intake drops logs dated more than 18 h back, and a backlog
 * must still arrive; the event's own `time` is in the message.
 *
 * @see https://docs.datadoghq.com/api/latest/logs/#send-logs
 */
export function datadogLogsFormat(config: DatadogExporterConfig, hostname: string): SinkFormat {
  return {
    requests: (entries) => batchRequest(config.url, entries, { 'dd-api-key': config.apiKey, 'content-type': 'application/json' },
      () => JSON.stringify(entries.map((entry) => logItem(entry, config, hostname)))),
    check: (response) => (response.status === 202 ? undefined : httpFailure(response)),
  };
}
