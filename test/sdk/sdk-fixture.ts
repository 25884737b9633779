// Everything the SDK tests run against: a real Alter node (production profile), a real upstream
// OAuth server (a second oidc-provider), the provider API stub, an app with an API key, two
// agents with key files (class assistant and reader), an OAuth connection made through Connect,
// and one managed secret of each type — all bound to the stub's API base URL.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK } from 'jose';
import request from 'supertest';
import { expect } from 'vitest';
import { registerAgent, type TestAgent } from '../helpers/agents.ts';
import { connect, oidcProviderYaml, setupApp, UPSTREAM_CLIENT, writeProviders } from '../helpers/connect.ts';
import { CONNECT_TEST_POLICY } from '../helpers/connect-policy.ts';
import { startTestServer, type Profile, type TestServer } from '../helpers/server.ts';
import { startApiStub, type ApiStub, type StubSecrets } from '../helpers/upstream/api-stub.ts';
import { startOidcUpstream, type OidcUpstream } from '../helpers/upstream/oidc-upstream.ts';

/** Managed secrets are used under this policy provider name. */
export const SECRET_PROVIDER = 'stubapi';

export const STUB_SECRETS: StubSecrets = {
  bearer: 'stub-bearer-token-0123456789',
  apiKeyHeader: { header: 'X-Stub-Key', key: 'stub-header-key-abcdef' },
  apiKeyQuery: { query: 'api_key', key: 'stub-query-key-123456' },
  basic: { username: 'svc-user', password: 'svc-pass-9876' },
  sigv4: { accessKeyId: 'AKIASTUBEXAMPLE0001', secretAccessKey: 'stub/secret+access/key0123456789', region: 'eu-west-1', service: 'execute-api' },
};

/** The connection policy plus the secrets' provider (readers are downgraded to `secret:read` there too). */
export const SDK_TEST_POLICY = CONNECT_TEST_POLICY.replace('providers:\n', `providers:\n  ${SECRET_PROVIDER}: {}\n`);

export interface FixtureAgent extends TestAgent {
  name: string;
  keyFile: string;
}

export interface SdkFixture {
  srv: TestServer;
  upstream: OidcUpstream;
  stub: ApiStub;
  apiKey: string;
  assistant: FixtureAgent;
  reader: FixtureAgent;
  connectionId: string;
  secrets: { bearer: string; apiKeyHeader: string; apiKeyQuery: string; basic: string; sigv4: string };
  /** A URL on a host no grant may be sent to. */
  foreignUrl: string;
  /** The same facts as environment variables (for the Python SDK's tests). */
  env(): Record<string, string>;
  close(): Promise<void>;
}

async function agentWithKeyFile(srv: TestServer, dir: string, name: string, agentClass: string): Promise<FixtureAgent> {
  const agent = await registerAgent(srv, { name, class: agentClass });
  const keyFile = join(dir, `${name}.jwk.json`);
  const jwk = { ...(await exportJWK(agent.privateKey)), kid: agent.kid, alg: 'EdDSA', use: 'sig', client_id: agent.clientId, issuer: srv.url };
  await writeFile(keyFile, JSON.stringify(jwk), { mode: 0o600 });
  return { ...agent, name, keyFile };
}

export async function startSdkFixture(options: { profile?: Profile; env?: Record<string, string> } = {}): Promise<SdkFixture> {
  let upstream!: OidcUpstream;
  let stub!: ApiStub;
  const dir = await mkdtemp(join(tmpdir(), 'alter-sdk-'));
  const srv = await startTestServer({
    profile: options.profile ?? 'production',
    ...(options.env ? { env: options.env } : {}),
    async prepare(url) {
      upstream = await startOidcUpstream({ clients: [{ ...UPSTREAM_CLIENT, redirectUris: [`${url}/connect/callback`] }], scopes: ['calendar.read', 'calendar.write'] });
      stub = await startApiStub({
        secrets: STUB_SECRETS,
        validateOAuth: async (token) => (await upstream.introspect(token)).active,
        async revokeTokens(tokens) {
          const basic = Buffer.from(`${UPSTREAM_CLIENT.clientId}:${UPSTREAM_CLIENT.clientSecret}`).toString('base64');
          for (const token of tokens) {
            await fetch(upstream.accessTokenRevocationUrl, { method: 'POST', headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }) });
          }
        },
      });
      const acme = oidcProviderYaml(upstream).replace(`base_urls: ["${upstream.issuer}/api"]`, `base_urls: ["${stub.apiBase}"]`);
      await writeProviders(join(dir, 'providers'), { acme });
      await writeFile(join(dir, 'policy.yaml'), SDK_TEST_POLICY);
      return { ALTER_PROVIDERS_DIR: join(dir, 'providers'), ALTER_ALLOW_INSECURE_PROVIDER_URLS: 'true', ALTER_POLICY: join(dir, 'policy.yaml') };
    },
  });
  try {
    const client = { client_id: UPSTREAM_CLIENT.clientId, client_secret: UPSTREAM_CLIENT.clientSecret };
    const apiKey = await setupApp(srv, { acme: { ...client, scopes: ['calendar:read', 'calendar:write'] } });
    const assistant = await agentWithKeyFile(srv, dir, 'calendar-agent', 'assistant');
    const reader = await agentWithKeyFile(srv, dir, 'reader-agent', 'reader');
    const connectionId = await connect(srv, apiKey, 'acme', 'user-1');
    const createSecret = async (name: string, type: string, value: Record<string, unknown>): Promise<string> => {
      const res = await request(srv.url).post('/v1/admin/secrets').set('Authorization', `Bearer ${srv.adminKey}`)
        .send({ name, type, value, provider: SECRET_PROVIDER, base_urls: [stub.apiBase] });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id as string;
    };
    const s = STUB_SECRETS;
    const secrets = {
      bearer: await createSecret('stub-bearer', 'bearer', { token: s.bearer }),
      apiKeyHeader: await createSecret('stub-key-header', 'api_key', { key: s.apiKeyHeader.key, header: s.apiKeyHeader.header }),
      apiKeyQuery: await createSecret('stub-key-query', 'api_key', { key: s.apiKeyQuery.key, query: s.apiKeyQuery.query }),
      basic: await createSecret('stub-basic', 'basic', { username: s.basic.username, password: s.basic.password }),
      sigv4: await createSecret('stub-sigv4', 'aws_sigv4', {
        access_key_id: s.sigv4.accessKeyId, secret_access_key: s.sigv4.secretAccessKey, region: s.sigv4.region, service: s.sigv4.service,
      }),
    };
    const foreignUrl = `http://127.0.0.2:${new URL(stub.url).port}/api/steal`;
    return {
      srv, upstream, stub, apiKey, assistant, reader, connectionId, secrets, foreignUrl,
      env: () => ({
        ALTER_BASE_URL: srv.url,
        ALTER_API_KEY: apiKey,
        ALTER_ASSISTANT: assistant.name,
        ALTER_READER: reader.name,
        ALTER_ASSISTANT_KEY_FILE: assistant.keyFile,
        ALTER_READER_KEY_FILE: reader.keyFile,
        ALTER_CONNECTION_ID: connectionId,
        ALTER_API_BASE: stub.apiBase,
        ALTER_FOREIGN_URL: foreignUrl,
        ALTER_STUB_URL: stub.url,
        ALTER_SECRET_BEARER: secrets.bearer,
        ALTER_SECRET_API_KEY_HEADER: secrets.apiKeyHeader,
        ALTER_SECRET_API_KEY_QUERY: secrets.apiKeyQuery,
        ALTER_SECRET_BASIC: secrets.basic,
        ALTER_SECRET_SIGV4: secrets.sigv4,
        ALTER_CONNECT_PROVIDER: 'acme',
      }),
      async close() {
        await srv.close();
        await stub.close();
        await upstream.close();
      },
    };
  } catch (err) {
    await srv.close().catch(() => {});
    await stub?.close().catch(() => {});
    await upstream?.close().catch(() => {});
    throw err;
  }
}
