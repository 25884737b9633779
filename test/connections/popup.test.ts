import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession, oidcProviderYaml, setupApp, UPSTREAM_CLIENT, writeProviders } from '../helpers/connect.ts';
import { CONNECT_TEST_POLICY } from '../helpers/connect-policy.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startOidcUpstream, type OidcUpstream } from '../helpers/upstream/oidc-upstream.ts';

/**
 * Popup mode in a real browser (Debian's Chromium, driven by playwright-core): an app page on
 * its own origin loads Alter's popup.js, opens Connect in a popup, the end user picks the
 * provider, the upstream approves, and the app page receives the connection id by postMessage.
 */

const CHROMIUM = process.env.ALTER_CHROMIUM ?? '/usr/bin/chromium';
let srv: TestServer;
let upstream: OidcUpstream;
let browser: Browser;
let appKey: string;
let connectUrl = '';
const appPage = createServer((req, res) => {
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(`<!doctype html><html><body><button id="connect">Connect</button>
<script src="${srv.url}/connect/popup.js"></script>
<script>
document.getElementById('connect').addEventListener('click', function () {
  AlterConnect.open(${JSON.stringify(connectUrl)}).then(
    function (r) { document.body.dataset.result = JSON.stringify(r); },
    function (e) { document.body.dataset.error = e.code + ': ' + e.message; });
});
</script></body></html>`);
});

beforeAll(async () => {
  await new Promise<void>((resolve) => appPage.listen(0, '127.0.0.1', resolve));
  srv = await startTestServer({
    profile: 'embedded',
    async prepare(url) {
      upstream = await startOidcUpstream({ clients: [{ ...UPSTREAM_CLIENT, redirectUris: [`${url}/connect/callback`] }], scopes: ['calendar.read', 'calendar.write'] });
      const dir = await mkdtemp(join(tmpdir(), 'alter-popup-'));
      await writeProviders(join(dir, 'providers'), { acme: oidcProviderYaml(upstream) });
      await writeFile(join(dir, 'policy.yaml'), CONNECT_TEST_POLICY);
      return { ALTER_PROVIDERS_DIR: join(dir, 'providers'), ALTER_ALLOW_INSECURE_PROVIDER_URLS: 'true', ALTER_POLICY: join(dir, 'policy.yaml') };
    },
  });
  const appOrigin = `http://127.0.0.1:${(appPage.address() as AddressInfo).port}`;
  appKey = await setupApp(srv, { acme: { client_id: UPSTREAM_CLIENT.clientId, client_secret: UPSTREAM_CLIENT.clientSecret } }, [appOrigin]);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
  await upstream?.close();
  await new Promise((resolve) => appPage.close(resolve));
});

describe('Connect popup mode in headless Chromium', () => {
  it('resolves with the connection id in the opener, only from Alter and only to the allowed origin', async () => {
    const session = await createSession(srv, appKey, { end_user_id: 'popup-user', providers: ['acme'] });
    expect(session.status).toBe(201);
    connectUrl = session.body.connect_url;
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(appPage.address() as AddressInfo).port}/`);
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.click('#connect')]);
    await popup.waitForLoadState();
    await popup.click('button[data-provider="acme"]');
    try {
      await page.waitForFunction('document.body.dataset.result || document.body.dataset.error', undefined, { timeout: 20_000 });
    } catch (err) {
      throw new Error(`no result in the app page; the popup is at ${popup.isClosed() ? '(closed)' : `${popup.url()}: ${(await popup.content()).slice(0, 800)}`}`, { cause: err });
    }
    const error = await page.evaluate<string | undefined>('document.body.dataset.error');
    expect(error).toBeUndefined();
    const result = JSON.parse((await page.evaluate<string>('document.body.dataset.result'))) as { connectionId: string; provider: string };
    expect(result.provider).toBe('acme');
    expect(result.connectionId).toMatch(/^con_/);
    const shown = await request(srv.url).get(`/v1/connections/${result.connectionId}`).set('Authorization', `Bearer ${appKey}`);
    expect(shown.body).toMatchObject({ end_user_id: 'popup-user', status: 'active' });
    await page.close();
  }, 60_000);

  it('refuses to run the popup flow for an origin the app did not allow', async () => {
    const session = await createSession(srv, appKey, { end_user_id: 'popup-user-2', providers: ['acme'] });
    const token = new URL(session.body.connect_url).searchParams.get('token');
    const res = await request(srv.url).get('/connect/authorize').query({ token, provider: 'acme', mode: 'popup', origin: 'https://evil.example' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('may not open Connect in a popup');
  });
});
