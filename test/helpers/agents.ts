import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import request from 'supertest';
import type { TestServer } from './server.ts';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface TestAgent {
  clientId: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  kid: string;
}

/** A fresh Ed25519 key pair, registered as a new agent through the admin API. */
export async function registerAgent(
  srv: TestServer,
  body: { name?: string; class?: string; scopes?: string[] } = {},
): Promise<TestAgent> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
  const res = await request(srv.url)
    .post('/v1/admin/agents')
    .set('Authorization', `Bearer ${srv.adminKey}`)
    .send({ name: body.name ?? `bot-${randomUUID().slice(0, 8)}`, class: body.class ?? 'data-reader', scopes: body.scopes ?? [], jwks: { keys: [publicJwk] } });
  if (res.status !== 201) throw new Error(`agent registration failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { clientId: res.body.client_id, privateKey, publicJwk, kid };
}

/** A signed RFC 7523 client assertion; every field can be overridden to build bad ones. */
export async function clientAssertion(
  agent: TestAgent,
  audience: string,
  overrides: { jti?: string; expiresIn?: number; iat?: number; iss?: string; aud?: string; alg?: string; key?: CryptoKey | Uint8Array } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: overrides.alg ?? 'EdDSA', kid: agent.kid })
    .setIssuer(overrides.iss ?? agent.clientId)
    .setSubject(agent.clientId)
    .setAudience(overrides.aud ?? audience)
    .setJti(overrides.jti ?? randomUUID())
    .setIssuedAt(overrides.iat ?? now)
    .setExpirationTime((overrides.iat ?? now) + (overrides.expiresIn ?? 60))
    .sign(overrides.key ?? agent.privateKey);
}

/** POST /v1/token with client_credentials and a fresh assertion (plus extra form fields). */
export async function requestToken(srv: TestServer, agent: TestAgent, form: Record<string, string> = {}) {
  const assertion = await clientAssertion(agent, srv.url);
  return request(srv.url)
    .post('/v1/token')
    .type('form')
    .send({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion, ...form });
}
