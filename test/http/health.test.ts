import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import request from 'supertest';
import { afterAll, describe, expect, test } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { startTestServer, TEST_MASTER_KEY } from '../helpers/server.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A private redis-server, so the test can take it down for real. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(true));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
    });
    if (up) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('redis-server did not start');
}

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('health and readiness', () => {
  test('/healthz and /readyz on the embedded profile; request ids are echoed', async () => {
    const srv = await startTestServer({ profile: 'embedded' });
    cleanups.push(() => srv.close());
    expect((await request(srv.url).get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await request(srv.url).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { store: 'ok' } });
    const res = await request(srv.url).get('/healthz').set('X-Request-Id', 'abc-123');
    expect(res.headers['x-request-id']).toBe('abc-123');
  });

  test('/readyz answers 503 naming Redis when Redis goes down, 200 when it is back', async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    const srv = await startTestServer({ profile: 'production', env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    cleanups.push(async () => {
      await srv.close();
      redis.kill('SIGKILL');
    });
    expect((await request(srv.url).get('/readyz')).body).toEqual({ status: 'ready', checks: { store: 'ok', redis: 'ok' } });

    redis.kill('SIGKILL');
    await new Promise((r) => redis.once('exit', r));
    const down = await request(srv.url).get('/readyz');
    expect(down.status).toBe(503);
    expect(down.body).toEqual({ status: 'not_ready', checks: { store: 'ok', redis: 'unavailable' } });
    expect((await request(srv.url).get('/healthz')).status).toBe(200);

    redis = await startRedis(port);
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = (await request(srv.url).get('/readyz')).status;
    }
    expect(status).toBe(200);
  });

  test('start-up fails with a clear error when PostgreSQL cannot be reached', async () => {
    const port = await freePort();
    const config = loadConfig({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/none`, ALTER_LOG_LEVEL: 'silent', ALTER_DATA_DIR: '/tmp/alter-unused', ALTER_MASTER_KEY: TEST_MASTER_KEY });
    const failure = await createApp(config).then(
      () => undefined,
      (err: unknown) => err as Error & { code?: string },
    );
    expect(failure?.code).toBe('ERR_STORE_UNAVAILABLE');
    expect(failure?.message).toMatch(/database is not answering/);
    expect(String((failure?.cause as Error | undefined)?.message)).toMatch(/ECONNREFUSED/);
  });
});

describe('OAuth 2.1 hygiene', () => {
  test('the interaction endpoint refuses interactive sign-in', async () => {
    const srv = await startTestServer({ profile: 'embedded' });
    cleanups.push(() => srv.close());
    const res = await request(srv.url).get('/v1/interaction/abc');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    const authorize = await request(srv.url).get('/v1/authorize').query({ client_id: 'agt_x', response_type: 'token', redirect_uri: 'https://x.example/cb' });
    expect(authorize.status).toBe(400);
    const unknown = await request(srv.url).get('/v1/nowhere');
    expect(unknown.status).toBe(404);
  });
});
