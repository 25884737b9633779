// The TypeScript SDK against a running Alter node, a real upstream OAuth server and the provider
// API stub (issue 7, "Done when"): every call goes SDK → /v1/proxy → stub, and the stub says what
// credential reached it.
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ActorType, AlterVault, AuthenticationError, HttpMethod, InvalidTargetError, NeedsReauthError, NotFoundError,
  PolicyDeniedError, ScopeInsufficientError, UpstreamError,
} from '../../sdk/typescript/src/index.ts';
import type { StubEcho } from '../helpers/upstream/api-stub.ts';
import { auditEvents } from '../helpers/audit.ts';
import { liveMemoryGrowth } from '../helpers/live-memory.ts';
import { followAuthorization } from '../helpers/upstream/oidc-upstream.ts';
import { startSdkFixture, type SdkFixture } from './sdk-fixture.ts';

let fx: SdkFixture;
let vault: AlterVault;
let readerVault: AlterVault;

const MiB = 1024 * 1024;

beforeAll(async () => {
  fx = await startSdkFixture();
  vault = new AlterVault({ apiKey: fx.apiKey, actorType: ActorType.AI_AGENT, actorIdentifier: fx.assistant.name, baseUrl: fx.srv.url });
  readerVault = new AlterVault({ apiKey: fx.apiKey, actorType: ActorType.AI_AGENT, actorIdentifier: fx.reader.name, baseUrl: fx.srv.url });
});

afterAll(async () => {
  await vault?.close();
  await readerVault?.close();
  await fx?.close();
});

beforeEach(() => fx.stub.reset());

const echo = async (response: Response) => (await response.json()) as StubEcho;

describe('OAuth connection', () => {
  it('injects the upstream token: the seed example (path_params, query_params, run_id, thread_id)', async () => {
    const response = await vault.request(fx.connectionId, HttpMethod.GET, `${fx.stub.apiBase}/calendars/{calendar_id}/events`, {
      pathParams: { calendar_id: 'primary' }, queryParams: { maxResults: 10, singleEvents: true }, runId: 'run-42', threadId: 'thread-7',
    });
    expect(response.status).toBe(200);
    const seen = await echo(response);
    expect(seen.credential).toMatchObject({ kind: 'oauth', valid: true });
    expect(seen.path).toBe('/api/calendars/primary/events');
    expect(seen.query).toEqual({ maxResults: '10', singleEvents: 'true' });
    // the app key and Alter's headers never reach the provider
    expect(seen.headers.authorization).not.toContain(fx.apiKey);
    expect(Object.keys(seen.headers).filter((h) => h.startsWith('alter-'))).toEqual([]);
    // audited with both identities and the run context, never the query
    const events = await auditEvents(fx.srv, 'proxy.request');
    const last = events.at(-1)!;
    expect(last).toMatchObject({
      agent: fx.assistant.clientId, end_user: 'user-1', connection_id: fx.connectionId, provider: 'acme', via: 'app_key', actor_type: 'ai_agent',
      run: { run_id: 'run-42', thread_id: 'thread-7' }, request: { method: 'GET', path: '/api/calendars/primary/events' }, decision: 'allow', result: { status: 200 },
    });
    expect(JSON.stringify(last)).not.toContain('maxResults');
  });

  it('refreshes an upstream token the provider refuses (401) and retries once, transparently', async () => {
    const first = await echo(await vault.request(fx.connectionId, HttpMethod.GET, `${fx.stub.apiBase}/me`));
    const before = fx.upstream.counts().refresh_token;
    const revoked = await fetch(`${fx.stub.url}/_stub/revoke-tokens`, { method: 'POST' });
    expect(revoked.status).toBe(200);
    const second = await echo(await vault.request(fx.connectionId, HttpMethod.GET, `${fx.stub.apiBase}/me`));
    expect(second.credential).toMatchObject({ kind: 'oauth', valid: true });
    expect(second.credential.fingerprint).not.toBe(first.credential.fingerprint);
    expect(fx.upstream.counts().refresh_token).toBe(before + 1);
    // the stub saw the refused token, then the fresh one
    expect(fx.stub.requests().map((r) => r.credential.valid)).toEqual([true, false, true]);
  });

  it('refreshes an expired upstream token before forwarding it', async () => {
    const first = await echo(await vault.request(fx.connectionId, HttpMethod.GET, `${fx.stub.apiBase}/me`));
    const db = new pg.Client({ connectionString: fx.srv.databaseUrl });
    await db.connect();
    await db.query("UPDATE connections SET token_expires_at = now() - interval '1 minute' WHERE id = $1", [fx.connectionId]);
    await db.end();
    // a write behind Alter's back (no bus message): nodes see it once their cached row ages out (1 s)
    await new Promise((resolve) => setTimeout(resolve, 1100));
    fx.stub.reset();
    const before = fx.upstream.counts().refresh_token;
    const second = await echo(await vault.request(fx.connectionId, HttpMethod.GET, `${fx.stub.apiBase}/me`));
    expect(second.credential).toMatchObject({ kind: 'oauth', valid: true });
    expect(second.credential.fingerprint).not.toBe(first.credential.fingerprint);
    expect(fx.upstream.counts().refresh_token).toBe(before + 1);
    expect(fx.stub.requests()).toHaveLength(1); // no refused attempt: refreshed first
  });

  it('refuses a downgraded agent\'s write before it reaches the provider (app key mode)', async () => {
    const error = await readerVault.request(fx.connectionId, HttpMethod.POST, `${fx.stub.apiBase}/calendars/primary/events`, { body: { summary: 'x' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScopeInsufficientError);
    expect((error as ScopeInsufficientError).status).toBe(403);
    expect((error as ScopeInsufficientError).requiredScopes).toContain('calendar:write');
    expect(fx.stub.requests()).toHaveLength(0);
    // its reads still work
    const read = await readerVault.request(fx.connectionId, HttpMethod.GET, `${fx.stub.apiBase}/calendars/primary/events`);
    expect(read.status).toBe(200);
    const denied = (await auditEvents(fx.srv, 'proxy.denied')).at(-1)!;
    expect(denied).toMatchObject({ agent: fx.reader.clientId, decision: 'deny', request: { method: 'POST' }, result: { status: 403, error: 'insufficient_scope' } });
  });

  it('refuses a downgraded agent\'s write in agent-key mode (token exchange): the token carries only reads', async () => {
    const agentVault = new AlterVault({ keyFile: fx.reader.keyFile, baseUrl: fx.srv.url });
    const error = await agentVault.request(fx.connectionId, HttpMethod.DELETE, `${fx.stub.apiBase}/calendars/primary/events/1`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScopeInsufficientError);
    expect(fx.stub.requests()).toHaveLength(0);
    await agentVault.close();
  });

  it('agent-key mode: exchanges once, caches the token, injects the upstream token', async () => {
    const jwk = JSON.parse(await readFile(fx.assistant.keyFile, 'utf8')) as Record<string, string>;
    const agentVault = new AlterVault({ clientId: jwk.client_id!, privateKey: jwk as never, baseUrl: fx.srv.url });
    for (let i = 0; i < 3; i++) {
      const seen = await echo(await agentVault.request(fx.connectionId, HttpMethod.GET, `${fx.stub.apiBase}/items`, { runId: 'run-9', toolCallId: `call-${i}` }));
      expect(seen.credential).toMatchObject({ kind: 'oauth', valid: true });
    }
    expect(agentVault.exchangeCount).toBe(1);
    const last = (await auditEvents(fx.srv, 'proxy.request')).at(-1)!;
    expect(last).toMatchObject({ via: 'token', agent: fx.assistant.clientId, run: { run_id: 'run-9', tool_call_id: 'call-2' }, act: { sub: fx.assistant.clientId } });
    await agentVault.close();
  });

  it('refuses a URL on a foreign host: the credential is never sent there', async () => {
    const error = await vault.request(fx.connectionId, HttpMethod.GET, fx.foreignUrl).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidTargetError);
    expect((error as InvalidTargetError).status).toBe(400);
    expect(fx.stub.requests()).toHaveLength(0);
  });

  it('surfaces an upstream error as UpstreamError with the provider\'s response', async () => {
    const error = await vault.request(fx.connectionId, HttpMethod.GET, `${fx.stub.apiBase}/status/404`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).status).toBe(404);
    expect(((await (error as UpstreamError).response.json()) as StubEcho).path).toBe('/api/status/404');
  });

  it('maps Alter\'s refusals to typed errors: unknown actor, unknown grant, bad app key', async () => {
    const stranger = new AlterVault({ apiKey: fx.apiKey, actorType: ActorType.AI_AGENT, actorIdentifier: 'nobody', baseUrl: fx.srv.url });
    await expect(stranger.request(fx.connectionId, HttpMethod.GET, `${fx.stub.apiBase}/x`)).rejects.toBeInstanceOf(PolicyDeniedError);
    await expect(vault.request('con_doesnotexist', HttpMethod.GET, `${fx.stub.apiBase}/x`)).rejects.toBeInstanceOf(NotFoundError);
    const badKey = new AlterVault({ apiKey: 'alter_key_wrong', actorType: ActorType.AI_AGENT, actorIdentifier: fx.assistant.name, baseUrl: fx.srv.url });
    await expect(badKey.request(fx.connectionId, HttpMethod.GET, `${fx.stub.apiBase}/x`)).rejects.toBeInstanceOf(AuthenticationError);
    expect(fx.stub.requests()).toHaveLength(0);
  });
});

describe('managed secrets', () => {
  const kinds = [
    ['bearer', 'bearer'], ['apiKeyHeader', 'api_key_header'], ['apiKeyQuery', 'api_key_query'], ['basic', 'basic'], ['sigv4', 'aws_sigv4'],
  ] as const;
  for (const [secret, kind] of kinds) {
    it(`injects ${kind}`, async () => {
      const seen = await echo(await vault.request(fx.secrets[secret], HttpMethod.GET, `${fx.stub.apiBase}/whoami`, { queryParams: { q: 'a b+c' } }));
      expect(seen.credential).toEqual(expect.objectContaining({ kind, valid: true }));
      expect(seen.query.q).toBe('a b+c');
    });
  }

  it('signs a body with SigV4 (the stub recomputes signature and body hash)', async () => {
    const seen = await echo(await vault.request(fx.secrets.sigv4, HttpMethod.POST, `${fx.stub.apiBase}/items/{id}`, {
      pathParams: { id: 'a b' }, body: { name: 'widget', size: 3 }, headers: { 'x-custom': '  spaced   value ' },
    }));
    expect(seen.credential).toMatchObject({ kind: 'aws_sigv4', valid: true });
    expect(seen.path).toBe('/api/items/a%20b');
    expect(seen.body.length).toBe(JSON.stringify({ name: 'widget', size: 3 }).length);
  });

  it('a reader may only read through a secret (secret:write downgraded to secret:read)', async () => {
    await expect(readerVault.request(fx.secrets.bearer, HttpMethod.PUT, `${fx.stub.apiBase}/items/1`, { body: 'x' })).rejects.toBeInstanceOf(ScopeInsufficientError);
    expect(fx.stub.requests()).toHaveLength(0);
    expect((await readerVault.request(fx.secrets.bearer, HttpMethod.GET, `${fx.stub.apiBase}/items/1`)).status).toBe(200);
  });

  it('agent-key mode works with a managed secret too (token exchange of the sec_ id)', async () => {
    const agentVault = new AlterVault({ keyFile: fx.assistant.keyFile, baseUrl: fx.srv.url });
    const seen = await echo(await agentVault.request(fx.secrets.basic, HttpMethod.POST, `${fx.stub.apiBase}/items`, { body: 'hello' }));
    expect(seen.credential).toMatchObject({ kind: 'basic', valid: true });
    await agentVault.close();
  });
});

describe('streaming', () => {
  it('streams a 50 MB upload through with flat memory (server, stub and SDK in this process)', async () => {
    const chunk = Buffer.alloc(MiB, 7);
    async function* body() {
      for (let i = 0; i < 50; i++) yield chunk;
    }
    let seen: StubEcho | undefined;
    const growth = await liveMemoryGrowth(async () => {
      seen = await echo(await vault.request(fx.secrets.bearer, HttpMethod.PUT, `${fx.stub.apiBase}/upload`, { body: body(), headers: { 'content-type': 'application/octet-stream' } }));
    });
    const { createHash } = await import('node:crypto');
    const hash = createHash('sha256');
    for (let i = 0; i < 50; i++) hash.update(chunk);
    expect(seen!.body).toEqual({ length: 50 * MiB, sha256: hash.digest('hex') });
    expect(seen!.credential).toMatchObject({ kind: 'bearer', valid: true });
    expect(growth).toBeLessThan(25);
  });

  it('streams a 50 MB download back with flat memory', async () => {
    let bytes = 0;
    const growth = await liveMemoryGrowth(async () => {
      const response = await vault.request(fx.secrets.bearer, HttpMethod.GET, `${fx.stub.apiBase}/download`, { queryParams: { bytes: 50 * MiB } });
      expect(response.headers.get('content-length')).toBe(String(50 * MiB));
      for await (const part of response.body!) bytes += (part as Uint8Array).length;
    });
    expect(bytes).toBe(50 * MiB);
    expect(growth).toBeLessThan(25);
  });
});

describe('refused immediately', () => {
  it('a connection whose grant the provider ended: needs_reauth at once, then on every call without reaching the provider', async () => {
    await fx.upstream.revokeAllGrants();
    expect((await fetch(`${fx.stub.url}/_stub/revoke-tokens`, { method: 'POST' })).status).toBe(200);
    // the provider refuses the token (401); the refresh gets invalid_grant: the connection needs re-authorization
    const first = await vault.request(fx.connectionId, HttpMethod.GET, `${fx.stub.apiBase}/me`).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(NeedsReauthError);
    expect((first as NeedsReauthError).connectionId).toBe(fx.connectionId);
    expect(fx.stub.requests()).toHaveLength(1);
    const again = await vault.request(fx.connectionId, HttpMethod.GET, `${fx.stub.apiBase}/me`).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(NeedsReauthError);
    expect(fx.stub.requests()).toHaveLength(1);
    const agentVault = new AlterVault({ keyFile: fx.assistant.keyFile, baseUrl: fx.srv.url });
    await expect(agentVault.request(fx.connectionId, HttpMethod.GET, `${fx.stub.apiBase}/me`)).rejects.toThrow(/re-?auth/i);
    await agentVault.close();
  });
});

describe('headless Connect', () => {
  it('vault.connect() returns a new connection once the end user approves', async () => {
    const result = await vault.connect({
      endUserId: 'ts-user',
      providers: ['acme'],
      pollIntervalMs: 100,
      async onUrl(url) {
        // the end user's browser, following the link
        const token = new URL(url).searchParams.get('token')!;
        const start = await fetch(`${fx.srv.url}/connect/authorize?token=${token}&provider=acme&mode=headless`, { redirect: 'manual' });
        expect(start.status).toBe(302);
        const callback = await followAuthorization(start.headers.get('location')!);
        const done = await fetch(callback, { redirect: 'manual' });
        expect(done.status).toBeLessThan(400);
      },
    });
    expect(result.connectionId).toMatch(/^con_/);
    expect(result.provider).toBe('acme');
    const seen = await echo(await vault.request(result.connectionId, HttpMethod.GET, `${fx.stub.apiBase}/me`));
    expect(seen.credential).toMatchObject({ kind: 'oauth', valid: true });
  });
});
