import * as oidc from 'openid-client';
import type { TestAgent } from './agents.ts';
import type { TestServer } from './server.ts';

/** openid-client configured as the agent (RFC 8414 discovery, PrivateKeyJwt), over http on loopback. */
export function discover(srv: TestServer, agent: TestAgent): Promise<oidc.Configuration> {
  return oidc.discovery(
    new URL(srv.url),
    agent.clientId,
    { token_endpoint_auth_method: 'private_key_jwt' },
    oidc.PrivateKeyJwt({ key: agent.privateKey, kid: agent.kid }),
    { execute: [oidc.allowInsecureRequests], algorithm: 'oauth2' },
  );
}
