import { connect, createServer, type Server, type Socket } from 'node:net';
import request from 'supertest';
import { afterAll, expect, test } from 'vitest';
import { registerAgent, requestToken } from '../helpers/agents.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** A TCP relay to PostgreSQL that the test can cut, as a network failure or a database crash would. */
class Relay {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  port = 0;

  constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  async open(): Promise<void> {
    this.#server = createServer((client) => {
      const upstream = connect(this.#target);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.#server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
  }

  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server?.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await closed;
  }
}

let srv: TestServer | undefined;
let relay: Relay | undefined;
let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
afterAll(async () => {
  await relay?.cut().catch(() => {});
  await srv?.close();
  await db?.drop();
});

test('PostgreSQL down: token and admin requests get 503 temporarily_unavailable, then recover', async () => {
  db = await createTestDatabase();
  const url = new URL(db.url);
  relay = new Relay({ host: url.hostname, port: Number(url.port || 5432) });
  await relay.open();
  url.host = `127.0.0.1:${relay.port}`;
  srv = await startTestServer({ profile: 'production', databaseUrl: url.toString() });
  const agent = await registerAgent(srv);
  expect((await requestToken(srv, agent)).status).toBe(200);

  await relay.cut();
  const token = await requestToken(srv, agent);
  expect(token.status).toBe(503);
  expect(token.headers['retry-after']).toBe('5');
  expect(token.body).toEqual({ error: 'temporarily_unavailable', error_description: 'the database is not answering; retry later' });
  const admin = await request(srv.url).get('/v1/admin/agents').set('Authorization', `Bearer ${srv.adminKey}`);
  expect(admin.status).toBe(503);
  expect(admin.body.error).toBe('temporarily_unavailable');
  const ready = await request(srv.url).get('/readyz');
  expect(ready.status).toBe(503);
  expect(ready.body.checks.store).toBe('unavailable');

  await relay.open();
  let status = 0;
  for (let i = 0; i < 20 && status !== 200; i++) {
    status = (await requestToken(srv, agent)).status;
    if (status !== 200) await new Promise((r) => setTimeout(r, 250));
  }
  expect(status).toBe(200);
}, 60_000);
