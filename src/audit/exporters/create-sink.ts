import { hostname } from 'node:os';
import type { ExporterConfig } from './exporter-types.ts';
import type { SinkFormat } from './sink.ts';
import { datadogLogsFormat } from './sinks/datadog-logs.ts';
import { elasticBulkFormat } from './sinks/elastic-bulk.ts';
import { pagerDutyEventsFormat } from './sinks/pagerduty-events.ts';
import { splunkHecFormat } from './sinks/splunk-hec.ts';
import { standardWebhookFormat } from './sinks/standard-webhook.ts';

/** The wire format of an exporter's sink (the one place that maps `type` to a format). */
export function createSinkFormat(config: ExporterConfig, host: string = hostname()): SinkFormat {
  switch (config.type) {
    case 'splunk':
      return splunkHecFormat(config, host);
    case 'datadog':
      return datadogLogsFormat(config, host);
    case 'elastic':
      return elasticBulkFormat(config);
    case 'pagerduty':
      return pagerDutyEventsFormat(config);
    case 'webhook':
      return standardWebhookFormat(config);
  }
}
