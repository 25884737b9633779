import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { oidcProviderYaml, runFlow, UPSTREAM_CLIENT, writeProviders } from '../helpers/connect.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startOidcUpstream, type OidcUpstream } from '../helpers/upstream/oidc-upstream.ts';
import { jsonOf, runCli, type CliResult } from './run-cli.ts';

let srv: TestServer;
let upstream: OidcUpstream;
let dir: string;
let providersDir: string;
/** ALTER_URL and ALTER_ADMIN_KEY of the test server. */
let env: Record<string, string>;
/** An app key made by `alter app-key create`. */
let appKey: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alter-cli-providers-'));
  providersDir = join(dir, 'providers');
  srv = await startTestServer({
    profile: 'embedded',
    async prepare(url) {
      upstream = await startOidcUpstream({ clients: [{ ...UPSTREAM_CLIENT, redirectUris: [`${url}/connect/callback`] }], scopes: ['calendar.read', 'calendar.write'] });
      await writeProviders(providersDir, { acme: oidcProviderYaml(upstream) });
      return { ALTER_PROVIDERS_DIR: providersDir, ALTER_ALLOW_INSECURE_PROVIDER_URLS: 'true' };
    },
  });
  env = { ALTER_URL: srv.url, ALTER_ADMIN_KEY: srv.adminKey };
});
afterAll(async () => {
  await srv?.close();
  await upstream?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The app's configuration of a provider, as the admin API shows it. */
async function configuration(name: string): Promise<Record<string, unknown> | undefined> {
  const res = await request(srv.url).get(`/v1/admin/providers/${name}`).set('Authorization', `Bearer ${srv.adminKey}`);
  expect(res.status, res.text).toBe(200);
  return res.body.configuration as Record<string, unknown> | undefined;
}

describe('alter providers list', () => {
  test('lists the built-in catalog and the custom providers directory, without a server', async () => {
    const listed = jsonOf<{ providers: Array<{ name: string; refresh: boolean; pkce: boolean; verified: boolean }> }>(
      await runCli(['providers', 'list', '--providers-dir', providersDir, '--json']),
    );
    const names = listed.providers.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['acme', 'github', 'slack']));
    expect(names).toEqual([...names].sort());
    expect(listed.providers.find((p) => p.name === 'acme')).toMatchObject({ refresh: true, pkce: true, verified: false });
    // ALTER_PROVIDERS_DIR is the default for --providers-dir.
    const table = await runCli(['providers', 'list'], { env: { ALTER_PROVIDERS_DIR: providersDir } });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^NAME\s+PROVIDER\s+CATEGORIES\s+REFRESH\s+PKCE\s+VERIFIED$/m);
    expect(table.stdout).toMatch(/^acme\s+Acme Calendar \(test upstream\)\s+test\s+yes\s+yes\s+no$/m);
  });

  test('a bad custom provider file: exit 1 with the file and line', async () => {
    const bad = join(dir, 'bad-providers');
    await writeProviders(bad, { acme: oidcProviderYaml(upstream).replace('pkce: true', 'pkce: maybe') });
    const res = await runCli(['providers', 'list', '--providers-dir', bad]);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr.split('\n')).toEqual([
      'error: provider catalog rejected: 1 problem',
      expect.stringMatching(new RegExp(`^${join(bad, 'acme.yaml')}:\\d+:\\d+: oauth\\.pkce: pkce must be true or false \\(got "maybe"\\)$`)),
      '',
    ]);
  });
});

describe('alter providers configure', () => {
  test('stores the client ID, scopes and (in the vault) the secret; prints the redirect URI, never the secret', async () => {
    const secretFile = join(dir, 'acme.secret');
    await writeFile(secretFile, `${UPSTREAM_CLIENT.clientSecret}\n`);
    const res = await runCli(['providers', 'configure', 'acme', '--client-id', UPSTREAM_CLIENT.clientId, '--client-secret-file', 'acme.secret', '--scope', 'calendar:read', '--scope', 'calendar:write'], { env, cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(`Configured acme. Register this redirect URI at the provider: ${srv.url}/connect/callback\n`);
    expect(res.stdout + res.stderr).not.toContain(UPSTREAM_CLIENT.clientSecret);
    expect(await configuration('acme')).toMatchObject({ client_id: UPSTREAM_CLIENT.clientId, client_secret_set: true, scopes: ['calendar:read', 'calendar:write'] });

    const listed = jsonOf<{ providers: Array<{ name: string; configured: boolean }> }>(await runCli(['providers', 'list', '--configured', '--json'], { env }));
    expect(listed.providers.map((p) => [p.name, p.configured])).toEqual([['acme', true]]);
  });

  test('--json prints the stored configuration', async () => {
    const body = jsonOf(await runCli(['providers', 'configure', 'acme', '--client-id', UPSTREAM_CLIENT.clientId, '--scope', 'calendar:read calendar:write', '--json'], { env }));
    expect(body).toMatchObject({ provider: 'acme', client_id: UPSTREAM_CLIENT.clientId, client_secret_set: true, redirect_uri: `${srv.url}/connect/callback` });
  });

  test('bad input: usage errors (exit 2) before any request, server refusals (exit 1); nothing changes', async () => {
    const before = await configuration('acme');
    const expectFailure = (res: CliResult, code: number, message: RegExp) => {
      expect(res.code, res.stderr).toBe(code);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(message);
    };
    expectFailure(await runCli(['providers', 'configure', 'acme'], { env }), 2, /^error: --client-id is required$/m);
    expectFailure(await runCli(['providers', 'configure', 'acme', '--client-id', 'x', '--param', 'novalue'], { env }), 2, /^error: --param novalue: expected NAME=VALUE$/m);
    expectFailure(await runCli(['providers', 'configure', 'acme', '--client-id', 'x', '--client-secret-file', 'missing.secret'], { env, cwd: dir }), 1, /^error: cannot read missing\.secret: no such file$/m);
    expectFailure(await runCli(['providers', 'configure', 'nope', '--client-id', 'x'], { env }), 1, /^error: unknown provider "nope".*\(not_found\)$/m);
    expectFailure(await runCli(['providers', 'configure', 'acme', '--client-id', 'x', '--scope', 'calendar:delete'], { env }), 1, /^error: scopes: acme has no permission calendar:delete .*\(invalid_request\)$/m);
    expectFailure(await runCli(['providers', 'configure', 'acme', '--client-id', 'x', '--param', 'region=eu'], { env }), 1, /^error: params: acme has no template region .*\(invalid_request\)$/m);
    expect(await configuration('acme')).toEqual(before);
  });
});

describe('alter app-key create', () => {
  test('prints the new key once; the key authenticates the app', async () => {
    const res = await runCli(['app-key', 'create', '--name', 'backend'], { env });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^alter_key_\S+\n$/);
    appKey = res.stdout.trim();
    const keys = await request(srv.url).get('/v1/admin/app-keys').set('Authorization', `Bearer ${srv.adminKey}`);
    expect(keys.body.keys.map((k: { name: string }) => k.name)).toContain('backend');
    const session = await request(srv.url).post('/v1/connect/sessions').set('Authorization', `Bearer ${appKey}`).send({ end_user_id: 'probe' });
    expect(session.status, session.text).toBe(201);

    const json = jsonOf<{ id: string; name: string; key: string }>(await runCli(['app-key', 'create', '--name', 'sdk', '--json'], { env }));
    expect(json).toMatchObject({ name: 'sdk', id: expect.stringMatching(/^akey_/), key: expect.stringMatching(/^alter_key_/) });
    expect(json.key).not.toBe(appKey);
  });

  test('needs --name (exit 2) and the admin key (exit 1)', async () => {
    const noName = await runCli(['app-key', 'create'], { env });
    expect(noName.code).toBe(2);
    expect(noName.stderr).toMatch(/^error: --name is required$/m);
    const refused = await runCli(['app-key', 'create', '--name', 'x'], { env: { ALTER_URL: srv.url, ALTER_ADMIN_KEY: 'not-the-admin-key' } });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^hint: the admin key from ALTER_ADMIN_KEY was refused/m);
  });
});

describe('alter connect', () => {
  /** Runs `alter connect --no-browser` and hands over the link it prints while it waits. */
  function startConnect(args: string[], extraEnv: Record<string, string> = {}): { link: Promise<string>; done: Promise<CliResult> } {
    let found: (url: string) => void = () => {};
    const link = new Promise<string>((resolve) => (found = resolve));
    const done = runCli(['connect', '--no-browser', ...args], {
      env: { ALTER_URL: srv.url, ALTER_APP_KEY: appKey, ...extraEnv },
      onStderr: (chunk) => {
        const url = /https?:\/\/\S+/.exec(chunk)?.[0];
        if (url) found(url);
      },
    });
    // A run that ends without printing a link settles the link with its output, for the message.
    void done.then((res) => found(`(no link) ${res.stderr}`));
    return { link, done };
  }

  test('--no-browser prints a headless link; once the end user connects it prints the connection ID', async () => {
    const { link, done } = startConnect(['--end-user', 'dana', '--provider', 'acme']);
    const url = new URL(await link);
    expect(url.origin + url.pathname).toBe(`${srv.url}/connect`);
    expect(url.searchParams.get('mode')).toBe('headless');
    // The picker page carries the headless mode on to the authorization it starts.
    const page = await request(srv.url).get(`${url.pathname}${url.search}`);
    expect(page.text).toContain('<input type="hidden" name="mode" value="headless">');
    const callback = await runFlow(srv, url.href, 'acme', 'headless');
    expect(callback.text).toContain('go back to your terminal');

    const res = await done;
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain(`Open this link to connect:\n  ${url.href}\n`);
    const connectionId = res.stdout.trim();
    expect(connectionId).toMatch(/^con_/);
    const connections = await request(srv.url).get('/v1/admin/connections').query({ end_user_id: 'dana' }).set('Authorization', `Bearer ${srv.adminKey}`);
    expect(connections.body.connections.map((c: { id: string; provider: string }) => [c.id, c.provider])).toEqual([[connectionId, 'acme']]);
  });

  test('a failed Connect (the end user denies): exit 1 with the upstream error', async () => {
    const { link, done } = startConnect(['--end-user', 'erin', '--provider', 'acme', '--json']);
    const url = await link;
    upstream.setNextDecision({ approve: false });
    await runFlow(srv, url, 'acme', 'headless');
    const res = await done;
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^error: Connect failed: access_denied: /m);
  });

  test('gives up at --timeout with exit 1', async () => {
    const { link, done } = startConnect(['--end-user', 'frank', '--timeout', '0']);
    expect(await link).toMatch(/^http/);
    const res = await done;
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error: timed out waiting for the end user to connect$/m);
  });

  test('error paths: no app key or a bad --timeout (exit 2, no session), a refused app key or unknown provider (exit 1)', async () => {
    const noKey = await runCli(['connect', '--end-user', 'x', '--no-browser'], { env: { ALTER_URL: srv.url } });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/^error: an app API key is required: --app-key or ALTER_APP_KEY/m);
    const badTimeout = await runCli(['connect', '--end-user', 'x', '--no-browser', '--timeout', 'soon'], { env: { ALTER_URL: srv.url, ALTER_APP_KEY: appKey } });
    expect(badTimeout.code).toBe(2);
    expect(badTimeout.stderr).toMatch(/^error: --timeout: expected a whole number of seconds, got "soon"$/m);
    const noUser = await runCli(['connect', '--no-browser'], { env: { ALTER_URL: srv.url, ALTER_APP_KEY: appKey } });
    expect(noUser.code).toBe(2);
    expect(noUser.stderr).toMatch(/^error: --end-user is required$/m);
    for (const res of [noKey, badTimeout, noUser]) expect(res.stderr).not.toContain('Open this link');

    const refused = await runCli(['connect', '--end-user', 'x', '--no-browser', '--app-key', 'alter_key_not-a-real-key'], { env: { ALTER_URL: srv.url } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: .*\(invalid_token\)$/m);
    const unknown = await runCli(['connect', '--end-user', 'x', '--no-browser', '--provider', 'nope'], { env: { ALTER_URL: srv.url, ALTER_APP_KEY: appKey } });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: .*"nope".*\(not_found\)$/m);
    expect(unknown.stderr).not.toContain('Open this link');
  });
});
