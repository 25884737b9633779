import type { AgentCache } from '../agents/agent-cache.ts';
import type { AppKeyService } from '../connections/app-keys.ts';
import { parseAct, type ActClaim } from '../exchange/act-claim.ts';
import { CONTROL, runContextOf, stringClaim } from '../exchange/run-context.ts';
import { chainAgentsOf, chainProblem } from '../exchange/token-chain.ts';
import type { RunContext } from '../policy/types.ts';
import type { TenantRef } from '../ports/connections.ts';
import type { Agent } from '../ports/store.ts';
import type { AccessTokenVerifier } from '../provider/access-token-verifier.ts';
import type { RevocationService } from '../revocation/revocation-service.ts';
import { InvalidRequest, InvalidToken } from '../shared/errors.ts';
import { Forbidden } from './proxy-errors.ts';

export const ACTOR_TYPES = ['ai_agent', 'backend_service'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

/** Who is asking, once authenticated (docs/proxy.md, Caller authentication). */
export interface ProxyCaller {
  via: 'token' | 'app_key';
  tenant: TenantRef;
  /** The acting agent: the token's holder, or the app key's declared actor. */
  agent: Agent;
  actorType?: ActorType;
  act?: ActClaim;
  run: RunContext;
  /** Token mode: what the token binds. */
  token?: {
    jti: string;
    /** Permissions the token carries. */
    scopes: string[];
    connectionId?: string;
    audiences: string[];
    /** The token's `sub` (the end user when it acts for one). */
    sub?: string;
  };
}

export interface CallerDeps {
  verifier: AccessTokenVerifier;
  revocations: RevocationService;
  agents: AgentCache;
  appKeys: AppKeyService;
}

const APP_KEY_PREFIX = 'alter_key_';
const RUN_HEADERS: Record<keyof RunContext, string> = { run_id: 'alter-run-id', thread_id: 'alter-thread-id', tool_call_id: 'alter-tool-call-id', task: 'alter-task' };

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) throw new InvalidRequest(`the ${name} header must be given once`);
  return value === undefined || value === '' ? undefined : value;
}

/** The run context headers (`Alter-Run-Id`, …), checked like token exchange's parameters. */
export function runFromHeaders(headers: Headers): RunContext {
  return runContextOf((name) => header(headers, RUN_HEADERS[name]), (name) => RUN_HEADERS[name]);
}

const BAD_TOKEN = 'the access token is not valid (bad signature, expired, or not an Alter access token): get a fresh one by token exchange';

/** An Alter access token: verified, alive, every agent of its chain active and of one app. */
async function fromToken(deps: CallerDeps, token: string, headers: Headers): Promise<ProxyCaller> {
  const claims = await deps.verifier.verify(token);
  if (!claims) throw new InvalidToken(BAD_TOKEN);
  let act: ActClaim | undefined;
  let chain: string[];
  try {
    act = parseAct(claims.act);
    chain = chainAgentsOf(claims);
  } catch {
    throw new InvalidToken('the access token has a malformed act claim');
  }
  const [revoked, ...agents] = await Promise.all([
    deps.revocations.isRevoked({ jti: claims.jti, clientId: claims.client_id, iat: claims.iat, actors: chain }),
    ...chain.map((id) => deps.agents.findById(id)),
  ]);
  if (revoked) throw new InvalidToken('the access token has been revoked');
  const holder = (agents as Array<Agent | undefined>)[chain.indexOf(claims.client_id)];
  if (!holder) throw new InvalidToken(BAD_TOKEN);
  const problem = chainProblem(agents as Array<Agent | undefined>, holder);
  if (problem?.kind === 'unknown') throw new InvalidToken('an agent of the token\'s delegation chain no longer exists');
  if (problem) throw new InvalidToken(`the token's delegation chain includes agent ${problem.agent.id} (${problem.agent.name}), which is disabled`);
  const run = runFromHeaders(headers);
  for (const name of Object.keys(RUN_HEADERS) as Array<keyof RunContext>) {
    const fromClaim = stringClaim(claims[name]);
    if (fromClaim !== undefined) run[name] = fromClaim; // the token's run context wins
  }
  const aud = Array.isArray(claims.aud) ? claims.aud : claims.aud === undefined ? [] : [claims.aud];
  const connectionId = stringClaim(claims.connection_id);
  const sub = stringClaim(claims.sub);
  return {
    via: 'token',
    tenant: { orgId: holder.orgId, appId: holder.appId },
    agent: holder,
    ...(act ? { act } : {}),
    run,
    token: {
      jti: claims.jti,
      scopes: (claims.scope ?? '').split(' ').filter(Boolean),
      ...(connectionId ? { connectionId } : {}),
      audiences: aud,
      ...(sub ? { sub } : {}),
    },
  };
}

/** An app API key plus the actor it declares: a registered, active agent of the key's app. */
async function fromAppKey(deps: CallerDeps, key: string, headers: Headers): Promise<ProxyCaller> {
  const appKey = await deps.appKeys.authenticate(key);
  const tenant = { orgId: appKey.orgId, appId: appKey.appId };
  const actorType = header(headers, 'alter-actor-type');
  const actorId = header(headers, 'alter-actor-id');
  if (actorType === undefined || actorId === undefined) {
    throw new InvalidRequest('with an app API key, declare the actor: Alter-Actor-Type (ai_agent or backend_service) and Alter-Actor-Id (a registered agent\'s name or client id)');
  }
  if (!(ACTOR_TYPES as readonly string[]).includes(actorType)) throw new InvalidRequest(`Alter-Actor-Type must be ai_agent or backend_service, not "${actorType}"`);
  if (actorId.length > 200 || CONTROL.test(actorId)) throw new InvalidRequest('Alter-Actor-Id must be an agent name or client id (at most 200 characters)');
  const agent = actorId.startsWith('agt_') ? await deps.agents.findById(actorId) : await deps.agents.findByName(tenant, actorId);
  if (!agent || agent.orgId !== tenant.orgId || agent.appId !== tenant.appId) {
    throw new Forbidden(`actor "${actorId}" is not a registered agent of this app; register it first (alter agent create --name ${JSON.stringify(actorId)} --class …)`);
  }
  if (agent.status !== 'active') throw new Forbidden(`agent ${agent.id} (${agent.name}) is disabled`);
  return { via: 'app_key', tenant, agent, actorType: actorType as ActorType, run: runFromHeaders(headers) };
}

/** Authenticates the proxy's caller from its bearer credential and headers. */
export function resolveCaller(deps: CallerDeps, bearer: string, headers: Headers): Promise<ProxyCaller> {
  return bearer.startsWith(APP_KEY_PREFIX) ? fromAppKey(deps, bearer, headers) : fromToken(deps, bearer, headers);
}
