import type { Agent } from '../ports/store.ts';
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

/**
 * What makes a token's chain unusable, given its agents looked up by id: one that no longer
 * exists or belongs to another app (`unknown`, told apart from nothing so as to leak nothing),
 * or one that is disabled; the first in chain order. Undefined when every agent is active in
 * the tenant.
 */
export function chainProblem(agents: ReadonlyArray<Agent | undefined>, tenant: { orgId: string; appId: string }): { kind: 'unknown' } | { kind: 'disabled'; agent: Agent } | undefined {
  for (const agent of agents) {
    if (!agent || agent.orgId !== tenant.orgId || agent.appId !== tenant.appId) return { kind: 'unknown' };
    if (agent.status !== 'active') return { kind: 'disabled', agent };
  }
  return undefined;
}
