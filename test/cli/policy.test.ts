import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { jsonOf, runCli } from './run-cli.ts';

const POLICY = `version: 1
agent_classes:
  data-reader: {}
providers:
  github:
    resources: ["https://api.github.com"]
rules:
  - id: readers-never-write
    effect: downgrade
    agent_classes: [data-reader]
    scopes: ["*:write"]
    max_scope: ["*:read"]
  - id: office-hours
    effect: allow
    agent_classes: [data-reader]
    providers: [github]
    when:
      time: { days: [mon, tue, wed, thu, fri], start: "09:00", end: "18:00", timezone: Europe/Paris }
tests:
  - name: weekday morning in Paris
    request: { agent: { name: bot, class: data-reader }, provider: github, scopes: [repo:read], time: "2026-11-24T09:30:00+01:00" }
    expect: { effect: allow, rule: office-hours }
`;

let dir: string;
let good: string;
let srv: TestServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alter-cli-policy-'));
  good = join(dir, 'policy.yaml');
  await writeFile(good, POLICY);
  srv = await startTestServer({ profile: 'embedded', env: { ALTER_POLICY: good } });
});
afterAll(async () => {
  await srv?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('alter policy check', () => {
  test('a valid policy: exit 0, revision, tests pass', async () => {
    const res = await runCli(['policy', 'check', good]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/valid \(revision [0-9a-f]{12}, providers: github\); embedded tests pass/);
    expect(jsonOf(await runCli(['policy', 'check', good, '--json']))).toMatchObject({ valid: true, providers: ['github'] });
  });

  test('a broken policy: exit 1, every problem with file and line', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, POLICY.replace('effect: downgrade', 'effect: permit').replace('timezone: Europe/Paris', 'timezone: Europe/Pariss'));
    const res = await runCli(['policy', 'check', bad]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(`${bad}:9:`);
    expect(res.stdout).toMatch(/effect/);
    expect(res.stdout).toMatch(/Europe\/Pariss/);
    const json = JSON.parse((await runCli(['policy', 'check', bad, '--json'])).stdout) as { valid: boolean; issues: Array<{ line?: number }> };
    expect(json.valid).toBe(false);
    expect(json.issues.map((i) => i.line)).toContain(9);
  });

  test('a failing embedded test rejects the policy', async () => {
    const failing = join(dir, 'failing.yaml');
    await writeFile(failing, POLICY.replace('expect: { effect: allow, rule: office-hours }', 'expect: { effect: deny }'));
    const res = await runCli(['policy', 'check', failing]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/weekday morning in Paris/);
  });

  test('a missing file is a clear error', async () => {
    const res = await runCli(['policy', 'check', join(dir, 'nope.yaml')]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/cannot read .*nope\.yaml: no such file/);
  });
});

describe('alter policy explain', () => {
  const request = ['--agent', 'bot', '--class', 'data-reader', '--provider', 'https://api.github.com', '--scope', 'repo:write'];

  test('locally (--file): the decision and every rule with why', async () => {
    const res = await runCli(['policy', 'explain', '--file', good, ...request, '--at', '2026-11-24T10:00:00+01:00']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/decision\s+downgrade/);
    expect(res.stdout).toMatch(/scopes\s+repo:read/);
    expect(res.stdout).toMatch(/rule\s+readers-never-write/);
    expect(res.stdout).toMatch(/readers-never-write\s+downgrade\s+yes/);
    expect(res.stdout).toMatch(/office-hours\s+allow\s+yes/);
  });

  test('outside the time window the allow rule does not match', async () => {
    const at = ['--at', '2026-11-28T22:00:00Z', '--scope', 'repo:read'];
    const result = jsonOf<{ decision: { effect: string; ruleId: string }; rules: Array<{ id: string; matched: boolean; reason: string }> }>(
      await runCli(['policy', 'explain', '--file', good, '--agent', 'bot', '--class', 'data-reader', '--provider', 'github', ...at, '--json']),
    );
    expect(result.decision).toMatchObject({ effect: 'deny', ruleId: 'default-deny' });
    expect(result.rules.find((r) => r.id === 'office-hours')).toMatchObject({ matched: false });
  });

  test('against the running server (admin API) it gives the same answer', async () => {
    const env = { ALTER_URL: srv.url, ALTER_ADMIN_KEY: srv.adminKey };
    const at = ['--at', '2026-11-24T10:00:00+01:00'];
    const remote = jsonOf(await runCli(['policy', 'explain', ...request, ...at, '--json'], { env }));
    const local = jsonOf(await runCli(['policy', 'explain', '--file', good, ...request, ...at, '--json']));
    expect(remote).toEqual(local);
  });

  test('bad input: missing options, unknown provider, bad time', async () => {
    expect((await runCli(['policy', 'explain', '--file', good, '--class', 'x', '--provider', 'github', '--scope', 'a'])).stderr).toMatch(/--agent is required/);
    const unknown = await runCli(['policy', 'explain', '--file', good, '--agent', 'bot', '--class', 'x', '--provider', 'gitlab', '--scope', 'a']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/provider "gitlab" is not declared by the policy \(known: github\)/);
    const time = await runCli(['policy', 'explain', '--file', good, ...request, '--at', 'yesterday']);
    expect(time.code).toBe(2);
    expect(time.stderr).toMatch(/--at/);
  });
});
