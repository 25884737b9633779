import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

let srv: TestServer;
let build: string;
/** The compiled bin, at the same place relative to the package root as `dist/src/cli/main.js`. */
let bin: string;

/**
 * Compiles the CLI (and only what it imports) with the project's compiler options into a scratch
 * package laid out like `dist/`, so the test neither depends on nor disturbs `npm run build`.
 */
async function buildCli(): Promise<void> {
  build = await mkdtemp(join(tmpdir(), 'alter-cli-bin-'));
  await writeFile(
    join(build, 'tsconfig.json'),
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.json'),
      compilerOptions: { noEmit: false, outDir: join(build, 'dist'), rootDir: ROOT, sourceMap: false, incremental: false },
      include: [],
      files: [join(ROOT, 'src/cli/main.ts')],
    }),
  );
  await cp(join(ROOT, 'package.json'), join(build, 'package.json'));
  await symlink(join(ROOT, 'node_modules'), join(build, 'node_modules'), 'dir');
  // tsc still emits when files it pulls in have type errors; the type check is `npm run typecheck`.
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(build, 'tsconfig.json')]).catch(() => {});
  bin = join(build, 'dist/src/cli/main.js');
  await stat(bin);
}

/** Runs the built `alter` as a real process; resolves with its exit code and output. */
async function alter(args: string[], env: Record<string, string>, cwd = build) {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, cwd });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  [srv] = await Promise.all([startTestServer({ profile: 'embedded' }), buildCli()]);
});
afterAll(async () => {
  await srv?.close();
  if (build) await rm(build, { recursive: true, force: true });
});

describe('the alter bin as a real process', () => {
  test('starts with a shebang and prints its version', async () => {
    expect((await readFile(bin, 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
    expect(await alter(['--version'], {})).toEqual({ code: 0, stdout: `alter ${version}\n`, stderr: '' });
  });

  test('creates an agent from ALTER_URL / ALTER_ADMIN_KEY and gets a token with the key file', async () => {
    const env = { ALTER_URL: srv.url, ALTER_ADMIN_KEY: srv.adminKey };
    const created = await alter(['agent', 'create', '--name', 'bin-bot', '--class', 'data-reader', '--scope', 'repo:read', '--json'], env);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const agent = JSON.parse(created.stdout) as { client_id: string; key_file: string };
    expect(agent.key_file).toBe(join(build, 'bin-bot.jwk.json'));
    expect((await stat(agent.key_file)).mode & 0o777).toBe(0o600);

    const token = await alter(['token', '--key', './bin-bot.jwk.json', '--scope', 'repo:read', '-q'], {});
    expect(token.code).toBe(0);
    expect(decodeJwt(token.stdout.trim())).toMatchObject({ sub: agent.client_id, scope: 'repo:read', aud: srv.url });
  });

  test('exit codes: 1 for a refused admin key, 2 for a usage error', async () => {
    const refused = await alter(['keys', 'list'], { ALTER_URL: srv.url, ALTER_ADMIN_KEY: 'wrong' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error: the admin key is not valid (invalid_token)');
    const usage = await alter(['keys', 'list', '--nope'], { ALTER_URL: srv.url, ALTER_ADMIN_KEY: srv.adminKey });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('error: unknown option --nope');
  });
});
