import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadExportersConfig, parseExportersConfig } from '../../../src/audit/exporters/exporter-config.ts';
import { ExportersConfigInvalid } from '../../../src/audit/exporters/exporters-invalid.ts';

const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** The error thrown by parsing `text`, or a failure. */
function rejection(text: string, env: Record<string, string> = {}): ExportersConfigInvalid {
  try {
    parseExportersConfig(text, 'exporters.yaml', env);
  } catch (error) {
    expect(error).toBeInstanceOf(ExportersConfigInvalid);
    return error as ExportersConfigInvalid;
  }
  throw new Error('expected ERR_EXPORTERS_INVALID');
}

describe('exporters file', () => {
  test('every sink type, with defaults filled in', () => {
    const text = `exporters:
  - name: splunk-prod
    type: splunk
    url: https://splunk.example.com:8088/services/collector/event
    token: \${SPLUNK_HEC_TOKEN}
    types: ["policy.*", "token.*"]
  - name: dd
    type: datadog
    api_key: \${DD_API_KEY}
    site: datadoghq.eu
    tags: [env:prod]
  - name: es
    type: elastic
    url: https://es.internal:9200/_bulk
    index: alter-audit
    api_key: \${ES_API_KEY}
    batch_size: 500
    max_attempts: 20
  - name: pd
    type: pagerduty
    routing_key: \${PD_ROUTING_KEY}
  - name: hook
    type: webhook
    url: http://collector.internal/alter
    allow_http: true
    secret: ${WHSEC}
`;
    const env = { SPLUNK_HEC_TOKEN: 'hec-token-value', DD_API_KEY: 'dd-key-value', ES_API_KEY: 'es-key-value', PD_ROUTING_KEY: 'pd-key-value' };
    expect(parseExportersConfig(text, 'exporters.yaml', env)).toEqual([
      { type: 'splunk', name: 'splunk-prod', batchSize: 100, maxAttempts: 8, types: ['policy.*', 'token.*'], url: 'https://splunk.example.com:8088/services/collector/event', token: 'hec-token-value' },
      { type: 'datadog', name: 'dd', batchSize: 100, maxAttempts: 8, url: 'https://http-intake.logs.datadoghq.eu/api/v2/logs', apiKey: 'dd-key-value', service: 'alter', source: 'alter', tags: ['env:prod'] },
      { type: 'elastic', name: 'es', batchSize: 500, maxAttempts: 20, url: 'https://es.internal:9200/_bulk', index: 'alter-audit', auth: { kind: 'api_key', apiKey: 'es-key-value' } },
      {
        type: 'pagerduty', name: 'pd', batchSize: 1, maxAttempts: 8, url: 'https://events.pagerduty.com/v2/enqueue', routingKey: 'pd-key-value',
        triggers: ['audit.tamper_detected', 'policy.rejected', 'revocation.*'],
      },
      { type: 'webhook', name: 'hook', batchSize: 100, maxAttempts: 8, url: 'http://collector.internal/alter', secret: WHSEC },
    ]);
  });

  test('an empty list is allowed; Datadog defaults to the US1 site', () => {
    expect(parseExportersConfig('exporters: []\n', 'x.yaml')).toEqual([]);
    expect(parseExportersConfig('exporters:\n  - {name: d, type: datadog, api_key: k}\n', 'x.yaml')[0]).toMatchObject({ url: 'https://http-intake.logs.datadoghq.com/api/v2/logs' });
  });

  test('problems are reported together, each with file, line and column, with the stable code', () => {
    const error = rejection(`exporters:
  - name: Splunk Prod
    type: splunk
    url: https://splunk.example.com/services/collector/event
    token: abc123456
    batch_size: 0
  - name: dd
    type: datadogg
  - name: es
    type: elastic
    url: http://es.example.com/_bulk
    index: alter
    username: alter
    extra: 1
  - name: es
    type: webhook
    url: https://x.example/hook
    secret: whsec_short
  - type: pagerduty
    routing_key: abcd
    max_attempts: "3"
`);
    expect(error.code).toBe('ERR_EXPORTERS_INVALID');
    expect(error.file).toBe('exporters.yaml');
    expect(error.message).toBe(`audit exporters file exporters.yaml rejected: 10 problems
exporters.yaml:2:11: exporters[0].name: must start with a-z or 0-9 and hold only a-z, 0-9, ".", "_" and "-"
exporters.yaml:6:17: exporters[0].batch_size: must be at least 1
exporters.yaml:8:11: exporters[1].type: must be one of splunk, datadog, elastic, pagerduty, webhook
exporters.yaml:9:5: exporters[2].password: is required with username
exporters.yaml:11:10: exporters[2].url: must use https (set allow_http: true to send credentials over plain HTTP)
exporters.yaml:14:5: exporters[2].extra: unknown key "extra"
exporters.yaml:15:11: exporters[3].name: "es" is already the name of another exporter: names must be unique
exporters.yaml:18:13: exporters[3].secret: must be "whsec_" followed by a base64 key of 24 to 64 bytes
exporters.yaml:19:5: exporters[4].name: is required
exporters.yaml:21:19: exporters[4].max_attempts: must be a whole number`);
    expect(error.issues[0]).toEqual({ file: 'exporters.yaml', line: 2, column: 11, path: 'exporters[0].name', message: 'must start with a-z or 0-9 and hold only a-z, 0-9, ".", "_" and "-"' });
  });

  test('YAML syntax errors and a file that is not a mapping', () => {
    expect(rejection('exporters:\n  - name: a\n   type: [\n').message).toMatch(/^audit exporters file exporters\.yaml rejected: \d+ problems?\nexporters\.yaml:3:\d+: YAML: /);
    expect(rejection('- a\n').message).toBe('audit exporters file exporters.yaml rejected: 1 problem\nexporters.yaml:1:1: must be a mapping with an "exporters" list');
    expect(rejection('').message).toContain('exporters.yaml:1:1: must be a mapping with an "exporters" list');
    expect(rejection('exporter: []\n').message).toContain('exporters.yaml:1:1: exporters: is required');
  });

  test('${VAR} is replaced from the environment; a missing one is an error naming it, once', () => {
    const text = 'exporters:\n  - name: s\n    type: splunk\n    url: https://${SPLUNK_HOST}:8088/services/collector/event\n    token: ${SPLUNK_HEC_TOKEN}\n    index: $${literal}\n';
    expect(parseExportersConfig(text, 'x.yaml', { SPLUNK_HOST: 'splunk.example.com', SPLUNK_HEC_TOKEN: 't0ken-value' })[0]).toMatchObject({
      url: 'https://splunk.example.com:8088/services/collector/event',
      token: 't0ken-value',
      index: '${literal}',
    });
    const error = rejection(text, { SPLUNK_HOST: 'splunk.example.com' });
    expect(error.message).toBe('audit exporters file exporters.yaml rejected: 1 problem\nexporters.yaml:5:12: exporters[0].token: environment variable SPLUNK_HEC_TOKEN is not set');
    expect(rejection(text.replace('${SPLUNK_HOST}', '${SPLUNK-HOST}'), { SPLUNK_HEC_TOKEN: 'x' }).message).toContain(
      'exporters.yaml:4:10: exporters[0].url: "${SPLUNK-HOST}" is not a variable reference',
    );
  });

  test('secrets and substituted values never appear in the errors', () => {
    const env = { HOOK_SECRET: 'whsec_dG9vLXNob3J0LXNlY3JldC12YWx1ZQ', HOOK_URL: 'ftp://hooks.example/s3cr3t-path-token', TOKEN: 'super-secret-token-1' };
    const error = rejection(`exporters:
  - name: hook
    type: webhook
    url: \${HOOK_URL}
    secret: \${HOOK_SECRET}
  - name: s
    type: splunk
    url: https://splunk.example.com/services/collector/event?token=\${TOKEN}#\${TOKEN}
    token: \${TOKEN}
    index: ""
  - name: e
    type: elastic
    url: https://es/_bulk
    index: a
    api_key: literal-api-key-1
    password: literal-password-1
`, env);
    expect(error.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'exporters[0].url: must be an https:// URL',
      'exporters[0].secret: must be "whsec_" followed by a base64 key of 24 to 64 bytes',
      'exporters[1].url: must not have a fragment',
      'exporters[1].index: must not be empty',
      'exporters[2].api_key: must not be set with username and password (set one or the other)',
    ]);
    for (const value of [...Object.values(env), 'dG9vLXNob3J0LXNlY3JldC12YWx1ZQ', 's3cr3t-path-token', 'literal-api-key-1', 'literal-password-1']) {
      expect(error.message).not.toContain(value);
    }
  });

  test('URLs: absolute, http(s), no credentials; plain http only to the loopback or with allow_http', () => {
    const hook = (url: string, extra = '') => `exporters:\n  - name: h\n    type: webhook\n    url: "${url}"\n    secret: ${WHSEC}\n${extra}`;
    expect(parseExportersConfig(hook('http://127.0.0.1:9000/hook'), 'x.yaml')[0]).toMatchObject({ url: 'http://127.0.0.1:9000/hook' });
    expect(parseExportersConfig(hook('http://localhost/hook'), 'x.yaml')).toHaveLength(1);
    expect(rejection(hook('/relative')).issues.map((i) => i.message)).toEqual(['must be an absolute URL']);
    expect(rejection(hook('https://user:pw@hooks.example/')).issues.map((i) => i.message)).toEqual(['must not hold a user name or password (use the credential fields)']);
    expect(rejection(hook('http://hooks.example/')).issues.map((i) => i.message)).toEqual(['must use https (set allow_http: true to send credentials over plain HTTP)']);
    expect(rejection(`exporters:\n  - {name: d, type: datadog, api_key: k, site: datadoghq.eu, url: "https://x/api/v2/logs"}\n`).issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'exporters[0].url: must not be set with site (set one of them)',
    ]);
  });

  test('batch limits per sink: Datadog takes at most 1000 logs per request', () => {
    expect(rejection('exporters:\n  - {name: d, type: datadog, api_key: k, batch_size: 1001}\n').issues.map((i) => i.message)).toEqual(['must be at most 1000']);
  });

  test('loadExportersConfig reads the file; an unreadable file is the same error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'alter-exporters-'));
    try {
      const path = join(dir, 'exporters.yaml');
      await writeFile(path, `exporters:\n  - name: h\n    type: webhook\n    url: https://hooks.example/alter\n    secret: \${HOOK_SECRET}\n`);
      expect(await loadExportersConfig(path, { HOOK_SECRET: WHSEC })).toEqual([
        { type: 'webhook', name: 'h', batchSize: 100, maxAttempts: 8, url: 'https://hooks.example/alter', secret: WHSEC },
      ]);
      await expect(loadExportersConfig(join(dir, 'missing.yaml'), {})).rejects.toMatchObject({
        code: 'ERR_EXPORTERS_INVALID',
        message: expect.stringContaining('missing.yaml:1:1: cannot read the file: ENOENT'),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
