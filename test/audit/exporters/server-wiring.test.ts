import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { registerAgent, requestToken } from '../../helpers/agents.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';
import { startFakeWebhook } from './helpers/fake-webhook.ts';
import type { FakeSink } from './helpers/fake-sink.ts';

/** ALTER_AUDIT_EXPORTERS on a running server: a token issued is delivered, signed, to the SIEM. */
let srv: TestServer;
let sink: FakeSink;
let dir: string;
const secret = `whsec_${randomBytes(24).toString('base64')}`;

beforeAll(async () => {
  sink = await startFakeWebhook(secret);
  dir = await mkdtemp(join(tmpdir(), 'alter-exporters-'));
  const file = join(dir, 'exporters.yaml');
  await writeFile(file, `exporters:\n  - name: siem\n    type: webhook\n    url: ${sink.url}/hook\n    secret: \${SIEM_SECRET}\n    batch_size: 50\n`);
  process.env.SIEM_SECRET = secret;
  srv = await startTestServer({ profile: 'embedded', env: { ALTER_AUDIT_EXPORTERS: file } });
});
afterAll(async () => {
  await srv?.close();
  await sink?.close();
  delete process.env.SIEM_SECRET;
  await rm(dir, { recursive: true, force: true });
});

test('a token issued on the server reaches the webhook, signed, with nothing secret in it', async () => {
  const agent = await registerAgent(srv, { scopes: ['calendar:read'] });
  const res = await requestToken(srv, agent, { scope: 'calendar:read' });
  expect(res.status).toBe(200);
  const hmac = srv.app.audit.hmac.of(String(decodeJwt(res.body.access_token).jti));
  await vi.waitFor(() => {
    expect([...sink.dedup.values()].some((e) => JSON.stringify(e).includes(hmac))).toBe(true);
  }, { timeout: 30_000, interval: 200 });
  expect(sink.violations).toEqual([]);
  const everything = JSON.stringify(sink.requests);
  expect(everything).not.toContain(res.body.access_token);
  expect(everything).not.toContain(secret.slice('whsec_'.length));
});
