import type { AccessTokenVerifier } from '../provider/access-token-verifier.ts';
import type { Agent, ConnectionStore } from '../ports/store.ts';
import type { ManagedSecretStore } from '../ports/vault.ts';
import { SECRET_PERMISSIONS } from '../proxy/secret-permissions.ts';
import type { RunContext } from '../policy/types.ts';
import type { RevocationService } from '../revocation/revocation-service.ts';
import { InvalidGrant } from '../shared/errors.ts';
import { parseAct, type ActClaim } from './act-claim.ts';
import type { ExchangeParams } from './exchange-request.ts';
import { stringClaim } from './run-context.ts';
import { chainAgentsOf } from './token-chain.ts';
import { deadTokenReason } from './token-liveness.ts';
import { TokenType } from './token-types.ts';

/** What is being exchanged, once verified: the ceiling of everything the new token may carry. */
export interface Subject {
  kind: 'token' | 'connection';
  /** The `sub` the new token keeps: an end user, the org, or the agent that got the root token. */
  sub: string;
  /** Scopes the new token may not exceed. */
  ceiling: string[];
  /** The subject token's `exp` (epoch seconds): the new token expires no later. */
  exp?: number;
  /** The subject token's `jti` (fan-out counting). */
  jti?: string;
  act?: ActClaim;
  /** The agent that holds the subject token (its `client_id`); absent for a connection. */
  holderId?: string;
  /** Provider the subject is bound to (a connection's, or a provider token's `aud`). */
  provider?: string;
  connectionId?: string;
  /** Run context carried by the subject token (a child keeps its parent's run and thread). */
  run: RunContext;
  /** Every agent of the chain, root first: the root token's agent, the actors, the holder (each must still be active). */
  agents: string[];
}

export interface SubjectDeps {
  verifier: AccessTokenVerifier;
  revocations: RevocationService;
  connections: ConnectionStore;
  /** Managed secrets (`sec_…`) are exchanged like connections. */
  secrets: Pick<ManagedSecretStore, 'find'>;
  /** Audiences meaning "Alter itself": tokens for them are not bound to a provider. */
  alterAudiences: ReadonlySet<string>;
}

const BAD_TOKEN = 'subject_token is not a valid access token from this server (bad signature, expired, or not an at+jwt): get a fresh token and retry';
const UNKNOWN_CONNECTION = 'subject_token names no active connection of your app';


async function fromAccessToken(deps: SubjectDeps, token: string): Promise<Subject> {
  const claims = await deps.verifier.verify(token);
  if (!claims) throw new InvalidGrant(BAD_TOKEN);
  let act: ActClaim | undefined;
  try {
    act = parseAct(claims.act);
  } catch (cause) {
    throw new InvalidGrant(`subject_token has a malformed act claim: ${(cause as Error).message}`);
  }
  const connectionId = stringClaim(claims.connection_id);
  const agents = chainAgentsOf(claims);
  const dead = await deadTokenReason(deps, claims, agents);
  if (dead === 'token') throw new InvalidGrant('subject_token has been revoked');
  if (dead === 'connection') throw new InvalidGrant('the connection behind subject_token has been revoked');
  const aud = Array.isArray(claims.aud) ? claims.aud : claims.aud === undefined ? [] : [claims.aud];
  const bound = aud.find((a) => !deps.alterAudiences.has(a));
  const run: RunContext = {};
  for (const name of ['run_id', 'thread_id'] as const) {
    const value = stringClaim(claims[name]);
    if (value) run[name] = value;
  }
  return {
    kind: 'token',
    sub: claims.sub ?? claims.client_id,
    ceiling: (claims.scope ?? '').split(' ').filter(Boolean),
    exp: claims.exp,
    jti: claims.jti,
    ...(act ? { act } : {}),
    holderId: claims.client_id,
    ...(bound ? { provider: bound } : {}),
    ...(connectionId ? { connectionId } : {}),
    run,
    agents,
  };
}

/** A managed secret of the actor's app: the token may use it through the proxy (its permissions: secret:read, secret:write). */
async function fromSecret(deps: SubjectDeps, id: string, actor: Agent): Promise<Subject> {
  const secret = await deps.secrets.find({ orgId: actor.orgId, appId: actor.appId }, id);
  if (!secret) throw new InvalidGrant('subject_token names no managed secret of your app');
  const provider = typeof secret.metadata.provider === 'string' ? secret.metadata.provider : secret.name;
  return { kind: 'connection', sub: actor.orgId, ceiling: [...SECRET_PERMISSIONS], provider, connectionId: secret.id, run: {}, agents: [] };
}

async function fromConnection(deps: SubjectDeps, id: string, actor: Agent): Promise<Subject> {
  if (id.startsWith('sec_')) return fromSecret(deps, id, actor);
  const connection = await deps.connections.findById(id);
  // Another app's connection reads exactly like a missing one: nothing leaks across tenants.
  if (!connection || connection.orgId !== actor.orgId || connection.appId !== actor.appId || connection.status === 'revoked') {
    throw new InvalidGrant(UNKNOWN_CONNECTION);
  }
  if (connection.status === 'needs_reauth') {
    throw new InvalidGrant(`connection ${connection.id} needs re-authorization: the provider no longer accepts its grant; the end user must reconnect`);
  }
  return {
    kind: 'connection',
    sub: connection.endUserId ?? connection.orgId,
    ceiling: connection.scopes,
    provider: connection.provider,
    connectionId: connection.id,
    run: {},
    agents: [],
  };
}

/** Verifies the subject token (RFC 8693 §2.1) or looks up the connection it names. */
export function resolveSubject(deps: SubjectDeps, params: ExchangeParams, actor: Agent): Promise<Subject> {
  return params.subjectTokenType === TokenType.connection
    ? fromConnection(deps, params.subjectToken, actor)
    : fromAccessToken(deps, params.subjectToken);
}
