import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretIntegrityError, VaultUnavailable } from '../../../src/shared/errors.ts';
import { TransitKekProvider } from '../../../src/vault/hashicorp/transit-kek.ts';
import { VaultHttp } from '../../../src/vault/hashicorp/vault-http.ts';
import { FakeVault } from './fake-vault.ts';

const context = (s: string): Buffer => Buffer.from(`alter-vault/v1\norg_a\napp_a\nmanaged_secret\n${s}\n1`);

describe('HashiCorp Vault Transit KEK provider', () => {
  let fake: FakeVault;
  beforeAll(async () => {
    fake = await FakeVault.start();
  });
  afterAll(async () => {
    await fake.close();
  });
  const provider = (key = 'alter-kek'): TransitKekProvider =>
    new TransitKekProvider({ vault: new VaultHttp({ address: fake.url, token: fake.token, backoffMs: 5 }), key });

  it('creates a derived key on first use; datakey and unwrap round-trip', async () => {
    const kek = provider();
    expect(kek.kind).toBe('transit');
    const key = await kek.generateDataKey(context('sec_1'));
    expect(key.plaintext).toHaveLength(32);
    expect(key.wrapped).toMatch(/^vault:v1:/);
    expect(key.kekVersion).toBe('vault:v1');
    const create = fake.requests.find((r) => r.method === 'POST' && r.url === '/v1/transit/keys/alter-kek');
    expect(JSON.parse(create!.body)).toEqual({ type: 'aes256-gcm96', derived: true });
    expect((await kek.unwrap(key.wrapped, context('sec_1'))).equals(key.plaintext)).toBe(true);
    expect(await kek.current()).toBe('vault:v1');
  });

  it('a wrong context, a tampered or foreign ciphertext is a SecretIntegrityError', async () => {
    const kek = provider();
    const key = await kek.generateDataKey(context('sec_2'));
    await expect(kek.unwrap(key.wrapped, context('sec_3'))).rejects.toBeInstanceOf(SecretIntegrityError);
    await expect(kek.rewrap(key.wrapped, context('sec_3'))).rejects.toBeInstanceOf(SecretIntegrityError);
    const body = Buffer.from(key.wrapped.slice('vault:v1:'.length), 'base64');
    body[20]! ^= 1;
    await expect(kek.unwrap(`vault:v1:${body.toString('base64')}`, context('sec_2'))).rejects.toBeInstanceOf(SecretIntegrityError);
    await expect(kek.unwrap('alter:v1:AAAA', context('sec_2'))).rejects.toBeInstanceOf(SecretIntegrityError);
    await expect(kek.unwrap('vault:v9:AAAA', context('sec_2'))).rejects.toBeInstanceOf(SecretIntegrityError);
  });

  it('rotate, then rewrap moves to the new version and still unwraps (old ones too)', async () => {
    const kek = provider('rotating');
    const key = await kek.generateDataKey(context('sec_4'));
    await kek.rotate();
    expect(await kek.current()).toBe('vault:v2');
    const moved = await kek.rewrap(key.wrapped, context('sec_4'));
    expect(moved.kekVersion).toBe('vault:v2');
    expect(moved.wrapped).toMatch(/^vault:v2:/);
    expect((await kek.unwrap(moved.wrapped, context('sec_4'))).equals(key.plaintext)).toBe(true);
    expect((await kek.unwrap(key.wrapped, context('sec_4'))).equals(key.plaintext)).toBe(true);
    expect((await kek.generateDataKey(context('sec_5'))).kekVersion).toBe('vault:v2');
  });

  it('the plaintext data key crosses the wire only in the datakey response', async () => {
    fake.requests.length = 0;
    const kek = provider('no-leak');
    const key = await kek.generateDataKey(context('sec_6'));
    await kek.unwrap(key.wrapped, context('sec_6'));
    await kek.rotate();
    await kek.rewrap(key.wrapped, context('sec_6'));
    const forms = [key.plaintext.toString('base64'), key.plaintext.toString('hex'), key.plaintext.toString('base64url')];
    for (const r of fake.requests) {
      for (const form of forms) expect(`${r.url} ${r.body}`).not.toContain(form);
    }
    const carrying = fake.requests.filter((r) => r.response.includes(forms[0]!)).map((r) => r.url);
    expect(carrying).toEqual(['/v1/transit/datakey/plaintext/no-leak', '/v1/transit/decrypt/no-leak']);
  });

  it('refuses an existing key that is not derived (the context would be ignored)', async () => {
    const http = new VaultHttp({ address: fake.url, token: fake.token });
    await http.request('POST', 'transit/keys/plain', { type: 'aes256-gcm96' });
    const err = await provider('plain').generateDataKey(context('sec_7')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultUnavailable);
    expect((err as Error).message).toMatch(/not a derived key/);
  });

  it('a Transit key that is gone is VaultUnavailable (the job must stop), not an integrity failure', async () => {
    const key = await provider().generateDataKey(context('sec_9'));
    const gone = provider('never-created');
    const unwrap = await gone.unwrap(key.wrapped, context('sec_9')).catch((e: unknown) => e);
    expect(unwrap).toBeInstanceOf(VaultUnavailable);
    expect((unwrap as Error).message).toMatch(/Transit decrypt rejected \(HTTP 400: encryption key not found\)/);
    const rewrap = await gone.rewrap(key.wrapped, context('sec_9')).catch((e: unknown) => e);
    expect(rewrap).toBeInstanceOf(VaultUnavailable);
    expect((rewrap as Error).message).toMatch(/Transit rewrap rejected/);
  });

  it('Transit down or denying access is VaultUnavailable', async () => {
    const kek = provider();
    const key = await kek.generateDataKey(context('sec_8'));
    fake.mode = 'down';
    try {
      await expect(kek.unwrap(key.wrapped, context('sec_8'))).rejects.toBeInstanceOf(VaultUnavailable);
    } finally {
      fake.mode = 'ok';
    }
    const denied = new TransitKekProvider({ vault: new VaultHttp({ address: fake.url, token: 'hvs.nope' }) });
    const err = await denied.unwrap(key.wrapped, context('sec_8')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultUnavailable);
    expect((err as Error).message).toMatch(/access denied/);
  });
});
