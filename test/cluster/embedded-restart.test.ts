import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, type JSONWebKeySet } from 'jose';
import request from 'supertest';
import { afterAll, describe, expect, test } from 'vitest';
import { ASSERTION_TYPE, clientAssertion, registerAgent, type TestAgent } from '../helpers/agents.ts';
import { freePort, runServerToExit, startServerProcess, waitForStdout, type ServerProcess } from '../helpers/process.ts';
import type { TestServer } from '../helpers/server.ts';

/**
 * The embedded profile as a user first meets it: `node src/main.ts` with nothing configured but
 * a data directory, then a restart on the same directory. Everything must survive the restart.
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

describe('embedded profile: one process, restarted on the same data directory', () => {
  test('admin key file, banner, agents, signing keys and revocations survive a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'alter-embedded-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    // the default issuer, as the banner shows it
    const issuer = `http://localhost:${port}`;
    const env = { ALTER_DATA_DIR: dataDir, ALTER_HOST: '127.0.0.1', ALTER_LOG_LEVEL: 'warn' };
    const keyFile = join(dataDir, 'admin.key');

    const start = async (): Promise<ServerProcess> => {
      const proc = await startServerProcess(env, { port, timeoutMs: 30_000 });
      cleanups.push(() => proc.stop());
      return proc;
    };
    const asTestServer = (proc: ServerProcess, adminKey: string) => ({ url: proc.url, adminKey }) as unknown as TestServer;
    const post = async (proc: ServerProcess, path: string, agent: TestAgent, form: Record<string, string>) =>
      request(proc.url)
        .post(path)
        .type('form')
        .send({ client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(agent, issuer), ...form });
    const token = async (proc: ServerProcess, agent: TestAgent) => {
      const res = await post(proc, '/v1/token', agent, { grant_type: 'client_credentials' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.access_token as string;
    };
    const introspect = async (proc: ServerProcess, agent: TestAgent, t: string) => {
      const res = await post(proc, '/v1/introspect', agent, { token: t });
      expect(res.status).toBe(200);
      return res.body as Record<string, unknown>;
    };
    const kids = async (proc: ServerProcess) => {
      const res = await request(proc.url).get('/v1/jwks');
      expect(res.status).toBe(200);
      return (res.body as JSONWebKeySet).keys.map((k) => k.kid!).sort();
    };

    // ---- first start
    const first = await start();

    // a generated admin key, readable by its owner only
    const info = await stat(keyFile);
    expect(info.isFile()).toBe(true);
    expect(info.mode & 0o777).toBe(0o600);
    const adminKey = (await readFile(keyFile, 'utf8')).trim();
    expect(adminKey).toMatch(/^alter_admin_[A-Za-z0-9_-]{43}$/);

    // the banner: where it runs, where the admin key is, what to do next
    const banner = await waitForStdout(first, 'npx alter token');
    expect(banner).toContain(`Alter is running (embedded profile) at http://localhost:${port}`);
    expect(banner).toContain(`issuer:     ${issuer}`);
    expect(banner).toContain(`admin key:  in ${keyFile}`);
    expect(banner).toContain('Next: register an agent and get a token:');
    expect(banner).toContain('npx alter agent create --name my-bot --class data-reader --key-out ./my-bot.jwk.json');
    expect(banner).not.toContain(adminKey); // the key itself is never printed
    expect(first.stderr).not.toContain(adminKey);
    // the printed URL answers
    const viaBannerUrl = await fetch(`http://localhost:${port}/healthz`);
    expect(viaBannerUrl.status).toBe(200);

    const agent = await registerAgent(asTestServer(first, adminKey), { name: 'restart-bot', scopes: ['repo:read'] });
    const revokedToken = await token(first, agent);
    const keptToken = await token(first, agent);
    expect(decodeJwt(revokedToken)).toMatchObject({ iss: issuer, client_id: agent.clientId });
    expect((await post(first, '/v1/revoke', agent, { token: revokedToken })).status).toBe(200);
    expect(await introspect(first, agent, revokedToken)).toEqual({ active: false });
    expect(await introspect(first, agent, keptToken)).toMatchObject({ active: true, client_id: agent.clientId });
    const kidsBefore = await kids(first);
    expect(kidsBefore).toHaveLength(2);

    const exit = await first.stop();
    expect(exit, first.diagnostics()).toEqual({ code: 0, signal: null });

    // ---- second start on the same data directory (and port, so the issuer is the same)
    const second = await start();
    const banner2 = await waitForStdout(second, 'npx alter token');
    expect(banner2).toContain(`admin key:  in ${keyFile}`);
    expect((await readFile(keyFile, 'utf8')).trim()).toBe(adminKey);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);

    const shown = await request(second.url).get(`/v1/admin/agents/${agent.clientId}`).set('Authorization', `Bearer ${adminKey}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ client_id: agent.clientId, name: 'restart-bot', status: 'active', scopes: ['repo:read'] });
    expect(await kids(second)).toEqual(kidsBefore);

    expect(await introspect(second, agent, revokedToken)).toEqual({ active: false });
    expect(await introspect(second, agent, keptToken)).toMatchObject({ active: true, client_id: agent.clientId });
    const fresh = await token(second, agent);
    expect(await introspect(second, agent, fresh)).toMatchObject({ active: true, client_id: agent.clientId, iss: issuer });

    const exit2 = await second.stop();
    expect(exit2, second.diagnostics()).toEqual({ code: 0, signal: null });
  }, 60_000);
});

describe('embedded profile: one data directory, one process', () => {
  test('a second process on a data directory in use is refused, and nothing is lost', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'alter-embedded-twice-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const env = { ALTER_DATA_DIR: dataDir, ALTER_HOST: '127.0.0.1', ALTER_LOG_LEVEL: 'warn' };
    const first = await startServerProcess(env);
    cleanups.push(() => first.stop());
    const adminKey = (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim();
    const asTestServer = (proc: ServerProcess) => ({ url: proc.url, adminKey }) as unknown as TestServer;

    // PGlite is a single-process database: a second server on the same directory is refused.
    const second = await runServerToExit(env);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`the data directory ${dataDir} is in use by another Alter process (pid `);

    const registered = [await registerAgent(asTestServer(first), { name: 'on-first' })];
    await first.stop();

    // whatever was acknowledged with 201 is still there after a restart
    const third = await startServerProcess(env);
    cleanups.push(() => third.stop());
    for (const agent of registered) {
      const res = await request(third.url).get(`/v1/admin/agents/${agent.clientId}`).set('Authorization', `Bearer ${adminKey}`);
      expect(res.status, `agent ${agent.clientId} was lost: ${JSON.stringify(res.body)}`).toBe(200);
    }
    await third.stop();
  }, 60_000);
});
