import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { registerAgent, requestToken } from '../helpers/agents.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { startTestServer } from '../helpers/server.ts';

/** Alter's own token signing keys: private parts in the vault, never in the signing_keys table. */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function signingRows(): Promise<Array<{ kid: string; private_jwk: Record<string, unknown> }>> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query<{ kid: string; private_jwk: Record<string, unknown> }>('SELECT kid, private_jwk FROM signing_keys')).rows;
  } finally {
    await client.end();
  }
}

test('the table holds public keys only; tokens sign and verify; a legacy plaintext key is sealed at start', async () => {
  const srv = await startTestServer({ profile: 'production', databaseUrl: db.url });
  const rows = await signingRows();
  expect(rows).toHaveLength(2);
  for (const row of rows) {
    expect(row.private_jwk.d).toBeUndefined();
    expect(row.private_jwk.alter_vault).toBe(1);
    expect(await srv.app.vault.listVersions({ orgId: '_alter', appId: '_alter', purpose: 'signing_key', recordId: row.kid })).toHaveLength(1);
  }
  const agent = await registerAgent(srv);
  expect((await requestToken(srv, agent)).status).toBe(200);
  await srv.app.keys.rotate();
  expect((await requestToken(srv, agent)).status).toBe(200);
  expect((await signingRows()).every((r) => r.private_jwk.d === undefined)).toBe(true);

  // an older Alter stored the private key in the table: put one back in plaintext
  const current = srv.app.keys.current;
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query('UPDATE signing_keys SET private_jwk = $2::jsonb WHERE kid = $1', [current.kid, JSON.stringify(current.privateJwk)]);
  await client.end();
  await srv.close();

  const again = await startTestServer({ profile: 'production', databaseUrl: db.url });
  expect((await signingRows()).every((r) => r.private_jwk.d === undefined)).toBe(true);
  expect(again.app.keys.current.kid).toBe(current.kid);
  expect(again.app.keys.current.privateJwk.d).toBe(current.privateJwk.d);
  const agent2 = await registerAgent(again);
  expect((await requestToken(again, agent2)).status).toBe(200);
  await again.close();
});
