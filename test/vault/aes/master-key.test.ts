import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createApp } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config/load-config.ts';
import { loadMasterKey } from '../../../src/vault/master-key.ts';
import { startTestServer } from '../../helpers/server.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alter-master-key-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('embedded: generated once into the data directory (0600), then reused, never overwritten', async () => {
  const path = join(dir, 'gen', 'master.key');
  const first = await loadMasterKey({ source: 'file', path, generate: true });
  expect(first.generatedFile).toBe(path);
  expect((await stat(path)).mode & 0o777).toBe(0o600);
  const again = await loadMasterKey({ source: 'file', path, generate: true });
  expect(again.generatedFile).toBeUndefined();
  expect(again.key.equals(first.key)).toBe(true);
  expect(Buffer.from((await readFile(path, 'utf8')).trim(), 'base64').equals(first.key)).toBe(true);
  await expect(loadMasterKey({ source: 'file', path: join(dir, 'missing.key'), generate: false })).rejects.toThrow(/does not exist/);
});

test('a key file that does not hold 32 bytes stops start-up, naming the file, and is left as it is', async () => {
  const path = join(dir, 'short.key');
  await writeFile(path, 'c2hvcnQ=\n');
  await expect(loadMasterKey({ source: 'file', path, generate: true })).rejects.toMatchObject({
    name: 'ConfigError', setting: 'ALTER_MASTER_KEY_FILE', message: expect.stringContaining(`${path} must hold 32 random bytes, base64 or hex`),
  });
  expect(await readFile(path, 'utf8')).toBe('c2hvcnQ=\n');
});

test('a node started with another master key refuses to start, saying why', async () => {
  const dataDir = join(dir, 'node');
  const key = randomBytes(32).toString('base64');
  const srv = await startTestServer({ profile: 'embedded', dataDir, env: { ALTER_MASTER_KEY: key } });
  await srv.app.vault.put({ orgId: srv.app.tenant.orgId, appId: srv.app.tenant.appId, recordId: 'sec_1', purpose: 'managed_secret' }, Buffer.from('x'));
  await srv.close();
  const config = loadConfig({ ALTER_DATA_DIR: dataDir, ALTER_MASTER_KEY: randomBytes(32).toString('base64'), ALTER_LOG_LEVEL: 'silent', PORT: '0', ALTER_ISSUER: 'http://127.0.0.1:1' });
  await expect(createApp(config)).rejects.toMatchObject({ code: 'ERR_MASTER_KEY_MISMATCH', message: expect.stringMatching(/not the key this vault was created with/) });
  // with the right key it starts and the secret is there
  const back = await startTestServer({ profile: 'embedded', dataDir, env: { ALTER_MASTER_KEY: key } });
  expect(Buffer.from(await back.app.vault.get({ orgId: back.app.tenant.orgId, appId: back.app.tenant.appId, recordId: 'sec_1', purpose: 'managed_secret' })).toString()).toBe('x');
  await back.close();
});
