import { actorsOf, parseAct } from './act-claim.ts';

/**
 * Every agent a token's authority flows through, root first: the agent that got the root token
 * (the `sub`, unless the token acts for an end user through a connection), each actor of the
 * `act` chain, and the holder (`client_id`). Revoking or disabling any of them kills the token.
 * Throws on a malformed `act`.
 */
export function chainAgentsOf(claims: { sub?: string; client_id: string; act?: unknown; connection_id?: unknown }): string[] {
  const actors = actorsOf(parseAct(claims.act));
  const root = typeof claims.connection_id === 'string' ? [] : [claims.sub ?? claims.client_id];
  return [...new Set([...root, ...actors.toReversed(), claims.client_id])];
}
