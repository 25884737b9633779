import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { auditEvents } from '../helpers/audit.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { jsonOf, runCli } from './run-cli.ts';

let srv: TestServer;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  srv = await startTestServer({ profile: 'embedded' });
  dir = await mkdtemp(join(tmpdir(), 'alter-cli-secret-'));
  env = { ALTER_URL: srv.url, ALTER_ADMIN_KEY: srv.adminKey };
});
afterAll(async () => {
  await srv?.close();
  await rm(dir, { recursive: true, force: true });
});

test('alter secret create / list / show / rotate / delete never print a value', async () => {
  const file = join(dir, 'value.json');
  await writeFile(file, JSON.stringify({ key: 'VALUE_sk_abc123', header: 'X-Api-Key' }));
  const created = jsonOf<{ id: string; version: number; metadata: Record<string, unknown> }>(await runCli([
    'secret', 'create', '--name', 'openai', '--type', 'api_key', '--value-file', file, '--base-url', 'https://api.openai.com/v1', '--provider', 'openai', '--json',
  ], { env, cwd: dir }));
  expect(created.version).toBe(1);
  expect(created.metadata).toEqual({ header: 'X-Api-Key', provider: 'openai', base_urls: ['https://api.openai.com/v1'] });
  // a plain-http base URL is refused unless insecure provider URLs are allowed (development only)
  const insecure = await runCli(['secret', 'create', '--name', 'plain', '--type', 'api_key', '--value-file', file, '--base-url', 'http://api.example.com'], { env, cwd: dir });
  expect(insecure.code).toBe(1);
  expect(insecure.stderr).toContain('must be an https URL');
  const outputs = [
    await runCli(['secret', 'list'], { env }),
    await runCli(['secret', 'show', created.id], { env }),
  ];
  await writeFile(file, JSON.stringify({ key: 'VALUE_sk_rotated', header: 'X-Api-Key' }));
  outputs.push(await runCli(['secret', 'rotate', created.id, '--value-file', file], { env }));
  expect(outputs[2]!.stdout).toContain('version 2');
  for (const o of outputs) {
    expect(o.code).toBe(0);
    expect(o.stdout + o.stderr).not.toContain('VALUE_');
  }
  expect(outputs[1]!.stdout).toMatch(/header\s+X-Api-Key/);
  expect(outputs[1]!.stdout).toMatch(/base_urls\s+https:\/\/api\.openai\.com\/v1/);
  expect((await srv.app.secrets.resolve(srv.app.tenant, created.id)).value.key).toBe('VALUE_sk_rotated');
  const bad = await runCli(['secret', 'create', '--name', 'x', '--type', 'bearer', '--value-file', join(dir, 'missing.json')], { env });
  expect(bad.code).toBe(1);
  expect((await runCli(['secret', 'delete', created.id], { env })).stdout).toContain(`Deleted ${created.id}`);
});

test('alter keys rotate-kek --wait moves every record to the new KEK, audited', async () => {
  const file = join(dir, 'bearer.json');
  await writeFile(file, JSON.stringify({ token: 'VALUE_t' }));
  for (const name of ['a', 'b', 'c']) await runCli(['secret', 'create', '--name', name, '--type', 'bearer', '--value-file', file], { env });
  const result = jsonOf<{ kek_version: string; rewrapped: number; records_by_kek: Record<string, number> }>(await runCli(['keys', 'rotate-kek', '--wait', '--json'], { env }));
  expect(result.kek_version).toBe('alter:v2');
  expect(result.rewrapped).toBeGreaterThanOrEqual(3);
  expect(Object.keys(result.records_by_kek)).toEqual(['alter:v2']);
  expect((await auditEvents(srv, 'vault.kek_rotated')).at(-1)).toMatchObject({ previous: 'alter:v1', current: 'alter:v2', reason: 'manual' });
  for (const s of await srv.app.secrets.list(srv.app.tenant)) expect((await srv.app.secrets.resolve(srv.app.tenant, s.id)).value.token).toBe('VALUE_t');
});
