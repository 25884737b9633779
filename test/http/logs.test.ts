import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import request from 'supertest';
import { expect, test } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { clientAssertion, registerAgent, requestToken, ASSERTION_TYPE } from '../helpers/agents.ts';
import type { TestServer } from '../helpers/server.ts';

test('logs are JSON lines and carry no admin key, assertion, token or secret value, even at trace level', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'alter-logs-'));
  const adminKey = 'log-test-admin-key-0123456789abcdefghijklmnop';
  const app = await createApp(loadConfig({ ALTER_ISSUER: url, ALTER_DATA_DIR: dataDir, ALTER_ADMIN_KEY: adminKey }), {
    log: pino({ level: 'trace' }, sink),
  });
  server.on('request', app.callback);
  const srv = { url, adminKey, app } as unknown as TestServer;
  try {
    const agent = await registerAgent(srv);
    const ok = await requestToken(srv, agent);
    expect(ok.status).toBe(200);
    const assertion = await clientAssertion(agent, url);
    const refused = await request(url).post('/v1/token').type('form')
      .send({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion, scope: 'not:allowed' });
    expect(refused.status).toBe(400);
    await request(url).post('/v1/introspect').type('form')
      .send({ token: ok.body.access_token, client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(agent, url) });
    await request(url).get('/v1/admin/agents').set('Authorization', 'Bearer wrong-admin-key-value');
    // managed secrets: create, rotate, a refused create, and a KEK rotation with re-wrap
    const secretValue = 'LOGCHECK_secret_value_7e1f';
    const created = await request(url).post('/v1/admin/secrets').set('Authorization', `Bearer ${adminKey}`).send({ name: 'logged', type: 'bearer', value: { token: secretValue } });
    expect(created.status).toBe(201);
    await request(url).post(`/v1/admin/secrets/${created.body.id}/rotate`).set('Authorization', `Bearer ${adminKey}`).send({ value: { token: `${secretValue}_2` } });
    await request(url).post('/v1/admin/secrets').set('Authorization', `Bearer ${adminKey}`).send({ name: 'Bad Name', type: 'bearer', value: { token: `${secretValue}_3` } });
    await request(url).post('/v1/admin/keys/rotate-kek?wait=true').set('Authorization', `Bearer ${adminKey}`);

    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    const all = lines.join('\n');
    expect(all).toContain('"msg":"request"');
    expect(all).toContain('oauth request refused');
    expect(all).not.toContain('LOGCHECK_');
    expect(all).toContain('vault data keys re-wrapped');
    for (const secret of [adminKey, 'wrong-admin-key-value', ok.body.access_token, assertion, ok.body.access_token.split('.')[2]]) {
      expect(all).not.toContain(secret);
    }
  } finally {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
