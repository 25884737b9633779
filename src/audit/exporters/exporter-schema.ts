import { z } from 'zod';
import type {
  DatadogExporterConfig, ElasticExporterConfig, PagerDutyExporterConfig, SplunkExporterConfig, WebhookExporterConfig,
} from './exporter-types.ts';

/*
 * The schema of an exporters file (docs/audit-exporters.md). Input keys are snake_case as in
 * the YAML; the output is the typed {@link ExporterConfig}. Messages start with "must" or "is"
 * and are completed with the field's name; none of them repeats a value, since values may be
 * secrets or come from the environment.
 */

/** Exporter names: the cursor key. */
export const EXPORTER_NAME = /^[a-z0-9][a-z0-9._-]*$/;
const TYPE_GLOB = /^[A-Za-z0-9._:*?-]+$/;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The PagerDuty Events API v2 endpoint. */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
/** Entry types that raise a PagerDuty alert unless `triggers` says otherwise. */
export const DEFAULT_PAGERDUTY_TRIGGERS = ['audit.tamper_detected', 'policy.rejected', 'revocation.*'] as const;

const text = z.string({ error: 'must be a string' }).min(1, 'must not be empty');
const secret = text;
const typeGlobs = z
  .array(z.string({ error: 'must be a string' }).regex(TYPE_GLOB, 'must be an event type glob (letters, digits, ".", "_", ":", "-", "*", "?")'), { error: 'must be a list of event type globs' })
  .min(1, 'must not be empty');

/** An absolute http(s) URL without credentials or fragment (checked again for https below). */
const url = z.string({ error: 'must be a URL' }).superRefine((value, ctx) => {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
    return;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') ctx.addIssue({ code: 'custom', message: 'must be an https:// URL' });
  if (parsed.username || parsed.password) ctx.addIssue({ code: 'custom', message: 'must not hold a user name or password (use the credential fields)' });
  if (parsed.hash) ctx.addIssue({ code: 'custom', message: 'must not have a fragment' });
});

function batchSize(defaultSize: number, max: number) {
  return z
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(max, `must be at most ${max}`)
    .default(defaultSize);
}

/** Members every exporter accepts. */
function common(defaultBatch: number, maxBatch: number) {
  return {
    name: z.string({ error: 'must be a string' }).max(100, 'must be at most 100 characters').regex(EXPORTER_NAME, 'must start with a-z or 0-9 and hold only a-z, 0-9, ".", "_" and "-"'),
    batch_size: batchSize(defaultBatch, maxBatch),
    max_attempts: z.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(8),
    types: typeGlobs.optional(),
    /** Plain HTTP to a host other than the loopback: off unless asked for (credentials in the clear). */
    allow_http: z.boolean({ error: 'must be true or false' }).default(false),
  };
}

type CommonInput = {
  name: string;
  batch_size: number;
  max_attempts: number;
  types?: string[] | undefined;
  allow_http: boolean;
};

function commonOutput(raw: CommonInput) {
  return { name: raw.name, batchSize: raw.batch_size, maxAttempts: raw.max_attempts, ...(raw.types ? { types: raw.types } : {}) };
}

/** https unless the host is the loopback or `allow_http` is set. */
function requireHttps(raw: { url?: string | undefined; allow_http: boolean }, ctx: z.RefinementCtx): void {
  if (raw.url === undefined || raw.allow_http) return;
  let parsed: URL;
  try {
    parsed = new URL(raw.url);
  } catch {
    return;
  }
  if (parsed.protocol === 'http:' && !LOOPBACK.has(parsed.hostname)) {
    ctx.addIssue({ code: 'custom', path: ['url'], message: 'must use https (set allow_http: true to send credentials over plain HTTP)' });
  }
}

const splunk = z
  .strictObject({ type: z.literal('splunk'), ...common(100, 5000), url, token: secret, index: text.optional() })
  .superRefine(requireHttps)
  .transform((raw): SplunkExporterConfig => ({ type: 'splunk', ...commonOutput(raw), url: raw.url, token: raw.token, ...(raw.index ? { index: raw.index } : {}) }));

const datadog = z
  .strictObject({
    type: z.literal('datadog'),
    ...common(100, 1000),
    api_key: secret,
    site: z.string({ error: 'must be a string' }).regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'must be a Datadog site such as datadoghq.com or datadoghq.eu').optional(),
    url: url.optional(),
    service: text.default('alter'),
    source: text.default('alter'),
    tags: z.array(z.string({ error: 'must be a string' }).regex(/^[^,\s]+$/, 'must be a tag without commas or spaces'), { error: 'must be a list of tags' }).default([]),
  })
  .superRefine((raw, ctx) => {
    if (raw.site !== undefined && raw.url !== undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'must not be set with site (set one of them)' });
    requireHttps(raw, ctx);
  })
  .transform((raw): DatadogExporterConfig => ({
    type: 'datadog',
    ...commonOutput(raw),
    url: raw.url ?? `https://http-intake.logs.${raw.site ?? 'datadoghq.com'}/api/v2/logs`,
    apiKey: raw.api_key,
    service: raw.service,
    source: raw.source,
    tags: raw.tags,
  }));

const elastic = z
  .strictObject({
    type: z.literal('elastic'),
    ...common(100, 5000),
    url,
    index: z.string({ error: 'must be a string' }).regex(/^[a-z0-9][a-z0-9._+-]*$/, 'must be a lowercase index or data stream name'),
    api_key: secret.optional(),
    username: text.optional(),
    password: secret.optional(),
  })
  .superRefine((raw, ctx) => {
    const basic = raw.username !== undefined || raw.password !== undefined;
    if (raw.api_key !== undefined && basic) ctx.addIssue({ code: 'custom', path: ['api_key'], message: 'must not be set with username and password (set one or the other)' });
    else if (raw.api_key === undefined && !basic) ctx.addIssue({ code: 'custom', path: ['api_key'], message: 'is required (or username and password)' });
    else if (basic && raw.username === undefined) ctx.addIssue({ code: 'custom', path: ['username'], message: 'is required with password' });
    else if (basic && raw.password === undefined) ctx.addIssue({ code: 'custom', path: ['password'], message: 'is required with username' });
    requireHttps(raw, ctx);
  })
  .transform((raw): ElasticExporterConfig => ({
    type: 'elastic',
    ...commonOutput(raw),
    url: raw.url,
    index: raw.index,
    auth: raw.api_key !== undefined ? { kind: 'api_key', apiKey: raw.api_key } : { kind: 'basic', username: raw.username ?? '', password: raw.password ?? '' },
  }));

const pagerduty = z
  .strictObject({
    type: z.literal('pagerduty'),
    ...common(1, 100),
    routing_key: secret,
    url: url.default(PAGERDUTY_EVENTS_URL),
    triggers: typeGlobs.default([...DEFAULT_PAGERDUTY_TRIGGERS]),
  })
  .superRefine(requireHttps)
  .transform((raw): PagerDutyExporterConfig => ({ type: 'pagerduty', ...commonOutput(raw), url: raw.url, routingKey: raw.routing_key, triggers: raw.triggers }));

/** Standard Webhooks: `whsec_` and the base64 key, 24 to 64 bytes. */
const webhookSecret = z.string({ error: 'must be a string' }).superRefine((value, ctx) => {
  const key = value.startsWith('whsec_') ? value.slice('whsec_'.length) : undefined;
  const bytes = key !== undefined && /^[A-Za-z0-9+/]+={0,2}$/.test(key) && key.length % 4 === 0 ? Buffer.from(key, 'base64').length : 0;
  if (bytes < 24 || bytes > 64) ctx.addIssue({ code: 'custom', message: 'must be "whsec_" followed by a base64 key of 24 to 64 bytes' });
});

const webhook = z
  .strictObject({ type: z.literal('webhook'), ...common(100, 5000), url, secret: webhookSecret })
  .superRefine(requireHttps)
  .transform((raw): WebhookExporterConfig => ({ type: 'webhook', ...commonOutput(raw), url: raw.url, secret: raw.secret }));

/** One exporter, chosen by `type`. */
export const exporterSchema = z.discriminatedUnion('type', [splunk, datadog, elastic, pagerduty, webhook]);

/** The whole file: `exporters:` and a list (name uniqueness is checked by the loader). */
export const exportersFileSchema = z.strictObject({ exporters: z.array(exporterSchema, { error: 'must be a list of exporters' }) });
