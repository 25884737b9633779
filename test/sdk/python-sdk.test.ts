// The Python SDK's own tests (sdk/python/tests), run against a running Alter node, the upstream
// OAuth server and the API stub prepared here: `npm test` (and so CI) runs them for real.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSdkFixture, type SdkFixture } from './sdk-fixture.ts';

const PYTHON = process.env.ALTER_TEST_PYTHON ?? 'python3';
const SDK_DIR = join(import.meta.dirname, '..', '..', 'sdk', 'python');

let fx: SdkFixture;

beforeAll(async () => {
  fx = await startSdkFixture();
});

afterAll(async () => {
  await fx?.close();
});

function runUnittest(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-m', 'unittest', 'discover', '-s', 'tests', '-v'], {
      cwd: SDK_DIR, env: { ...process.env, ...env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

it('passes its unit and integration tests against a running server', async () => {
  const { code, output } = await runUnittest(fx.env());
  expect(code, output).toBe(0);
  // the integration tests ran (they skip without ALTER_BASE_URL)
  const integration = output.split('\n').filter((line) => line.includes('test_integration'));
  expect(integration.length, output).toBeGreaterThanOrEqual(8);
  expect(integration.filter((line) => !/\.\.\. ok$/.test(line)), output).toEqual([]);
}, 300_000);
