import { generateKeyPairSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ActorType,
  AlterConnectionError,
  AlterError,
  AlterSdkError,
  AlterTimeoutError,
  AlterVault,
  AuthenticationError,
  ConnectError,
  HttpMethod,
  InvalidTargetError,
  NeedsReauthError,
  NotFoundError,
  PolicyDeniedError,
  ScopeInsufficientError,
  TokenExchangeError,
  UpstreamError,
  UpstreamUnavailableError,
} from '../../sdk/typescript/src/index.ts';
import { checkPrivateJwk, importSigningKey, signClientAssertion } from '../../sdk/typescript/src/client-assertion.ts';
import { appendQuery, fillPlaceholders, resolveTarget } from '../../sdk/typescript/src/target-url.ts';

// ---------------------------------------------------------------------------------------------
// helpers: a local HTTP server on 127.0.0.1:0 that records what it receives

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

const servers: Server[] = [];

async function startServer(handler: Handler, opts: { readBody?: boolean } = {}): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      let body = Buffer.alloc(0);
      if (opts.readBody !== false) {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        body = Buffer.concat(chunks);
      }
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      await handler(req, res, body);
    })().catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function alterError(res: ServerResponse, status: number, error: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): void {
  json(res, status, { error, error_description: `${error} happened`, ...extra }, { 'alter-error': error, ...headers });
}

const APP_KEY = 'alter_key_test123';
const appVault = (baseUrl: string): AlterVault =>
  new AlterVault({ apiKey: APP_KEY, actorType: ActorType.AI_AGENT, actorIdentifier: 'calendar-agent', baseUrl });

function ed25519Jwk(): { privateJwk: JWK; publicJwk: JWK } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privateJwk = { ...(privateKey.export({ format: 'jwk' }) as JWK), kid: 'kid-ed', alg: 'EdDSA', use: 'sig' };
  return { privateJwk, publicJwk: publicKey.export({ format: 'jwk' }) as JWK };
}

const flush = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------

describe('target URL and proxy URL', () => {
  it('fills placeholders as single percent-encoded path segments', () => {
    expect(fillPlaceholders('https://h/a/{x}/b/{y}', { x: 'a/b c', y: 42 })).toBe('https://h/a/a%2Fb%20c/b/42');
    expect(fillPlaceholders('https://h/{id}', { id: 'é?#&' })).toBe('https://h/%C3%A9%3F%23%26');
  });

  it('refuses a placeholder without value, unused params and dot segments', () => {
    expect(() => fillPlaceholders('https://h/{a}/{b}', { a: '1' })).toThrow(/no value for placeholder \{b\}/);
    expect(() => fillPlaceholders('https://h/{a}', { a: '1', extra: '2' })).toThrow(/"extra" has no \{placeholder\}/);
    expect(() => fillPlaceholders('https://h/{a}', { a: '..' })).toThrow(TypeError);
    expect(() => fillPlaceholders('https://h/{}', {})).toThrow(/empty placeholder/);
  });

  it('encodes query params, repeats arrays and appends to the existing query', () => {
    expect(appendQuery('', { q: 'a b&c', n: 10, t: true, f: false, skip: undefined, none: null })).toBe('?q=a%20b%26c&n=10&t=true&f=false');
    expect(appendQuery('?x=1', { id: ['1', 2, 'tr=e'] })).toBe('?x=1&id=1&id=2&id=tr%3De');
    expect(appendQuery('?x=1', {})).toBe('?x=1');
    expect(() => appendQuery('', { n: Number.NaN })).toThrow(TypeError);
  });

  it('keeps the percent-encoding, the port, and drops the fragment', () => {
    expect(resolveTarget('https://api.example.com:8443/files/a%2Fb%20c?x=%2F#frag', {}, { y: '1' })).toEqual({
      host: 'api.example.com:8443',
      path: '/files/a%2Fb%20c',
      query: '?x=%2F&y=1',
    });
    expect(resolveTarget('https://API.Example.com:443/').host).toBe('api.example.com');
    expect(resolveTarget('http://127.0.0.1:9000').path).toBe('/');
  });

  it('refuses what is not an absolute http(s) URL or carries credentials', () => {
    expect(() => resolveTarget('/relative')).toThrow(/not an absolute URL/);
    expect(() => resolveTarget('ftp://h/x')).toThrow(/only http and https/);
    expect(() => resolveTarget('https://u:p@h/x')).toThrow(/credentials/);
  });

  it('sends the proxy request with the app key, actor and run context headers', async () => {
    const server = await startServer((_req, res) => json(res, 200, { items: [] }, { 'x-upstream': 'yes' }));
    const vault = appVault(`${server.url}/`);
    const response = await vault.request(
      'con_123',
      HttpMethod.GET,
      'https://www.googleapis.com/calendar/v3/calendars/{calendar_id}/events',
      { pathParams: { calendar_id: 'primary' }, queryParams: { maxResults: 10, singleEvents: true }, runId: 'run-42', threadId: 'thread-7', toolCallId: 'call-1', task: 'list events', headers: { 'X-Custom': 'v' } },
    );
    expect(response).toBeInstanceOf(Response);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-upstream')).toBe('yes');
    expect(await response.json()).toEqual({ items: [] });
    const [req] = server.seen;
    expect(req!.method).toBe('GET');
    expect(req!.url).toBe('/v1/proxy/con_123/www.googleapis.com/calendar/v3/calendars/primary/events?maxResults=10&singleEvents=true');
    expect(req!.headers.authorization).toBe(`Bearer ${APP_KEY}`);
    expect(req!.headers['alter-actor-type']).toBe('ai_agent');
    expect(req!.headers['alter-actor-id']).toBe('calendar-agent');
    expect(req!.headers['alter-run-id']).toBe('run-42');
    expect(req!.headers['alter-thread-id']).toBe('thread-7');
    expect(req!.headers['alter-tool-call-id']).toBe('call-1');
    expect(req!.headers['alter-task']).toBe('list events');
    expect(req!.headers['x-custom']).toBe('v');
  });

  it('keeps a base URL path prefix and sends JSON bodies with their content type', async () => {
    const server = await startServer((_req, res) => json(res, 201, { ok: true }));
    const vault = new AlterVault({ apiKey: APP_KEY, actorType: 'backend_service', actorIdentifier: 'svc', baseUrl: `${server.url}/alter//` });
    await vault.request('sec_abc', HttpMethod.POST, 'https://api.example.com/items', { body: { name: 'x', n: [1, 2] } });
    await vault.request('sec_abc', 'PUT', 'https://api.example.com/items/1', { body: { a: 1 }, headers: { 'content-type': 'application/merge-patch+json' } });
    await vault.request('sec_abc', 'PATCH', 'https://api.example.com/items/1', { body: 'raw text' });
    expect(server.seen[0]!.url).toBe('/alter/v1/proxy/sec_abc/api.example.com/items');
    expect(server.seen[0]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(server.seen[0]!.body.toString())).toEqual({ name: 'x', n: [1, 2] });
    expect(server.seen[1]!.headers['content-type']).toBe('application/merge-patch+json');
    expect(server.seen[2]!.body.toString()).toBe('raw text');
  });

  it('refuses Authorization and Alter-* user headers before any network call', async () => {
    const server = await startServer((_req, res) => json(res, 200, {}));
    const vault = appVault(server.url);
    await expect(vault.request('con_1', 'GET', 'https://h/x', { headers: { Authorization: 'Bearer x' } })).rejects.toThrow('headers: Authorization is set by Alter');
    await expect(vault.request('con_1', 'GET', 'https://h/x', { headers: { 'Alter-Run-Id': 'r' } })).rejects.toThrow(/alter-run-id is reserved/);
    await expect(vault.request('con_1', 'GET', 'https://h/x', { headers: new Headers({ 'alter-actor-id': 'evil' }) })).rejects.toThrow(TypeError);
    await expect(vault.request('con_1', 'GET', 'https://h/{id}')).rejects.toThrow(/no value for placeholder \{id\}/);
    await expect(vault.request('nope', 'GET', 'https://h/x')).rejects.toThrow(/grantId/);
    await expect(vault.request('con_1', 'TRACE' as HttpMethod, 'https://h/x')).rejects.toThrow(/method/);
    await expect(vault.request('con_1', 'GET', 'https://h/x', { body: 'x' })).rejects.toThrow(/GET request cannot have a body/);
    await expect(vault.request('con_1', 'GET', 'https://h/x', { task: 'emoji 🚀' })).rejects.toThrow(/task: cannot be sent/);
    expect(server.seen).toHaveLength(0);
  });

  it('checks the construction options', () => {
    const baseUrl = 'http://127.0.0.1:1';
    expect(() => new AlterVault({ apiKey: 'sk_nope', actorType: ActorType.AI_AGENT, actorIdentifier: 'a', baseUrl })).toThrow(/alter_key_/);
    expect(() => new AlterVault({ apiKey: APP_KEY, actorIdentifier: 'a', baseUrl } as never)).toThrow(/actorType is required/);
    expect(() => new AlterVault({ apiKey: APP_KEY, actorType: 'robot', actorIdentifier: 'a', baseUrl } as never)).toThrow(/actorType/);
    expect(() => new AlterVault({ apiKey: APP_KEY, actorType: ActorType.AI_AGENT, baseUrl } as never)).toThrow(/actorIdentifier is required/);
    expect(() => new AlterVault({ apiKey: APP_KEY, actorType: ActorType.AI_AGENT, actorIdentifier: 'a' } as never)).toThrow(/baseUrl is required/);
    expect(() => new AlterVault({ apiKey: APP_KEY, clientId: 'agt_1', baseUrl } as never)).toThrow(/not both/);
    expect(() => new AlterVault({ baseUrl } as never)).toThrow(/app API key .* or an agent key/);
    const { privateJwk, publicJwk } = ed25519Jwk();
    expect(() => new AlterVault({ privateKey: privateJwk, baseUrl })).toThrow(/clientId is required/);
    expect(() => new AlterVault({ clientId: 'agt_1', privateKey: publicJwk, baseUrl })).toThrow(/public key/);
    expect(() => new AlterVault({ privateKey: { ...privateJwk, client_id: 'agt_1' } as never, baseUrl })).not.toThrow();
  });
});

describe('client assertion (WebCrypto JWS)', () => {
  it('signs an Ed25519 assertion that jose verifies', async () => {
    const { privateJwk, publicJwk } = ed25519Jwk();
    const key = checkPrivateJwk({ ...privateJwk, client_id: 'agt_x', issuer: 'http://issuer' }, 'privateKey');
    const jwt = await signClientAssertion(key, await importSigningKey(key), { clientId: 'agt_x', audience: 'http://issuer.example' });
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'EdDSA', kid: 'kid-ed', typ: 'JWT' });
    const { payload } = await jwtVerify(jwt, await importJWK(publicJwk, 'EdDSA'), { issuer: 'agt_x', subject: 'agt_x', audience: 'http://issuer.example' });
    expect(typeof payload.jti).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(60);
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(5);
  });

  it('signs an ES256 assertion that jose verifies (no kid: none in the header)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = checkPrivateJwk(privateKey.export({ format: 'jwk' }), 'privateKey');
    expect(key.alg).toBe('ES256');
    const jwt = await signClientAssertion(key, await importSigningKey(key), { clientId: 'agt_y', audience: 'aud' });
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'ES256', typ: 'JWT' });
    await expect(jwtVerify(jwt, await importJWK(publicKey.export({ format: 'jwk' }) as JWK, 'ES256'), { issuer: 'agt_y', audience: 'aud' })).resolves.toBeTruthy();
  });

  it('refuses keys it cannot sign with', () => {
    expect(() => checkPrivateJwk({ kty: 'oct', k: 'abc', d: 'x' }, 'k')).toThrow(/cannot tell which algorithm/);
    expect(() => checkPrivateJwk({ kty: 'OKP', crv: 'Ed25519', d: 'x', alg: 'ES256' }, 'k')).toThrow(/needs a EC P-256 key/);
    expect(() => checkPrivateJwk('nope', 'k')).toThrow(/private JWK/);
  });
});

describe('error mapping', () => {
  it('maps Alter-Error answers to typed errors', async () => {
    const server = await startServer((req, res) => {
      const code = req.url!.split('/').pop()!;
      const table: Record<string, [number, Record<string, unknown>]> = {
        invalid_token: [401, {}],
        access_denied: [403, {}],
        insufficient_scope: [403, { scope: 'calendar.read calendar.write' }],
        needs_reauth: [403, { connection_id: 'con_re' }],
        invalid_target: [400, {}],
        not_found: [404, {}],
        upstream_unreachable: [502, {}],
        upstream_timeout: [504, {}],
        temporarily_unavailable: [503, {}],
        invalid_request: [400, {}],
      };
      const [status, extra] = table[code]!;
      alterError(res, status, code, extra, { 'x-request-id': `req-${code}`, ...(status === 503 ? { 'retry-after': '3' } : {}) });
    });
    const vault = appVault(server.url);
    const call = (code: string): Promise<unknown> => vault.request('con_1', 'GET', `https://api.example.com/${code}`).then(() => undefined, (err: unknown) => err);

    const auth = await call('invalid_token');
    expect(auth).toBeInstanceOf(AuthenticationError);
    expect(auth).toMatchObject({ status: 401, code: 'invalid_token', description: 'invalid_token happened', requestId: 'req-invalid_token' });
    expect(auth).toBeInstanceOf(AlterError);
    expect(auth).toBeInstanceOf(AlterSdkError);
    expect(await call('access_denied')).toBeInstanceOf(PolicyDeniedError);
    const scope = await call('insufficient_scope');
    expect(scope).toBeInstanceOf(ScopeInsufficientError);
    expect((scope as ScopeInsufficientError).requiredScopes).toEqual(['calendar.read', 'calendar.write']);
    const reauth = await call('needs_reauth');
    expect(reauth).toBeInstanceOf(NeedsReauthError);
    expect((reauth as NeedsReauthError).connectionId).toBe('con_re');
    expect(await call('invalid_target')).toBeInstanceOf(InvalidTargetError);
    expect(await call('not_found')).toBeInstanceOf(NotFoundError);
    for (const code of ['upstream_unreachable', 'upstream_timeout', 'temporarily_unavailable']) {
      const err = await call(code);
      expect(err).toBeInstanceOf(UpstreamUnavailableError);
      expect((err as AlterError).code).toBe(code);
    }
    expect(((await call('temporarily_unavailable')) as AlterError).headers.get('retry-after')).toBe('3');
    const other = await call('invalid_request');
    expect(other).toBeInstanceOf(AlterError);
    expect((other as AlterError).constructor).toBe(AlterError);
    expect((other as AlterError).body).toEqual({ error: 'invalid_request', error_description: 'invalid_request happened' });
  });

  it('throws UpstreamError with the unread upstream answer, returns 3xx as is', async () => {
    const server = await startServer((req, res) => {
      if (req.url!.endsWith('/missing')) json(res, 404, { message: 'no such item' }, { 'x-upstream': '1', 'alter-request-id': 'req-up' });
      else {
        res.writeHead(302, { location: 'https://elsewhere.example/' });
        res.end();
      }
    });
    const vault = appVault(server.url);
    const err = await vault.request('con_1', 'GET', 'https://api.example.com/missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).not.toBeInstanceOf(AlterError);
    expect(err).toBeInstanceOf(AlterSdkError);
    const upstream = err as UpstreamError;
    expect(upstream.status).toBe(404);
    expect(upstream.headers.get('x-upstream')).toBe('1');
    expect(upstream.requestId).toBe('req-up');
    expect(upstream.response.bodyUsed).toBe(false);
    expect(await upstream.response.json()).toEqual({ message: 'no such item' });
    const redirect = await vault.request('con_1', 'GET', 'https://api.example.com/moved');
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('https://elsewhere.example/');
  });

  it('wraps network failures and time limits', async () => {
    const closed = await startServer(() => {});
    const port = new URL(closed.url).port;
    await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
    const err = await appVault(`http://127.0.0.1:${port}`).request('con_1', 'GET', 'https://h/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AlterConnectionError);
    expect((err as Error).cause).toBeInstanceOf(TypeError);

    const silent = await startServer(() => {}); // never answers
    const slow = await appVault(silent.url).request('con_1', 'GET', 'https://h/x', { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(slow).toBeInstanceOf(AlterTimeoutError);
    expect(slow).toBeInstanceOf(AlterConnectionError);

    const controller = new AbortController();
    const pending = appVault(silent.url).request('con_1', 'GET', 'https://h/x', { signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });
});

describe('agent-key mode: token exchange, cache, single flight', () => {
  interface Fake {
    url: string;
    exchanges: URLSearchParams[];
    proxied: () => Seen[];
    /** Access tokens the proxy refuses with 401 invalid_token. */
    refused: Set<string>;
  }

  async function fakeAlter(opts: { expiresIn?: number; delayMs?: number; tokenError?: [number, string] } = {}): Promise<Fake> {
    const fake: Fake = { url: '', exchanges: [], proxied: () => [], refused: new Set() };
    let n = 0;
    const server = await startServer(async (req, res, body) => {
      if (req.url === '/.well-known/oauth-authorization-server') return json(res, 200, { issuer: 'http://alter.test', token_endpoint: `${fake.url}/v1/token` });
      if (req.url === '/v1/token') {
        const form = new URLSearchParams(body.toString());
        fake.exchanges.push(form);
        if (opts.delayMs) await flush(opts.delayMs);
        if (opts.tokenError) return json(res, opts.tokenError[0], { error: opts.tokenError[1], error_description: 'nope' });
        n += 1;
        return json(res, 200, { access_token: `tok-${n}`, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: opts.expiresIn ?? 3600 });
      }
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (fake.refused.has(token)) return alterError(res, 401, 'invalid_token');
      return json(res, 200, { token, bytes: body.length });
    });
    fake.url = server.url;
    fake.proxied = () => server.seen.filter((s) => s.url.startsWith('/v1/proxy/'));
    return fake;
  }

  it('exchanges with a signed assertion and shares one exchange between concurrent callers', async () => {
    const fake = await fakeAlter({ delayMs: 50 });
    const { privateJwk, publicJwk } = ed25519Jwk();
    const vault = new AlterVault({ clientId: 'agt_1', privateKey: privateJwk, baseUrl: fake.url });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => vault.request('con_A', 'GET', 'https://api.example.com/x', { runId: 'r1', toolCallId: 'tc' }).then((r) => r.json() as Promise<{ token: string }>)),
    );
    expect(vault.exchangeCount).toBe(1);
    expect(answers.every((a) => a.token === 'tok-1')).toBe(true);
    const form = fake.exchanges[0]!;
    expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:token-exchange');
    expect(form.get('subject_token')).toBe('con_A');
    expect(form.get('subject_token_type')).toBe('urn:alter:params:oauth:token-type:connection');
    expect(form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    expect(form.get('run_id')).toBe('r1');
    expect(form.has('thread_id')).toBe(false);
    expect(form.has('tool_call_id')).toBe(false);
    const { payload } = await jwtVerify(form.get('client_assertion')!, await importJWK(publicJwk, 'EdDSA'), { issuer: 'agt_1', subject: 'agt_1', audience: 'http://alter.test' });
    expect(payload.jti).toBeTruthy();
    const proxied = fake.proxied();
    expect(proxied[0]!.headers.authorization).toBe('Bearer tok-1');
    expect(proxied[0]!.headers['alter-actor-type']).toBeUndefined();
    expect(proxied[0]!.headers['alter-tool-call-id']).toBe('tc');

    // cached for the same (grant, run, thread); a new run context or grant gets its own token
    await vault.request('con_A', 'GET', 'https://api.example.com/x', { runId: 'r1' });
    expect(vault.exchangeCount).toBe(1);
    await vault.request('con_A', 'GET', 'https://api.example.com/x', { runId: 'r2' });
    await vault.request('con_B', 'GET', 'https://api.example.com/x', { runId: 'r1' });
    await vault.request('con_A', 'GET', 'https://api.example.com/x', { runId: 'r1', threadId: 't' });
    expect(vault.exchangeCount).toBe(4);
    // the issuer metadata is fetched once
    expect(fake.exchanges).toHaveLength(4);
  });

  it('renews a token when less than 30 s remains', async () => {
    const fake = await fakeAlter({ expiresIn: 25 });
    const vault = new AlterVault({ clientId: 'agt_1', privateKey: ed25519Jwk().privateJwk, baseUrl: fake.url });
    await vault.request('con_A', 'GET', 'https://api.example.com/x');
    await vault.request('con_A', 'GET', 'https://api.example.com/x');
    expect(vault.exchangeCount).toBe(2);
  });

  it('drops a refused token and retries once with a new one (replayable bodies only)', async () => {
    const fake = await fakeAlter();
    const vault = new AlterVault({ clientId: 'agt_1', privateKey: ed25519Jwk().privateJwk, baseUrl: fake.url });
    await vault.request('con_A', 'GET', 'https://api.example.com/x');
    fake.refused.add('tok-1');
    const response = await vault.request('con_A', 'POST', 'https://api.example.com/x', { body: { a: 1 } });
    expect(((await response.json()) as { token: string }).token).toBe('tok-2');
    expect(vault.exchangeCount).toBe(2);

    fake.refused.add('tok-2');
    async function* stream(): AsyncGenerator<Uint8Array> {
      yield new TextEncoder().encode('abc');
    }
    await expect(vault.request('con_A', 'POST', 'https://api.example.com/x', { body: stream() })).rejects.toBeInstanceOf(AuthenticationError);
    // not retried, but the refused token is forgotten
    expect(vault.exchangeCount).toBe(2);
    await vault.request('con_A', 'GET', 'https://api.example.com/x');
    expect(vault.exchangeCount).toBe(3);

    // a token refused twice: the second answer is thrown
    fake.refused.add('tok-3');
    fake.refused.add('tok-4');
    await expect(vault.request('con_A', 'GET', 'https://api.example.com/x')).rejects.toBeInstanceOf(AuthenticationError);
    expect(vault.exchangeCount).toBe(4);
  });

  it('throws TokenExchangeError when the token endpoint refuses', async () => {
    const fake = await fakeAlter({ tokenError: [400, 'invalid_grant'] });
    const vault = new AlterVault({ clientId: 'agt_1', privateKey: ed25519Jwk().privateJwk, baseUrl: fake.url });
    const err = await vault.request('con_A', 'GET', 'https://api.example.com/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenExchangeError);
    expect(err).toMatchObject({ status: 400, code: 'invalid_grant', description: 'nope' });
    expect(fake.proxied()).toHaveLength(0);
  });

  it('needs the issuer from the metadata (no fallback)', async () => {
    const server = await startServer((_req, res) => json(res, 404, { error: 'not_found', error_description: 'no' }));
    const vault = new AlterVault({ clientId: 'agt_1', privateKey: ed25519Jwk().privateJwk, baseUrl: server.url });
    const err = await vault.request('con_A', 'GET', 'https://api.example.com/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenExchangeError);
    expect((err as Error).message).toMatch(/issuer/);
    expect(server.seen.map((s) => s.url)).toEqual(['/.well-known/oauth-authorization-server']);
  });

  it('reads a key file written by alter agent create (client_id from the file), ES256 too', async () => {
    const fake = await fakeAlter();
    const dir = await mkdtemp(join(tmpdir(), 'alter-sdk-'));
    try {
      const { privateJwk, publicJwk } = ed25519Jwk();
      const file = join(dir, 'agent.jwk.json');
      await writeFile(file, JSON.stringify({ ...privateJwk, client_id: 'agt_file', issuer: 'http://alter.test' }));
      const vault = new AlterVault({ keyFile: file, baseUrl: fake.url });
      await vault.request('con_A', 'GET', 'https://api.example.com/x');
      await jwtVerify(fake.exchanges[0]!.get('client_assertion')!, await importJWK(publicJwk, 'EdDSA'), { issuer: 'agt_file', audience: 'http://alter.test' });

      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const ecVault = new AlterVault({ clientId: 'agt_ec', privateKey: ec.privateKey.export({ format: 'jwk' }), baseUrl: fake.url });
      await ecVault.request('con_A', 'GET', 'https://api.example.com/x');
      await jwtVerify(fake.exchanges[1]!.get('client_assertion')!, await importJWK(ec.publicKey.export({ format: 'jwk' }) as JWK, 'ES256'), { issuer: 'agt_ec' });

      const missing = new AlterVault({ keyFile: join(dir, 'nope.json'), baseUrl: fake.url });
      await expect(missing.request('con_A', 'GET', 'https://api.example.com/x')).rejects.toThrow(/keyFile .*nope\.json/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('streaming', () => {
  it('uploads an async iterable without buffering it', async () => {
    let received = 0;
    let firstBytes!: () => void;
    const gotFirstBytes = new Promise<void>((resolve) => (firstBytes = resolve));
    const server = await startServer(
      async (req, res) => {
        for await (const chunk of req) {
          received += (chunk as Buffer).length;
          firstBytes();
        }
        json(res, 200, { received, te: req.headers['transfer-encoding'] ?? null });
      },
      { readBody: false },
    );
    const chunk = new Uint8Array(64 * 1024).fill(7);
    let produced = 0;
    async function* body(): AsyncGenerator<Uint8Array> {
      yield chunk;
      produced += chunk.length;
      // the rest is produced only once the server has seen the first bytes: a buffering SDK would hang here
      await gotFirstBytes;
      for (let i = 0; i < 63; i += 1) {
        yield chunk;
        produced += chunk.length;
      }
    }
    const response = await appVault(server.url).request('con_1', 'PUT', 'https://api.example.com/upload', { body: body(), headers: { 'content-type': 'application/octet-stream' }, timeoutMs: 10_000 });
    expect(await response.json()).toEqual({ received: 4 * 1024 * 1024, te: 'chunked' });
    expect(produced).toBe(4 * 1024 * 1024);
  });

  it('uploads a Node file stream', async () => {
    const server = await startServer((_req, res, body) => json(res, 200, { received: body.length, sum: body.reduce((a, b) => a + b, 0) }));
    const dir = await mkdtemp(join(tmpdir(), 'alter-sdk-'));
    try {
      const file = join(dir, 'data.bin');
      const data = Buffer.alloc(300_000, 3);
      await writeFile(file, data);
      const response = await appVault(server.url).request('con_1', HttpMethod.PUT, 'https://api.example.com/files/{name}', { pathParams: { name: 'data.bin' }, body: createReadStream(file) });
      expect(await response.json()).toEqual({ received: 300_000, sum: 900_000 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('uploads a ReadableStream and streams the answer body', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const server = await startServer(async (_req, res, body) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(`got ${body.length};`);
      await released;
      res.end('done');
    });
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('hello '));
        controller.enqueue(new TextEncoder().encode('world'));
        controller.close();
      },
    });
    const response = await appVault(server.url).request('con_1', 'POST', 'https://api.example.com/echo', { body: stream });
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('got 11;');
    release();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    expect(rest).toBe('done');
  });
});

describe('headless Connect', () => {
  it('creates a session, hands out the headless link and polls until completed', async () => {
    let polls = 0;
    const server = await startServer((req, res) => {
      if (req.method === 'POST' && req.url === '/v1/connect/sessions') {
        return json(res, 201, { id: 'cs_1', token: 'cst_secret', connect_url: 'http://alter.test/connect?session=cs_1', status: 'pending', expires_at: new Date().toISOString() });
      }
      if (req.url === '/v1/connect/session') {
        polls += 1;
        return json(res, 200, polls < 3 ? { id: 'cs_1', status: 'pending' } : { id: 'cs_1', status: 'completed', connection_id: 'con_new', provider: 'google' });
      }
      json(res, 404, { error: 'not_found' });
    });
    const urls: string[] = [];
    const result = await appVault(server.url).connect({
      endUserId: 'alice',
      providers: ['google'],
      pollIntervalMs: 10,
      onUrl: async (url) => {
        urls.push(url);
      },
    });
    expect(result).toEqual({ connectionId: 'con_new', provider: 'google' });
    expect(urls).toEqual(['http://alter.test/connect?session=cs_1&mode=headless']);
    const created = server.seen[0]!;
    expect(created.headers.authorization).toBe(`Bearer ${APP_KEY}`);
    expect(JSON.parse(created.body.toString())).toEqual({ end_user_id: 'alice', providers: ['google'] });
    expect(server.seen.slice(1).every((s) => s.headers.authorization === 'Bearer cst_secret')).toBe(true);
    expect(polls).toBe(3);
  });

  it('throws ConnectError when the attempt fails or times out, AlterError when the session is refused', async () => {
    let mode: 'failed' | 'pending' | 'refuse' = 'failed';
    const server = await startServer((req, res) => {
      if (req.method === 'POST') {
        if (mode === 'refuse') return json(res, 400, { error: 'invalid_request', error_description: 'provider "x" is not configured' });
        return json(res, 201, { id: 'cs_1', token: 'cst_1', connect_url: 'http://alter.test/connect?s=1', status: 'pending' });
      }
      if (mode === 'failed') return json(res, 200, { status: 'failed', error: 'access_denied', error_description: 'the user declined' });
      return json(res, 200, { status: 'pending' });
    });
    const vault = appVault(server.url);
    const failed = await vault.connect({ endUserId: 'bob', onUrl: () => {} }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ConnectError);
    expect(failed).toMatchObject({ code: 'access_denied', description: 'the user declined' });
    mode = 'pending';
    const timedOut = await vault.connect({ endUserId: 'bob', onUrl: () => {}, timeoutMs: 60, pollIntervalMs: 10 }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(ConnectError);
    expect((timedOut as ConnectError).code).toBe('timeout');
    mode = 'refuse';
    const refused = await vault.connect({ endUserId: 'bob', providers: ['x'], onUrl: () => {} }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AlterError);
    expect(refused).toMatchObject({ status: 400, code: 'invalid_request' });
  });

  it('is for app-key mode only', async () => {
    const vault = new AlterVault({ clientId: 'agt_1', privateKey: ed25519Jwk().privateJwk, baseUrl: 'http://127.0.0.1:1' });
    await expect(vault.connect({ endUserId: 'a' })).rejects.toThrow(/app-key mode/);
  });
});

describe('close', () => {
  it('refuses calls after close()', async () => {
    const vault = appVault('http://127.0.0.1:1');
    await vault.close();
    await expect(vault.request('con_1', 'GET', 'https://h/x')).rejects.toThrow(/closed/);
  });
});
