import type { AccessTokenClaims } from '../provider/access-token-verifier.ts';
import type { ConnectionStore } from '../ports/store.ts';
import type { RevocationService } from '../revocation/revocation-service.ts';

/**
 * Why a verified Alter access token is dead, or undefined while it lives: `token` when a
 * revocation predicate matches it or any agent of its chain (`agents`, from `chainAgentsOf`),
 * `connection` when the connection it acts through is gone or no longer active. Introspection
 * and token exchange ask the same question, so they share this answer.
 * @see RFC 7662 §2.2, RFC 8693 §2.1
 */
export async function deadTokenReason(
  deps: { revocations: RevocationService; connections: Pick<ConnectionStore, 'findById'> },
  claims: AccessTokenClaims,
  agents: readonly string[],
): Promise<'token' | 'connection' | undefined> {
  if (await deps.revocations.isRevoked({ jti: claims.jti, clientId: claims.client_id, iat: claims.iat, actors: agents })) return 'token';
  // a managed secret's (`sec_…`) existence is checked where it is used: by the proxy, per call
  if (typeof claims.connection_id === 'string' && !claims.connection_id.startsWith('sec_')) {
    const connection = await deps.connections.findById(claims.connection_id);
    if (!connection || connection.status !== 'active') return 'connection';
  }
  return undefined;
}
