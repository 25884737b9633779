import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLocalBus } from '../../src/adapters/bus/local-bus.ts';
import { openPglite } from '../../src/adapters/store/pglite.ts';
import { createSqlStore } from '../../src/adapters/store/sql-store.ts';
import { AccessTokenSigner } from '../../src/keys/access-token-signer.ts';
import { publicJwk } from '../../src/keys/generate-signing-key.ts';
import { SigningKeyService } from '../../src/keys/signing-key-service.ts';
import type { Store } from '../../src/ports/store.ts';
import { AccessTokenVerifier } from '../../src/provider/access-token-verifier.ts';
import { createLogger } from '../../src/shared/logger.ts';

const ISSUER = 'https://alter.test';
const content = { sub: 'user-1', aud: 'github', client_id: 'agt_1', scope: 'repo:read', act: { sub: 'agt_1' } };

describe.each(['EdDSA', 'ES256'] as const)('access tokens signed with node:crypto (%s)', (alg) => {
  let store: Store;
  let keys: SigningKeyService;
  let signer: AccessTokenSigner;
  let verifier: AccessTokenVerifier;

  beforeAll(async () => {
    store = createSqlStore(await openPglite());
    await store.migrate();
    keys = new SigningKeyService({ store: store.signingKeys, bus: createLocalBus(), log: createLogger('silent'), alg, retentionSeconds: 86_400 });
    await keys.start();
    signer = new AccessTokenSigner({ issuer: ISSUER, keys });
    verifier = new AccessTokenVerifier({ issuer: ISSUER, keys });
  });
  afterAll(async () => {
    await keys?.stop();
    await store?.close();
  });

  test('is an RFC 9068 JWT that jose verifies against the published key', async () => {
    const { token, jti, iat, exp } = signer.sign(content, 900);
    expect(decodeProtectedHeader(token)).toEqual({ alg, typ: 'at+jwt', kid: keys.current.kid });
    const key = await importJWK(publicJwk(keys.current.privateJwk), alg);
    const { payload } = await jwtVerify(token, key, { issuer: ISSUER, typ: 'at+jwt', algorithms: [alg] });
    expect(payload).toEqual({ ...content, iss: ISSUER, iat, exp, jti });
    expect(exp - iat).toBe(900);
    expect(await verifier.verify(token)).toMatchObject({ jti, act: { sub: 'agt_1' } });
  });

  test('notAfter caps exp whatever second the token is signed in (a child never outlives its parent)', () => {
    const parentExp = Math.floor(Date.now() / 1000) + 100;
    expect(signer.sign(content, 900, parentExp).exp).toBe(parentExp);
    const shorter = signer.sign(content, 50, parentExp);
    expect(shorter.exp - shorter.iat).toBe(50);
  });

  test('a tampered token does not verify, even after the genuine one was cached', async () => {
    const { token } = signer.sign(content, 900);
    expect(await verifier.verify(token)).toBeDefined();
    const [h, p, s] = token.split('.');
    const widened = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), scope: 'repo:write' })).toString('base64url');
    expect(await verifier.verify(`${h}.${widened}.${s}`)).toBeUndefined();
    expect(await verifier.verify(`${h}.${p}.${s!.slice(0, -4)}AAAA`)).toBeUndefined();
  });

  test('a remembered token is forgotten when it expires', async () => {
    const { token } = signer.sign(content, 1);
    expect(await verifier.verify(token)).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect(await verifier.verify(token)).toBeUndefined();
  });

  test('after a rotation new tokens use the new key and old ones still verify', async () => {
    const before = signer.sign(content, 900).token;
    await keys.rotate();
    const after = signer.sign(content, 900).token;
    expect(decodeProtectedHeader(after).kid).toBe(keys.current.kid);
    expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);
    expect(await verifier.verify(before)).toBeDefined();
    expect(await verifier.verify(after)).toBeDefined();
  });
});
