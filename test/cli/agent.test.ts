import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLIENT_ASSERTION_TYPE } from '../../src/exchange/token-types.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { jsonOf, runCli } from './run-cli.ts';

let srv: TestServer;
let dir: string;
let jwksServer: Server | undefined;
/** ALTER_URL and ALTER_ADMIN_KEY of the test server. */
let env: Record<string, string>;

beforeAll(async () => {
  srv = await startTestServer({ profile: 'embedded', env: { ALTER_ALLOW_INSECURE_JWKS_URI: 'true' } });
  dir = await mkdtemp(join(tmpdir(), 'alter-cli-'));
  env = { ALTER_URL: srv.url, ALTER_ADMIN_KEY: srv.adminKey };
});
afterAll(async () => {
  jwksServer?.closeAllConnections();
  await new Promise<void>((resolve) => (jwksServer ? jwksServer.close(() => resolve()) : resolve()));
  await srv?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function agentNames(): Promise<string[]> {
  const { agents } = jsonOf<{ agents: Array<{ name: string }> }>(await runCli(['agent', 'list', '--all', '--json'], { env }));
  return agents.map((a) => a.name);
}

/** A key pair made outside the CLI: the public JWKS to register and the private JWK. */
async function ownKeyPair() {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub);
  return { jwks: { keys: [{ ...pub, kid, alg: 'EdDSA', use: 'sig' }] }, privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA' } };
}

let jwksUri: string | undefined;
let jwksUriPrivateFile: string;

/** Serves a fresh public JWKS from a local HTTP server (once); returns its URL. */
async function serveJwks(): Promise<string> {
  if (jwksUri) return jwksUri;
  const { jwks, privateJwk } = await ownKeyPair();
  jwksUriPrivateFile = join(dir, 'uri-private.jwk.json');
  await writeFile(jwksUriPrivateFile, JSON.stringify(privateJwk));
  jwksServer = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => jwksServer!.listen(0, '127.0.0.1', resolve));
  jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
  return jwksUri;
}

describe('alter agent create with a generated key', () => {
  test('writes the private key (0600, with client_id and issuer); token and assertion then work', async () => {
    const keyFile = join(dir, 'reader.jwk.json');
    const created = jsonOf<Record<string, unknown> & { client_id: string; key_file: string; jwks: { keys: Array<Record<string, unknown>> } }>(
      await runCli(['agent', 'create', '--name', 'reader', '--class', 'data-reader', '--scope', 'repo:read', '--scope', 'calendar:read', '--key-out', keyFile, '--json'], { env }),
    );
    expect(created).toMatchObject({ name: 'reader', class: 'data-reader', status: 'active', scopes: ['repo:read', 'calendar:read'], key_file: keyFile });
    expect(created.client_id).toMatch(/^agt_/);

    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const jwk = JSON.parse(await readFile(keyFile, 'utf8'));
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', client_id: created.client_id, issuer: srv.url });
    expect(typeof jwk.d).toBe('string');
    expect(jwk.kid).toBe(await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }));
    // Only the public key was registered.
    expect(created.jwks.keys).toEqual([{ kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: jwk.kid, alg: 'EdDSA', use: 'sig' }]);

    // No ALTER_URL: the key file alone says where the server is.
    const token = jsonOf<{ access_token: string; token_type: string; expires_in: number; scope: string }>(
      await runCli(['token', '--key', keyFile, '--scope', 'repo:read', '--json']),
    );
    expect(token).toMatchObject({ token_type: 'Bearer', scope: 'repo:read' });
    expect(decodeJwt(token.access_token)).toMatchObject({ sub: created.client_id, client_id: created.client_id, iss: srv.url, aud: srv.url });

    const human = await runCli(['token', '--key', keyFile, '--scope', 'repo:read calendar:read']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^access_token {2}ey[\w-]+\.[\w-]+\.[\w-]+$/m);
    expect(human.stdout).toMatch(/^expires_in {4}\d+ \(\d+h\)$/m);
    expect(human.stdout).toMatch(/^scope {9}repo:read calendar:read$/m);
    const quiet = await runCli(['token', '-q', '--key', keyFile]);
    expect(quiet.stdout.trim().split('.')).toHaveLength(3);

    // `alter assertion` prints just the JWT, usable by any HTTP client.
    const assertion = await runCli(['assertion', '--key', keyFile]);
    expect(assertion.code).toBe(0);
    const jwt = assertion.stdout.trim();
    const claims = decodeJwt(jwt);
    expect(claims).toMatchObject({ iss: created.client_id, sub: created.client_id, aud: srv.url });
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(300);
    const res = await fetch(`${srv.url}/v1/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: jwt }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { token_type: string }).token_type).toBe('Bearer');
    // Each assertion is single-use: a second POST with the same jti is refused.
    const replay = await fetch(`${srv.url}/v1/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: jwt }),
    });
    expect(replay.status).toBe(401);

    const asJson = jsonOf(await runCli(['assertion', '--key', keyFile, '--client-id', created.client_id, '--audience', 'https://aud.example', '--lifetime', '120', '--json']));
    expect(asJson).toMatchObject({ client_id: created.client_id, audience: 'https://aud.example', client_assertion_type: CLIENT_ASSERTION_TYPE });
    const custom = decodeJwt(asJson.client_assertion as string);
    expect(custom.aud).toBe('https://aud.example');
    expect(custom.exp! - custom.iat!).toBe(120);
  });

  test('defaults to ./NAME.jwk.json in the working directory and says what to run next', async () => {
    const cwd = await mkdtemp(join(dir, 'cwd-'));
    const out = await runCli(['agent', 'create', '--name', 'default-path', '--class', 'data-reader'], { env, cwd });
    expect(out.code).toBe(0);
    expect(out.stderr).toBe('');
    expect(out.stdout).toContain('client_id  agt_');
    expect(out.stdout).toContain('./default-path.jwk.json');
    expect(out.stdout).toContain('alter token --key ./default-path.jwk.json');
    expect((await stat(join(cwd, 'default-path.jwk.json'))).mode & 0o777).toBe(0o600);
    const token = await runCli(['token', '--key', 'default-path.jwk.json'], { env: { ALTER_URL: srv.url }, cwd });
    expect(token.code).toBe(0);
  });

  test('refuses to overwrite an existing key file and registers nothing', async () => {
    const keyFile = join(dir, 'taken.jwk.json');
    await writeFile(keyFile, 'precious\n');
    const out = await runCli(['agent', 'create', '--name', 'taken', '--class', 'data-reader', '--key-out', keyFile], { env });
    expect(out.code).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain(`error: ${keyFile} already exists; refusing to overwrite it`);
    expect(await readFile(keyFile, 'utf8')).toBe('precious\n');
    expect(await agentNames()).not.toContain('taken');
  });

  test('a refused registration leaves no key file behind', async () => {
    const keyFile = join(dir, 'bad.jwk.json');
    const out = await runCli(['agent', 'create', '--name', 'Bad Name', '--class', 'data-reader', '--key-out', keyFile], { env });
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^error: name: must be .* \(invalid_request\)$/m);
    await expect(stat(keyFile)).rejects.toThrow(/ENOENT/);
  });
});

describe('alter agent create with your own keys', () => {
  test('--jwks-file registers the public keys; token works with --client-id', async () => {
    const { jwks, privateJwk } = await ownKeyPair();
    const jwksFile = join(dir, 'own.jwks.json');
    const privateFile = join(dir, 'own-private.jwk.json');
    await writeFile(jwksFile, JSON.stringify(jwks));
    await writeFile(privateFile, JSON.stringify(privateJwk));

    const created = jsonOf<{ client_id: string; jwks: unknown }>(
      await runCli(['agent', 'create', '--name', 'own-file', '--class', 'ci', '--jwks-file', jwksFile, '--json'], { env }),
    );
    expect(created.jwks).toEqual(jwks);
    const missingId = await runCli(['token', '--key', privateFile], { env });
    expect(missingId.code).toBe(2);
    expect(missingId.stderr).toContain('has no client_id: pass --client-id');
    const token = jsonOf<{ access_token: string }>(await runCli(['token', '--key', privateFile, '--client-id', created.client_id, '--json'], { env }));
    expect(decodeJwt(token.access_token).sub).toBe(created.client_id);
  });

  test('--jwks-file with a private key is refused before anything is sent', async () => {
    const { privateJwk } = await ownKeyPair();
    const file = join(dir, 'oops.jwk.json');
    await writeFile(file, JSON.stringify(privateJwk));
    const out = await runCli(['agent', 'create', '--name', 'oops', '--class', 'ci', '--jwks-file', file], { env });
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('is a private key (has "d"); register the public key only');
    expect(await agentNames()).not.toContain('oops');
  });

  test('--jwks-uri registers a JWKS URL', async () => {
    const out = await runCli(['agent', 'create', '--name', 'own-uri', '--class', 'ci', '--jwks-uri', await serveJwks()], { env });
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`jwks_uri   ${jwksUri}`);
    const clientId = /client_id {2}(agt_\S+)/.exec(out.stdout)![1]!;
    expect(out.stdout).toContain(`alter token --key PRIVATE_KEY_FILE --client-id ${clientId}`);
    const shown = jsonOf(await runCli(['agent', 'show', clientId, '--json'], { env }));
    expect(shown).toMatchObject({ client_id: clientId, jwks_uri: jwksUri });
    expect(shown.jwks).toBeUndefined();
  });

  test('--jwks-uri: the server fetches the keys and the agent gets a token', async () => {
    const uri = await serveJwks();
    const { client_id: clientId } = jsonOf<{ client_id: string }>(
      await runCli(['agent', 'create', '--name', 'own-uri-token', '--class', 'ci', '--jwks-uri', uri, '--json'], { env }),
    );
    const token = await runCli(['token', '--key', jwksUriPrivateFile, '--client-id', clientId, '--json'], { env });
    expect(jsonOf<{ access_token: string }>(token).access_token).toBeTruthy();
  });

  test('only one key source at a time (usage error)', async () => {
    const out = await runCli(['agent', 'create', '--name', 'x', '--class', 'y', '--key-out', join(dir, 'x.json'), '--jwks-uri', 'https://example.com/jwks'], { env });
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('give only one of --key-out, --jwks-file and --jwks-uri');
  });
});

describe('managing agents', () => {
  test('list, show, disable, enable, delete (--json and human)', async () => {
    const keyFile = join(dir, 'lifecycle.jwk.json');
    const { client_id: id } = jsonOf<{ client_id: string }>(
      await runCli(['agent', 'create', '--name', 'lifecycle', '--class', 'worker', '--key-out', keyFile, '--json'], { env }),
    );

    const listed = jsonOf<{ agents: Array<{ client_id: string }> }>(await runCli(['agent', 'list', '--json'], { env }));
    expect(listed.agents.map((a) => a.client_id)).toContain(id);
    const human = await runCli(['agent', 'list'], { env });
    expect(human.stdout).toMatch(/^CLIENT_ID +NAME +CLASS +STATUS +SCOPES +CREATED$/m);
    expect(human.stdout).toMatch(new RegExp(`^${id} +lifecycle +worker +active `, 'm'));

    const page = jsonOf<{ agents: unknown[]; next_cursor?: string }>(await runCli(['agent', 'list', '--limit', '1', '--json'], { env }));
    expect(page.agents).toHaveLength(1);
    expect(page.next_cursor).toBeTruthy();
    const next = jsonOf<{ agents: Array<{ client_id: string }> }>(await runCli(['agent', 'list', '--limit', '1', '--cursor', page.next_cursor!, '--json'], { env }));
    expect(next.agents).toHaveLength(1);
    expect(next.agents[0]).not.toEqual(page.agents[0]);

    expect(jsonOf(await runCli(['agent', 'show', id, '--json'], { env }))).toMatchObject({ client_id: id, name: 'lifecycle', status: 'active' });
    const shown = await runCli(['agent', 'show', id], { env });
    expect(shown.stdout).toMatch(/^ {2}status +active$/m);

    expect(jsonOf(await runCli(['agent', 'disable', id, '--json'], { env }))).toMatchObject({ client_id: id, status: 'disabled' });
    const refused = await runCli(['token', '--key', keyFile], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: .*\(invalid_client\)$/m);
    expect(refused.stderr).toContain(`hint: check that agent ${id} exists and is enabled`);

    const enabled = await runCli(['agent', 'enable', id], { env });
    expect(enabled.stdout).toBe(`Enabled agent ${id} (lifecycle).\n`);
    expect((await runCli(['token', '--key', keyFile], { env })).code).toBe(0);

    expect(jsonOf(await runCli(['agent', 'delete', id, '--json'], { env }))).toEqual({ client_id: id, deleted: true });
    const gone = await runCli(['agent', 'show', id], { env });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(`error: no agent with client_id "${id}" (not_found)\n`);
  });
});

describe('alter keys', () => {
  test('list and rotate', async () => {
    type Keys = { keys: Array<{ kid: string; alg: string; state: string }> };
    const before = jsonOf<Keys>(await runCli(['keys', 'list', '--json'], { env }));
    const next = before.keys.find((k) => k.state === 'next')!;
    const current = before.keys.find((k) => k.state === 'current')!;
    expect(next && current).toBeTruthy();

    const rotated = await runCli(['keys', 'rotate'], { env });
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toContain(`new tokens are signed with ${next.kid}`);
    expect(rotated.stdout).toMatch(new RegExp(`^${current.kid} +\\w+ +retired `, 'm'));

    const after = jsonOf<Keys>(await runCli(['keys', 'rotate', '--json'], { env }));
    expect(after.keys.find((k) => k.state === 'retired' && k.kid === next.kid)).toBeTruthy();
    const listed = await runCli(['keys', 'list'], { env });
    expect(listed.stdout).toMatch(/^KID +ALG +STATE +CREATED +ACTIVATED +RETIRED$/m);
  });
});

describe('configuration and errors', () => {
  test('a wrong admin key: exit 1 with the server message', async () => {
    const out = await runCli(['agent', 'list'], { env: { ALTER_URL: srv.url, ALTER_ADMIN_KEY: 'not-the-key' } });
    expect(out.code).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/^error: the admin key is not valid \(invalid_token\)\nhint: the admin key from ALTER_ADMIN_KEY was refused/);
  });

  test('no admin key: says where it looked', async () => {
    const cwd = await mkdtemp(join(dir, 'nokey-'));
    const out = await runCli(['agent', 'list'], { env: { ALTER_URL: srv.url }, cwd });
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('error: no admin key found: looked at --admin-key (not given), ALTER_ADMIN_KEY (not set)');
    expect(out.stderr).toContain(`${join(cwd, 'data', 'admin.key')} (default data directory ./data; does not exist)`);

    const viaEnv = await runCli(['keys', 'list'], { env: { ALTER_URL: srv.url, ALTER_DATA_DIR: join(cwd, 'elsewhere') }, cwd });
    expect(viaEnv.stderr).toContain(`${join(cwd, 'elsewhere', 'admin.key')} (from ALTER_DATA_DIR; does not exist)`);
  });

  test('the admin key is read from admin.key in --data-dir / ALTER_DATA_DIR, and --admin-key wins', async () => {
    const dataDir = await mkdtemp(join(dir, 'data-'));
    await writeFile(join(dataDir, 'admin.key'), `${srv.adminKey}\n`, { mode: 0o600 });
    expect((await runCli(['keys', 'list', '--data-dir', dataDir], { env: { ALTER_URL: srv.url } })).code).toBe(0);
    expect((await runCli(['keys', 'list'], { env: { ALTER_URL: srv.url, ALTER_DATA_DIR: dataDir } })).code).toBe(0);
    const wrong = await runCli(['keys', 'list', '--admin-key', 'wrong-key', '--data-dir', dataDir], { env: { ALTER_URL: srv.url } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('(invalid_token)');
  });

  test('server unreachable: a clear message', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const out = await runCli(['agent', 'list', '--url', url], { env: { ALTER_ADMIN_KEY: srv.adminKey } });
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(new RegExp(`^error: cannot reach Alter at ${url}: .*ECONNREFUSED.* \\(is the server running\\? set ALTER_URL\\)$`, 'm'));
    const token = await runCli(['assertion', '--key', join(dir, 'own-private.jwk.json'), '--client-id', 'x'], { env: { ALTER_URL: url } });
    expect(token.stderr).toContain(`cannot reach Alter at ${url}`);
  });

  test('usage errors exit 2', async () => {
    const cases: Array<[string[], string]> = [
      [['agent', 'create', '--class', 'x'], 'error: --name is required'],
      [['agent', 'list', '--bogus'], 'error: unknown option --bogus'],
      [['agent', 'frobnicate'], 'error: unknown command "agent frobnicate"'],
      [['frobnicate'], 'error: unknown command "frobnicate"'],
      [['agent', 'show'], 'error: missing argument ID'],
      [['agent', 'show', 'a', 'b'], 'error: unexpected argument "b"'],
      [['agent', 'list', '--limit', 'many'], 'error: --limit must be an integer'],
      [['token'], 'error: --key is required'],
      [['agent', 'create', '--name'], 'error: --name needs a value'],
      [['agent', 'list', '--url', 'not a url'], 'error: --url: not a URL'],
      [['agent'], 'error: "alter agent" needs a command'],
      [[], 'Usage: alter COMMAND'],
    ];
    for (const [argv, message] of cases) {
      const out = await runCli(argv, { env });
      expect({ argv, code: out.code, stdout: out.stdout }).toEqual({ argv, code: 2, stdout: '' });
      expect(out.stderr).toContain(message);
    }
  });

  test('help and version', async () => {
    const main = await runCli(['help']);
    expect(main.code).toBe(0);
    expect(main.stdout).toContain('agent create');
    expect(main.stdout).toContain('keys rotate');
    for (const argv of [['agent', 'create', '--help'], ['help', 'agent', 'create'], ['agent', 'create', '-h', '--bogus']]) {
      const out = await runCli(argv);
      expect(out.code).toBe(0);
      expect(out.stdout).toContain('Usage: alter agent create --name NAME --class CLASS');
      expect(out.stdout).toContain('--key-out FILE');
    }
    expect((await runCli(['keys', '--help'])).stdout).toContain('keys rotate');
    expect((await runCli(['token', '-h'])).stdout).toContain('--resource URL');
    expect((await runCli(['--help'])).stdout).toContain('Usage: alter COMMAND');
    const version = await runCli(['--version']);
    expect(version).toEqual({ code: 0, stdout: `alter ${JSON.parse(await readFile('package.json', 'utf8')).version}\n`, stderr: '' });
  });
});
