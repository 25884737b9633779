import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { auditEvents } from '../helpers/audit.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** Managed secrets over the admin API, on PostgreSQL: values go in, never come out. */
let srv: TestServer;
const admin = (method: 'get' | 'post' | 'delete', path: string) => request(srv.url)[method](path).set('Authorization', `Bearer ${srv.adminKey}`);

const VALUES = {
  bearer: { token: 'TOKEN_bearer_9f8e7d6c5b4a' },
  api_key: { key: 'TOKEN_apikey_1a2b3c4d', header: 'X-Api-Key' },
  basic: { username: 'svc', password: 'TOKEN_basic_pw_77' },
  aws_sigv4: { access_key_id: 'AKIAIOSFODNN7EXAMPLE', secret_access_key: 'TOKEN_aws_wJalrXUtnFEMI', session_token: 'TOKEN_aws_session_x', region: 'eu-west-1', service: 's3' },
};

beforeAll(async () => {
  srv = await startTestServer({ profile: 'production' });
});
afterAll(async () => {
  await srv?.close();
});

describe('managed secrets', () => {
  const created: Record<string, string> = {};

  test.each(Object.entries(VALUES))('create a %s secret: metadata back, never the value', async (type, value) => {
    const res = await admin('post', '/v1/admin/secrets').send({ name: `my-${type.replace('_', '-')}`, type, value });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: expect.stringMatching(/^sec_[A-Za-z0-9_-]{24}$/), type, version: 1 });
    expect(JSON.stringify(res.body)).not.toMatch(/TOKEN_/);
    created[type] = res.body.id as string;
  });

  test('metadata holds the non-secret settings; list and show never show values', async () => {
    const list = await admin('get', '/v1/admin/secrets');
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toMatch(/TOKEN_/);
    expect(list.body.secrets.find((s: { id: string }) => s.id === created.api_key).metadata).toEqual({ header: 'X-Api-Key' });
    expect(list.body.secrets.find((s: { id: string }) => s.id === created.aws_sigv4).metadata).toEqual({ region: 'eu-west-1', service: 's3' });
    const one = await admin('get', `/v1/admin/secrets/${created.bearer}`);
    expect(one.body).toMatchObject({ id: created.bearer, name: 'my-bearer', type: 'bearer' });
    expect(JSON.stringify(one.body)).not.toMatch(/TOKEN_/);
  });

  test('rotate stores a new version; the proxy resolves the current one', async () => {
    const res = await admin('post', `/v1/admin/secrets/${created.bearer}/rotate`).send({ value: { token: 'TOKEN_bearer_rotated' } });
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(2);
    const { value } = await srv.app.secrets.resolve(srv.app.tenant, created.bearer!);
    expect(value).toEqual({ token: 'TOKEN_bearer_rotated' });
    expect((await auditEvents(srv, 'secret.rotated')).at(-1)).toMatchObject({ secret: created.bearer, version: 2, vault: 'aes' });
  });

  test('bad input: clear 4xx and nothing stored', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ name: 'x', type: 'password', value: {} }, /type/],
      [{ name: 'Bad Name', type: 'bearer', value: { token: 't' } }, /name/],
      [{ name: 'no-token', type: 'bearer', value: {} }, /value\.token/],
      [{ name: 'both', type: 'api_key', value: { key: 'k', header: 'X-A', query: 'k' } }, /header or query/],
      [{ name: 'aws', type: 'aws_sigv4', value: { ...VALUES.aws_sigv4, region: 'Mars 1' } }, /region/],
    ];
    for (const [body, message] of cases) {
      const res = await admin('post', '/v1/admin/secrets').send(body as object);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.error_description).toMatch(message);
    }
    const dup = await admin('post', '/v1/admin/secrets').send({ name: 'my-bearer', type: 'bearer', value: { token: 'TOKEN_dup' } });
    expect(dup.status).toBe(409);
    expect((await admin('post', `/v1/admin/secrets/${created.basic}/rotate`).send({ value: { token: 'x' } })).status).toBe(400);
    expect((await admin('get', '/v1/admin/secrets/sec_nope')).status).toBe(404);
    expect((await request(srv.url).get('/v1/admin/secrets')).status).toBe(401);
  });

  test('a refused create (duplicate name) leaves no value behind in the vault', async () => {
    const client = new pg.Client({ connectionString: srv.databaseUrl });
    await client.connect();
    try {
      const orphans = await client.query(
        "SELECT DISTINCT record_id FROM vault_records WHERE purpose = 'managed_secret' AND record_id NOT IN (SELECT id FROM managed_secrets)",
      );
      expect(orphans.rows).toEqual([]);
      const stored = await client.query("SELECT DISTINCT record_id FROM vault_records WHERE purpose = 'managed_secret'");
      expect(stored.rows).toHaveLength(Object.keys(created).length);
    } finally {
      await client.end();
    }
  });

  test('no secret value anywhere in the database', async () => {
    const client = new pg.Client({ connectionString: srv.databaseUrl });
    await client.connect();
    try {
      const tables = (await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows.map((r) => r.tablename);
      let dump = '';
      for (const table of tables) dump += JSON.stringify((await client.query(`SELECT * FROM "${table}"`)).rows);
      expect(dump).toContain(created.bearer);
      expect(dump).not.toMatch(/TOKEN_/);
      for (const v of Object.values(VALUES).flatMap((o) => Object.values(o))) {
        if (v.startsWith('TOKEN_')) expect(dump).not.toContain(Buffer.from(v).toString('base64').slice(0, 12));
      }
    } finally {
      await client.end();
    }
  });

  test('delete removes the value from the vault', async () => {
    expect((await admin('delete', `/v1/admin/secrets/${created.basic}`)).status).toBe(204);
    expect((await admin('get', `/v1/admin/secrets/${created.basic}`)).status).toBe(404);
    expect(await srv.app.vault.listVersions({ ...srv.app.tenant, recordId: created.basic!, purpose: 'managed_secret' })).toEqual([]);
  });
});
