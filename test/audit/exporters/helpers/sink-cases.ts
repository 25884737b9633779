import type { AuditEntry } from '../../../../src/ports/audit.ts';
import { DEFAULT_PAGERDUTY_TRIGGERS } from '../../../../src/audit/exporters/exporter-schema.ts';
import type { ExporterCommon, ExporterConfig } from '../../../../src/audit/exporters/exporter-types.ts';
import { compileGlobList } from '../../../../src/policy/glob.ts';
import { startFakeDatadog } from './fake-datadog.ts';
import { startFakeElastic } from './fake-elastic.ts';
import { startFakePagerDuty } from './fake-pagerduty.ts';
import type { FakeSink } from './fake-sink.ts';
import { startFakeSplunk } from './fake-splunk.ts';
import { startFakeWebhook } from './fake-webhook.ts';

/** Secrets of the test sinks: none may ever appear in a log line or a stored error. */
export const SECRETS = {
  splunk: 'hec-7f1e0c5b-9a2d-4e6f-8a0b-c3d2e1f0a9b8',
  datadog: 'dd0123456789abcdef0123456789abcd',
  elastic: 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==',
  pagerduty: 'R0123456789ABCDEF0123456789ABCDE',
  webhook: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
} as const;

type Overrides = Partial<ExporterCommon>;

/** One sink under test: its fake, an exporter config pointing at it, and what it should end with. */
export interface SinkCase {
  type: ExporterConfig['type'];
  start(): Promise<FakeSink>;
  config(fake: FakeSink, overrides?: Overrides): ExporterConfig;
  /** The dedup keys the sink holds once these entries are delivered. */
  expectedKeys(entries: readonly AuditEntry[]): string[];
}

const ids = (entries: readonly AuditEntry[]) => entries.map((e) => `${e.orgId}:${e.seq}`);
const common = (type: string, overrides?: Overrides) => ({ name: `${type}-test`, batchSize: 5, maxAttempts: 8, ...overrides });
const triggers = compileGlobList(DEFAULT_PAGERDUTY_TRIGGERS);

export const SINK_CASES: SinkCase[] = [
  {
    type: 'splunk',
    start: () => startFakeSplunk(SECRETS.splunk),
    config: (fake, o) => ({ type: 'splunk', ...common('splunk', o), url: `${fake.url}/services/collector/event`, token: SECRETS.splunk }),
    expectedKeys: ids,
  },
  {
    type: 'datadog',
    start: () => startFakeDatadog(SECRETS.datadog),
    config: (fake, o) => ({ type: 'datadog', ...common('datadog', o), url: `${fake.url}/api/v2/logs`, apiKey: SECRETS.datadog, service: 'alter', source: 'alter', tags: ['env:test'] }),
    expectedKeys: ids,
  },
  {
    type: 'elastic',
    start: () => startFakeElastic(SECRETS.elastic, 'alter-audit'),
    config: (fake, o) => ({ type: 'elastic', ...common('elastic', o), url: `${fake.url}/_bulk`, index: 'alter-audit', auth: { kind: 'api_key', apiKey: SECRETS.elastic } }),
    expectedKeys: ids,
  },
  {
    type: 'pagerduty',
    start: () => startFakePagerDuty(SECRETS.pagerduty),
    config: (fake, o) => ({ type: 'pagerduty', ...common('pagerduty', { batchSize: 1, ...o }), url: `${fake.url}/v2/enqueue`, routingKey: SECRETS.pagerduty, triggers: [...DEFAULT_PAGERDUTY_TRIGGERS] }),
    expectedKeys: (entries) => ids(entries.filter((e) => triggers.test(e.type))),
  },
  {
    type: 'webhook',
    start: () => startFakeWebhook(SECRETS.webhook),
    config: (fake, o) => ({ type: 'webhook', ...common('webhook', o), url: `${fake.url}/hook`, secret: SECRETS.webhook }),
    expectedKeys: ids,
  },
];
