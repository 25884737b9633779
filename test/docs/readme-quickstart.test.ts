import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

/** The shell blocks of one README section, in order. */
async function shellBlocks(section: string): Promise<string> {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf(`## ${section}`);
  const end = readme.indexOf('\n## ', start + 1);
  const body = readme.slice(start, end === -1 ? undefined : end);
  return [...body.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
}

let srv: TestServer;
let cwd: string;
beforeAll(async () => {
  srv = await startTestServer({ profile: 'embedded' });
  cwd = await mkdtemp(join(tmpdir(), 'alter-readme-'));
});
afterAll(async () => {
  await srv?.close();
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

/** Runs a README section's shell blocks against the test server, as a reader would. */
async function runSection(section: string): Promise<string> {
  const script = (await shellBlocks(section))
    .replaceAll('http://localhost:8080', srv.url)
    .replaceAll('npx alter', `"${process.execPath}" "${join(root, 'src/cli/main.ts')}"`);
  try {
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], {
      cwd,
      env: { ...process.env, ALTER_URL: srv.url, ALTER_ADMIN_KEY: srv.adminKey },
      timeout: 60_000,
    });
    return stdout;
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`the "${section}" section failed:\n--- stdout\n${stdout}\n--- stderr\n${stderr}`, { cause: err });
  }
}

test('the README quick start runs as written and ends with a revoked token', async () => {
  expect(await shellBlocks('Get a token in a minute')).toContain('agent create');
  const stdout = await runSection('Get a token in a minute');
  expect(stdout).toContain('client_id');
  expect(stdout).toMatch(/"access_token":"eyJ/);
  expect(stdout).toContain('"active":true');
  expect(stdout.trim().endsWith('{"active":false}')).toBe(true);
});

test('the README token exchange example runs as written (default policy)', async () => {
  const stdout = await runSection('Token exchange and policy');
  expect(stdout).toMatch(/decision\s+downgrade/);
  expect(stdout).toMatch(/scopes\s+calendar:read/);
  const response = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  expect(response).toMatchObject({ issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: 3600 });
  expect(response).not.toHaveProperty('scope');
});

test('the README audit example runs as written and the exported bundle verifies offline', async () => {
  const stdout = await runSection('Audit log');
  expect(stdout).toMatch(/token\.issued/);
  expect(stdout).toMatch(/OK — \d+ entries/);
  expect(stdout).not.toMatch(/TAMPERED/);
});

test('the README secrets example runs as written and prints no value', async () => {
  const stdout = await runSection('Secrets');
  expect(stdout).toMatch(/Stored sec_/);
  expect(stdout).toMatch(/crm\s+bearer/);
  expect(stdout).not.toContain('example-token-value');
});
