/** What every exporter has, whatever its sink. */
export interface ExporterCommon {
  /** Unique name; the cursor key (`audit_export_cursors.sink`), so renaming one starts over. */
  name: string;
  /** Entries read (and, for most sinks, sent) per request. */
  batchSize: number;
  /** Consecutive failures after which the cursor goes dead (dead letter). */
  maxAttempts: number;
  /** Globs over the event type; entries that match none are skipped (the cursor still moves). */
  types?: readonly string[];
}

/** Splunk HTTP Event Collector. */
export interface SplunkExporterConfig extends ExporterCommon {
  type: 'splunk';
  /** The `/services/collector/event` endpoint. */
  url: string;
  token: string;
  /** Target index; the token's default index when absent. */
  index?: string;
}

/** Datadog Logs intake, API v2. */
export interface DatadogExporterConfig extends ExporterCommon {
  type: 'datadog';
  /** `https://http-intake.logs.<site>/api/v2/logs`, or the configured URL. */
  url: string;
  apiKey: string;
  service: string;
  source: string;
  /** `key:value` tags added to each log (`org:` and `event_type:` are always added). */
  tags: readonly string[];
}

/** Elasticsearch credentials: an API key (the encoded form) or a user name and password. */
export type ElasticAuth = { kind: 'api_key'; apiKey: string } | { kind: 'basic'; username: string; password: string };

/** Elasticsearch (or OpenSearch-compatible) `_bulk` API. */
export interface ElasticExporterConfig extends ExporterCommon {
  type: 'elastic';
  /** The `_bulk` endpoint. */
  url: string;
  /** Index or data stream the documents are created in. */
  index: string;
  auth: ElasticAuth;
}

/** PagerDuty Events API v2: one alert per matching entry. */
export interface PagerDutyExporterConfig extends ExporterCommon {
  type: 'pagerduty';
  url: string;
  routingKey: string;
  /** Globs over the event type that raise an alert; other entries only move the cursor. */
  triggers: readonly string[];
}

/** Any HTTPS endpoint, signed as Standard Webhooks specify. */
export interface WebhookExporterConfig extends ExporterCommon {
  type: 'webhook';
  url: string;
  /** `whsec_` then the base64 key. */
  secret: string;
}

/** One configured exporter. */
export type ExporterConfig = SplunkExporterConfig | DatadogExporterConfig | ElasticExporterConfig | PagerDutyExporterConfig | WebhookExporterConfig;

/** The members of each exporter type that are secrets (never logged, never in messages). */
export function exporterSecrets(config: ExporterConfig): string[] {
  switch (config.type) {
    case 'splunk':
      return [config.token];
    case 'datadog':
      return [config.apiKey];
    case 'elastic':
      return config.auth.kind === 'api_key'
        ? [config.auth.apiKey]
        : [config.auth.password, Buffer.from(`${config.auth.username}:${config.auth.password}`).toString('base64')];
    case 'pagerduty':
      return [config.routingKey];
    case 'webhook':
      return [config.secret, config.secret.replace(/^whsec_/, '')];
  }
}
