import { compileGlobList } from '../../../policy/glob.ts';
import type { AuditEntry } from '../../../ports/audit.ts';
import type { PagerDutyExporterConfig } from '../exporter-types.ts';
import { batchId, entryId, eventOf, httpFailure, type SinkFormat } from '../sink.ts';

/** PagerDuty's `severity`: a detected tamper is critical, a rejected policy an error, the rest a warning. */
export function pagerDutySeverity(type: string): 'critical' | 'error' | 'warning' {
  if (type === 'audit.tamper_detected') return 'critical';
  if (type === 'policy.rejected') return 'error';
  return 'warning';
}

/** At most 1024 characters (the API truncates longer summaries). */
function summary(entry: AuditEntry): string {
  const text = `Alter audit: ${entry.type} in org ${entry.orgId}${entry.agentId ? ` (agent ${entry.agentId})` : ''}, seq ${entry.seq}`;
  return text.length > 1024 ? `${text.slice(0, 1023)}…` : text;
}

function triggerEvent(entry: AuditEntry, routingKey: string): Record<string, unknown> {
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: entryId(entry),
    payload: {
      summary: summary(entry),
      source: 'alter',
      severity: pagerDutySeverity(entry.type),
      timestamp: entry.occurredAt.toISOString(),
      component: 'audit',
      group: entry.orgId,
      class: entry.type,
      custom_details: eventOf(entry),
    },
  };
}

/**
 * PagerDuty Events API v2: one `trigger` event per entry whose type matches `triggers`
 * (the others only move the cursor), POSTed to `https://events.pagerduty.com/v2/enqueue`
 * with `dedup_key: "<org>:<seq>"`, so a resent entry lands on the same alert. Success is 202.
 *
 * @see https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
 */
export function pagerDutyEventsFormat(config: PagerDutyExporterConfig): SinkFormat {
  const triggers = compileGlobList(config.triggers);
  return {
    requests(entries) {
      return entries
        .filter((entry) => triggers.test(entry.type))
        .map((entry) => ({
          url: config.url,
          headers: {
            'content-type': 'application/json',
            'idempotency-key': batchId([entry]),
          },
          body: JSON.stringify(triggerEvent(entry, config.routingKey)),
          lastSeq: entry.seq,
          count: 1,
        }));
    },
    check: (response) => (response.status === 202 ? undefined : httpFailure(response)),
  };
}
