import type { AgentCache } from '../agents/agent-cache.ts';
import type { AccessTokenSigner } from '../keys/access-token-signer.ts';
import type { IdentifierHmac } from '../audit/identifier-hmac.ts';
import type { AuditEventInput, AuditSink } from '../ports/audit.ts';
import type { Agent, DelegationCounterStore } from '../ports/store.ts';
import type { CompiledPolicy, PolicyDecision, PolicyRequest } from '../policy/types.ts';
import { AccessDenied, InvalidGrant, InvalidRequest, InvalidScope, InvalidTarget } from '../shared/errors.ts';
import { depthOf, pushActor, type ActClaim } from './act-claim.ts';
import { parseExchangeParams, type ExchangeParams, type RawExchangeParams } from './exchange-request.ts';
import { resolveSubject, type Subject, type SubjectDeps } from './subject.ts';
import { chainProblem } from './token-chain.ts';
import { TOKEN_EXCHANGE_GRANT, TokenType } from './token-types.ts';
import type { UpstreamTokenBroker } from './upstream-broker.ts';

/** Where the request came from, for the audit trail. */
export interface ExchangeContext {
  requestId?: string;
  /** `performance.now()` when the request arrived. */
  startedAt: number;
}

/** The token response (RFC 8693 §2.2.1). */
export interface ExchangeResponse {
  access_token: string;
  issued_token_type: string;
  token_type: 'Bearer';
  expires_in: number;
  /** Present whenever the granted scope differs from the requested one. */
  scope?: string;
}

export interface ExchangeDeps extends SubjectDeps {
  agents: AgentCache;
  /** Token ids go into audit events only as HMACs. */
  hmac: IdentifierHmac;
  policy: { current(): CompiledPolicy };
  signer: AccessTokenSigner;
  delegations: DelegationCounterStore;
  audit: AuditSink;
  /** Broker mode (absent: refused). */
  broker?: UpstreamTokenBroker;
}

/** Everything the steps learn about one request, in the order they learn it. */
interface Exchange {
  actor: Agent;
  context: ExchangeContext;
  params: ExchangeParams;
  policy: CompiledPolicy;
  now: Date;
  subject?: Subject;
  /** The agent holding the subject token (its `client_id`), as the chain check found it. */
  holder?: Agent;
  provider?: string;
  scopes?: string[];
  act?: ActClaim;
  delegation?: PolicyRequest['delegation'];
  decision?: PolicyDecision;
  /** A downgrade's audit event, recorded with the token's (one append, not two) or with the failure. */
  decisionEvent?: AuditEventInput;
}

/** Refusals this service has audited already (the token endpoint must not record them again). */
const auditedRefusals = new WeakSet<object>();

/** True if the exchange recorded this refusal itself (a policy or delegation denial). */
export function refusalAudited(err: unknown): boolean {
  return typeof err === 'object' && err !== null && auditedRefusals.has(err);
}

function audited<E extends Error>(err: E): E {
  auditedRefusals.add(err);
  return err;
}

type Step = (deps: ExchangeDeps, x: Exchange) => Promise<void> | void;

const epoch = (date: Date): number => Math.floor(date.getTime() / 1000);

/** The audit event members every exchange decision shares (docs/audit.md). */
function auditFacts(x: Exchange): Record<string, unknown> {
  const subject = x.subject;
  return {
    grant_type: TOKEN_EXCHANGE_GRANT,
    app: x.actor.appId,
    agent: x.actor.id,
    agent_class: x.actor.agentClass,
    ...(x.act ? { act: x.act } : {}),
    ...(subject?.kind === 'connection' || subject?.connectionId ? { end_user: subject.sub } : {}),
    ...(subject?.connectionId ? { connection_id: subject.connectionId } : {}),
    ...(x.provider ? { provider: x.provider } : {}),
    run: { ...subject?.run, ...x.params.run },
    ...(x.context.requestId ? { request_id: x.context.requestId } : {}),
  };
}

/** The response's `scope` member: present whenever the granted scopes differ from the requested ones (RFC 8693 §2.2.1). */
function scopeIfChanged(requested: readonly string[] | undefined, granted: readonly string[]): { scope?: string } {
  const same = requested !== undefined && requested.length === granted.length && requested.every((s) => granted.includes(s));
  return same ? {} : { scope: granted.join(' ') };
}

function latency(x: Exchange): number {
  return Math.round((performance.now() - x.context.startedAt) * 10) / 10;
}

/** Records a delegation refusal (a policy violation like any other) and returns the error to throw. */
async function delegationRefused(deps: ExchangeDeps, x: Exchange, rule: string, text: string): Promise<AccessDenied> {
  await deps.audit.record({
    orgId: x.actor.orgId,
    type: 'policy.deny',
    data: {
      ...auditFacts(x),
      decision: 'deny',
      scopes: { requested: x.scopes ?? [] },
      policy: { revision: x.policy.revision, rule, reason: text },
      result: { status: 400, error: 'access_denied', latency_ms: latency(x) },
    },
  });
  return audited(new AccessDenied(`delegation refused by ${rule}: ${text}`));
}

/** The subject token or connection: verified, not revoked, of the actor's app. */
async function verifySubject(deps: ExchangeDeps, x: Exchange): Promise<void> {
  x.subject = await resolveSubject(deps, x.params, x.actor);
}

/** Every agent the authority flows through still exists, is active, and is of the actor's app. */
async function checkChainAgents(deps: ExchangeDeps, x: Exchange): Promise<void> {
  const subject = x.subject!;
  const agents = await Promise.all(subject.agents.map((id) => (id === x.actor.id ? x.actor : deps.agents.findById(id))));
  const problem = chainProblem(agents, x.actor);
  // deleted, or another tenant's token: read the same, leak nothing
  if (problem?.kind === 'unknown') throw new InvalidGrant('subject_token was not issued within your app, or an agent of its chain no longer exists');
  if (problem) throw new InvalidGrant(`the delegation chain includes agent ${problem.agent.id} (${problem.agent.name}), which is disabled`);
  x.holder = agents.find((agent) => agent!.id === subject.holderId);
}

/** `resource` / `audience` → a provider the policy declares; defaults to the subject's provider. */
function resolveTarget(_deps: ExchangeDeps, x: Exchange): void {
  const bound = x.subject!.provider;
  const target = x.params.target ?? bound;
  if (target === undefined) {
    throw new InvalidTarget(`resource or audience is required: name the provider the token is for (known: ${x.policy.providers.join(', ') || 'none'})`);
  }
  const provider = x.policy.resolveProvider(target);
  if (!provider) throw new InvalidTarget(`"${target}" is not a provider the policy knows (known: ${x.policy.providers.join(', ') || 'none'})`);
  if (bound !== undefined && provider !== bound) {
    throw new InvalidTarget(`subject_token is bound to ${bound}: a token derived from it cannot be for ${provider}`);
  }
  x.provider = provider;
}

/** Requested scopes ⊆ the subject's; no `scope` means "everything the subject holds". */
function checkScopeCeiling(_deps: ExchangeDeps, x: Exchange): void {
  const ceiling = x.subject!.ceiling;
  const requested = x.params.scopes ?? ceiling;
  if (requested.length === 0) throw new InvalidScope('no scope to grant: the subject holds none and none was requested');
  const held = new Set(ceiling);
  const beyond = requested.filter((s) => !held.has(s));
  if (beyond.length > 0) {
    throw new InvalidScope(`scope exceeds what the subject holds: ${beyond.join(' ')} (it holds: ${ceiling.join(' ') || 'nothing'})`);
  }
  x.scopes = requested;
}

/**
 * Delegation (the actor is not the holder): the new `act` nests the actor over the subject's
 * chain; the parent's class must allow the child's class, and the depth must stay in bounds.
 */
async function checkDelegation(deps: ExchangeDeps, x: Exchange): Promise<void> {
  const subject = x.subject!;
  if (subject.kind === 'connection') {
    x.act = pushActor(x.actor.id, undefined);
    return;
  }
  if (subject.holderId === x.actor.id) {
    // the holder narrowing its own token: no new actor
    if (subject.act) x.act = subject.act;
    return;
  }
  const parent = x.holder!; // in the chain: checkChainAgents found it active
  const parentClass = x.policy.classOf({ name: parent.name, class: parent.agentClass });
  const childClass = x.policy.classOf({ name: x.actor.name, class: x.actor.agentClass });
  const limits = x.policy.delegation(parentClass);
  x.act = pushActor(x.actor.id, subject.act);
  const depth = depthOf(x.act);
  if (childClass === undefined || !limits.allowedChildClasses.includes(childClass)) {
    const allowed = limits.allowedChildClasses.length > 0 ? limits.allowedChildClasses.join(', ') : 'no class';
    throw await delegationRefused(deps, x, `agent_classes.${parentClass ?? '(unclassified)'}.delegation.children`,
      `agents of class ${parentClass ?? '(unclassified)'} may delegate to ${allowed}, not to ${childClass ?? `unclassified agent ${x.actor.name}`}`);
  }
  if (depth > limits.maxDepth) {
    throw await delegationRefused(deps, x, `agent_classes.${parentClass}.delegation.max_depth`,
      `the act chain would be ${depth} actors deep; class ${parentClass} allows ${limits.maxDepth}`);
  }
  x.delegation = { depth, parentClass: parentClass!, chain: subject.agents };
}

/** The YAML policy decides; denials and downgrades are audited (fail closed: no audit, no token). */
async function evaluatePolicy(deps: ExchangeDeps, x: Exchange): Promise<void> {
  const request: PolicyRequest = {
    agent: { id: x.actor.id, name: x.actor.name, class: x.actor.agentClass },
    provider: x.provider!,
    scopes: x.scopes!,
    ceiling: x.subject!.ceiling,
    grantType: TOKEN_EXCHANGE_GRANT,
    run: { ...x.subject!.run, ...x.params.run },
    ...(x.delegation ? { delegation: x.delegation } : {}),
    time: x.now,
  };
  const decision = x.policy.evaluate(request);
  x.decision = decision;
  if (decision.effect === 'allow') return;
  const denied = decision.effect === 'deny';
  const error = denied ? (decision.denial === 'no-scope-left' ? 'invalid_scope' : 'access_denied') : undefined;
  const event: AuditEventInput = {
    orgId: x.actor.orgId,
    type: `policy.${decision.effect}`,
    data: {
      ...auditFacts(x),
      decision: decision.effect,
      scopes: { requested: request.scopes, granted: decision.scopes, removed: decision.removed },
      policy: { revision: decision.revision, rule: decision.ruleId, reason: decision.reason },
      ...(denied ? { result: { status: 400, error, latency_ms: latency(x) } } : {}),
    },
  };
  if (denied) {
    await deps.audit.record(event);
    const text = `policy ${decision.denial === 'no-allow' ? 'default deny' : `rule "${decision.ruleId}"`}: ${decision.reason}`;
    throw audited(error === 'invalid_scope' ? new InvalidScope(text) : new AccessDenied(text));
  }
  // a downgrade goes on: its event is recorded with the token's (or with the failure)
  x.decisionEvent = event;
}

/** Fan-out: one parent token spawns at most `max_children` delegated tokens. Counted last. */
async function countDelegation(deps: ExchangeDeps, x: Exchange): Promise<void> {
  if (!x.delegation) return;
  const subject = x.subject!;
  const limits = x.policy.delegation(x.delegation.parentClass);
  const counted = await deps.delegations.claim(subject.jti!, limits.maxChildren, new Date(subject.exp! * 1000));
  if (!counted) {
    throw await delegationRefused(deps, x, `agent_classes.${x.delegation.parentClass}.delegation.max_children`,
      `subject_token has already been delegated ${limits.maxChildren} times`);
  }
}

/** The pipeline, readable top to bottom (STYLE.md §1). */
const STEPS: readonly Step[] = [verifySubject, checkChainAgents, resolveTarget, checkScopeCeiling, checkDelegation, evaluatePolicy, countDelegation];

/**
 * RFC 8693 token exchange: an authenticated agent trades an Alter access token (delegation) or a
 * connection id (acting for an end user) for a short-lived token for one provider, never wider
 * or longer-lived than its subject, as the YAML policy decides.
 * @see RFC 8693 §2
 */
export class TokenExchangeService {
  readonly #deps: ExchangeDeps;

  constructor(deps: ExchangeDeps) {
    this.#deps = deps;
  }

  async exchange(actor: Agent, raw: RawExchangeParams, context: ExchangeContext = { startedAt: performance.now() }): Promise<ExchangeResponse> {
    const x: Exchange = { actor, context, params: parseExchangeParams(raw), policy: this.#deps.policy.current(), now: new Date() };
    try {
      return await this.#exchange(x);
    } catch (err) {
      // the exchange failed after a downgrade decision: the decision is on record all the same
      if (x.decisionEvent) await this.#deps.audit.record(x.decisionEvent).catch(() => {});
      throw err;
    }
  }

  async #exchange(x: Exchange): Promise<ExchangeResponse> {
    const actor = x.actor;
    for (const step of STEPS) await step(this.#deps, x);

    const subject = x.subject!;
    const decision = x.decision!;
    const remaining = subject.exp === undefined ? Number.POSITIVE_INFINITY : subject.exp - epoch(x.now);
    if (remaining <= 0) throw new InvalidGrant('subject_token has expired');
    const ttl = Math.min(decision.ttlSeconds, remaining);
    if (x.params.upstream) return this.#brokered(x, Math.floor(ttl));
    const scope = decision.scopes.join(' ');
    const run = { ...subject.run, ...x.params.run };
    const signed = this.#deps.signer.sign(
      {
        sub: subject.sub,
        aud: x.provider!,
        client_id: x.actor.id,
        scope,
        ...(x.act ? { act: x.act } : {}),
        ...(subject.connectionId ? { connection_id: subject.connectionId } : {}),
        ...run,
        policy_rev: decision.revision,
      },
      ttl,
      subject.exp,
    );
    // fail closed: no token leaves without its audit record (nor without its downgrade's)
    await this.#recordWithDecision(x, {
      orgId: actor.orgId,
      type: 'token.issued',
      data: {
        ...auditFacts(x),
        decision: decision.effect,
        jti: this.#deps.hmac.of(signed.jti),
        scopes: { requested: x.scopes, granted: decision.scopes },
        ttl: signed.exp - signed.iat,
        policy: { revision: decision.revision, rule: decision.ruleId },
        result: { status: 200, latency_ms: latency(x) },
      },
    });
    return {
      access_token: signed.token,
      issued_token_type: TokenType.accessToken,
      token_type: 'Bearer',
      expires_in: signed.exp - signed.iat,
      ...scopeIfChanged(x.params.scopes, decision.scopes),
    };
  }

  /** Records the token's event, after the downgrade's if there was one: both in one append. */
  async #recordWithDecision(x: Exchange, event: AuditEventInput): Promise<void> {
    const decision = x.decisionEvent;
    x.decisionEvent = undefined;
    await Promise.all([decision && this.#deps.audit.record(decision), this.#deps.audit.record(event)]);
  }

  /**
   * Broker mode: the provider's own access token for the connection, when the policy lets this
   * provider's tokens out (`upstream_tokens: true`) and the provider can honour the grant.
   */
  async #brokered(x: Exchange, ttl: number): Promise<ExchangeResponse> {
    const subject = x.subject!;
    const decision = x.decision!;
    if (!subject.connectionId) {
      throw new InvalidRequest('broker mode needs a connection: exchange a connection id (subject_token_type urn:alter:params:oauth:token-type:connection) or a token acting through one');
    }
    if (!x.policy.upstreamTokensAllowed(x.provider!)) {
      await this.#deps.audit.record({
        orgId: x.actor.orgId,
        type: 'policy.deny',
        data: {
          ...auditFacts(x), decision: 'deny', upstream: true, scopes: { requested: x.scopes ?? [] },
          policy: { revision: x.policy.revision, rule: 'upstream_tokens', reason: `provider ${x.provider} does not allow upstream tokens` },
          result: { status: 400, error: 'access_denied', latency_ms: latency(x) },
        },
      });
      throw audited(new AccessDenied(`the policy does not let ${x.provider} tokens out (set providers.${x.provider}.upstream_tokens: true to allow broker mode); request an Alter access token for the proxy instead`));
    }
    if (!this.#deps.broker) throw new InvalidRequest('broker mode is not available on this server');
    const issued = await this.#deps.broker.issue({
      orgId: x.actor.orgId, appId: x.actor.appId, connectionId: subject.connectionId, provider: x.provider!, permissions: decision.scopes, ttlSeconds: ttl,
    });
    await this.#recordWithDecision(x, {
      orgId: x.actor.orgId,
      type: 'token.issued',
      data: {
        ...auditFacts(x),
        decision: decision.effect,
        upstream: true,
        scopes: { requested: x.scopes, granted: issued.scope },
        ttl: issued.expiresIn,
        policy: { revision: decision.revision, rule: decision.ruleId },
        result: { status: 200, latency_ms: latency(x) },
      },
    });
    return {
      access_token: issued.accessToken,
      issued_token_type: TokenType.upstreamAccessToken,
      token_type: 'Bearer',
      expires_in: issued.expiresIn,
      ...scopeIfChanged(x.params.scopes, issued.scope),
    };
  }
}
