import { describe, expect, test } from 'vitest';
import { createSinkFormat } from '../../../src/audit/exporters/create-sink.ts';
import type { SinkResponse } from '../../../src/audit/exporters/sink.ts';
import { signWebhook } from '../../../src/audit/exporters/sinks/standard-webhook.ts';
import type { AuditEntry } from '../../../src/ports/audit.ts';

const occurredAt = new Date('2025-03-01T12:00:00.123Z');
const NOW = new Date('2025-03-01T12:00:05.900Z');

function entry(seq: number, type: string, extra: Record<string, unknown> = {}): AuditEntry {
  const event = JSON.stringify({ ...extra, id: `org-a:${seq}`, org: 'org-a', seq, time: occurredAt.toISOString(), type, v: 1 });
  return { orgId: 'org-a', seq, occurredAt, type, event, leafHash: 'l'.repeat(64), prevHash: String(seq - 1).repeat(64).slice(0, 64), entryHash: String(seq).repeat(64).slice(0, 64) };
}

const entries = [entry(4, 'token.issued', { agent: 'bot' }), entry(5, 'policy.rejected')];
const common = { batchSize: 100, maxAttempts: 8 };
const response = (status: number, body = '', headers: Record<string, string> = {}): SinkResponse => ({ status, body, headers: new Headers(headers) });

describe('Splunk HEC', () => {
  const format = createSinkFormat({ type: 'splunk', name: 's', ...common, url: 'https://splunk:8088/services/collector/event', token: 'tok-1234' }, 'node-1');

  test('one request: Authorization: Splunk <token>, events concatenated with epoch-seconds time', () => {
    const [request, ...rest] = format.requests(entries, NOW);
    expect(rest).toEqual([]);
    expect(request).toMatchObject({
      url: 'https://splunk:8088/services/collector/event',
      headers: { authorization: 'Splunk tok-1234', 'content-type': 'application/json', 'idempotency-key': 'org-a:4-5' },
      lastSeq: 5,
      count: 2,
    });
    expect(request!.body).toBe(
      '{"time":1740830400.123,"host":"node-1","source":"alter","sourcetype":"alter:audit","event":{"agent":"bot","id":"org-a:4","org":"org-a","seq":4,"time":"2025-03-01T12:00:00.123Z","type":"token.issued","v":1}}\n' +
        '{"time":1740830400.123,"host":"node-1","source":"alter","sourcetype":"alter:audit","event":{"id":"org-a:5","org":"org-a","seq":5,"time":"2025-03-01T12:00:00.123Z","type":"policy.rejected","v":1}}',
    );
  });

  test('success is 200 with code 0; anything else fails with the HEC answer', () => {
    const request = format.requests(entries, NOW)[0]!;
    expect(format.check(response(200, '{"text":"Success","code":0}'), request)).toBeUndefined();
    expect(format.check(response(200, '{"text":"Server is busy","code":9}'), request)).toMatch(/^HEC refused the batch: HTTP 200/);
    expect(format.check(response(403, '{"text":"Invalid token","code":4}'), request)).toBe('HTTP 403: {"text":"Invalid token","code":4}');
  });

  test('index when configured', () => {
    const indexed = createSinkFormat({ type: 'splunk', name: 's', ...common, url: 'https://splunk:8088/services/collector/event', token: 'tok-1234', index: 'audit' }, 'h');
    expect(JSON.parse(indexed.requests([entries[0]!], NOW)[0]!.body)).toMatchObject({ index: 'audit' });
  });
});

describe('Datadog Logs v2', () => {
  const format = createSinkFormat({ type: 'datadog', name: 'd', ...common, url: 'https://http-intake.logs.datadoghq.eu/api/v2/logs', apiKey: 'dd-key', service: 'alter', source: 'alter', tags: ['env:prod'] }, 'node-1');

  test('a JSON array of log items with the event as message, DD-API-KEY header', () => {
    const [request] = format.requests(entries, NOW);
    expect(request!.url).toBe('https://http-intake.logs.datadoghq.eu/api/v2/logs');
    expect(request!.headers).toEqual({ 'dd-api-key': 'dd-key', 'content-type': 'application/json', 'idempotency-key': 'org-a:4-5' });
    expect(JSON.parse(request!.body)).toEqual([
      { ddsource: 'alter', ddtags: 'env:prod,org:org-a,event_type:token.issued', hostname: 'node-1', service: 'alter', message: entries[0]!.event },
      { ddsource: 'alter', ddtags: 'env:prod,org:org-a,event_type:policy.rejected', hostname: 'node-1', service: 'alter', message: entries[1]!.event },
    ]);
  });

  test('success is 202 only', () => {
    const request = format.requests(entries, NOW)[0]!;
    expect(format.check(response(202, '{}'), request)).toBeUndefined();
    expect(format.check(response(200, '{}'), request)).toBe('HTTP 200: {}');
  });
});

describe('Elastic _bulk', () => {
  const format = createSinkFormat({ type: 'elastic', name: 'e', ...common, url: 'https://es:9200/_bulk', index: 'alter-audit', auth: { kind: 'basic', username: 'alter', password: 'pw-1234' } });

  test('NDJSON of create actions with _id <org>:<seq>, newline-terminated, Basic auth', () => {
    const [request] = format.requests(entries, NOW);
    expect(request!.headers).toEqual({
      authorization: `Basic ${Buffer.from('alter:pw-1234').toString('base64')}`,
      'content-type': 'application/x-ndjson',
      accept: 'application/json',
      'idempotency-key': 'org-a:4-5',
    });
    expect(request!.body).toBe(
      '{"create":{"_index":"alter-audit","_id":"org-a:4"}}\n' +
        '{"@timestamp":"2025-03-01T12:00:00.123Z","agent":"bot","id":"org-a:4","org":"org-a","seq":4,"time":"2025-03-01T12:00:00.123Z","type":"token.issued","v":1}\n' +
        '{"create":{"_index":"alter-audit","_id":"org-a:5"}}\n' +
        '{"@timestamp":"2025-03-01T12:00:00.123Z","id":"org-a:5","org":"org-a","seq":5,"time":"2025-03-01T12:00:00.123Z","type":"policy.rejected","v":1}\n',
    );
  });

  test('ApiKey auth', () => {
    const keyed = createSinkFormat({ type: 'elastic', name: 'e', ...common, url: 'https://es:9200/_bulk', index: 'a', auth: { kind: 'api_key', apiKey: 'a2V5' } });
    expect(keyed.requests(entries, NOW)[0]!.headers.authorization).toBe('ApiKey a2V5');
  });

  test('409 items count as delivered; other item errors, a missing item or a non-200 fail the batch', () => {
    const request = format.requests(entries, NOW)[0]!;
    const item = (status: number, error?: object) => ({ create: { _index: 'alter-audit', _id: 'x', status, ...(error ? { error } : {}) } });
    const bulk = (errors: boolean, items: object[]) => response(200, JSON.stringify({ took: 1, errors, items }));
    expect(format.check(bulk(false, [item(201), item(201)]), request)).toBeUndefined();
    expect(format.check(bulk(true, [item(409, { type: 'version_conflict_engine_exception' }), item(201)]), request)).toBeUndefined();
    expect(format.check(bulk(true, [item(201), item(400, { type: 'mapper_parsing_exception', reason: 'failed to parse field [seq]' })]), request)).toBe(
      '1 of 2 documents refused: 400 mapper_parsing_exception failed to parse field [seq]',
    );
    expect(format.check(bulk(true, [item(429, { type: 'es_rejected_execution_exception' }), item(201)]), request)).toMatch(/^1 of 2 documents refused: 429/);
    expect(format.check(bulk(false, [item(201)]), request)).toBe('bulk response has 1 items for 2 documents');
    expect(format.check(response(200, 'not json'), request)).toMatch(/^HTTP 200 without a bulk response/);
    expect(format.check(response(401, '{"error":"security_exception"}'), request)).toBe('HTTP 401: {"error":"security_exception"}');
  });
});

describe('PagerDuty Events v2', () => {
  const format = createSinkFormat({ type: 'pagerduty', name: 'p', ...common, url: 'https://events.pagerduty.com/v2/enqueue', routingKey: 'R0KEY', triggers: ['policy.rejected', 'audit.*'] });

  test('one trigger event per matching entry, dedup_key <org>:<seq>; the others are not sent', () => {
    const requests = format.requests([...entries, entry(6, 'audit.tamper_detected')], NOW);
    expect(requests.map((r) => [r.lastSeq, r.headers['idempotency-key']])).toEqual([[5, 'org-a:5-5'], [6, 'org-a:6-6']]);
    expect(requests[0]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(requests[0]!.body)).toEqual({
      routing_key: 'R0KEY',
      event_action: 'trigger',
      dedup_key: 'org-a:5',
      payload: {
        summary: 'Alter audit: policy.rejected in org org-a, seq 5',
        source: 'alter',
        severity: 'error',
        timestamp: '2025-03-01T12:00:00.123Z',
        component: 'audit',
        group: 'org-a',
        class: 'policy.rejected',
        custom_details: JSON.parse(entries[1]!.event),
      },
    });
    expect(JSON.parse(requests[1]!.body).payload.severity).toBe('critical');
  });

  test('success is 202', () => {
    const request = format.requests(entries, NOW)[0]!;
    expect(format.check(response(202, '{"status":"success"}'), request)).toBeUndefined();
    expect(format.check(response(400, '{"status":"invalid event"}'), request)).toBe('HTTP 400: {"status":"invalid event"}');
  });
});

describe('Standard Webhooks', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

  test('signature matches the specification example', () => {
    expect(signWebhook(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  test('webhook-id is the batch id, webhook-timestamp the attempt time, body an audit.batch with chain hashes', () => {
    const format = createSinkFormat({ type: 'webhook', name: 'w', ...common, url: 'https://hooks.example/alter', secret });
    const [request] = format.requests(entries, NOW);
    const body = JSON.parse(request!.body);
    expect(body).toEqual({
      type: 'audit.batch',
      entries: entries.map((e) => ({ seq: e.seq, event: JSON.parse(e.event), prev_hash: e.prevHash, entry_hash: e.entryHash })),
    });
    expect(request!.headers).toEqual({
      'content-type': 'application/json',
      'webhook-id': 'org-a:4-5',
      'webhook-timestamp': '1740830405',
      'webhook-signature': signWebhook(secret, 'org-a:4-5', 1740830405, request!.body),
      'idempotency-key': 'org-a:4-5',
    });
    expect(format.check(response(204), request!)).toBeUndefined();
    expect(format.check(response(301, '', { location: 'https://elsewhere' }), request!)).toBe('HTTP 301');
  });
});
