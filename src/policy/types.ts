/**
 * The policy engine's contract (DESIGN.md, Policy). The token exchange grant, the policy
 * runtime (sources, hot reload) and the CLI depend on these types only; `compile-policy.ts`
 * turns a YAML text into a {@link CompiledPolicy}.
 */

/** Run context an agent sends with every request (DESIGN.md, Identities). */
export interface RunContext {
  run_id?: string;
  thread_id?: string;
  tool_call_id?: string;
  task?: string;
}

/** What a decision is asked about. */
export interface PolicyRequest {
  /** The acting agent: its client_id, registered name and registered class. */
  agent: { id: string; name: string; class: string };
  /** Provider name, already resolved from `resource` / `audience` (see `resolveProvider`). */
  provider: string;
  /** Requested scopes (already capped by the subject token or connection). */
  scopes: readonly string[];
  /**
   * What the caller may hold at most (the subject token's or connection's scopes). A downgrade
   * substitutes counterparts (`repo:write` → `repo:read`); counterparts outside the ceiling
   * are dropped. Absent: no ceiling.
   */
  ceiling?: readonly string[];
  /** `client_credentials` or the token exchange grant; CEL sees it as `request.grant_type`. */
  grantType: string;
  run: RunContext;
  /** Delegation facts when the request delegates a token from another agent. */
  delegation?: {
    /** Act-chain depth the new token would have. */
    depth: number;
    /** Class of the agent whose token is being delegated (the parent). */
    parentClass: string;
    /** client_ids of the chain, root first (for CEL). */
    chain: readonly string[];
  };
  /** The instant the decision is for (time windows, CEL `now`). */
  time: Date;
}

export type PolicyEffect = 'allow' | 'downgrade' | 'deny';

/** The result of one evaluation. Frozen; safe to log and to put in audit events. */
export interface PolicyDecision {
  /**
   * `allow`: every requested scope granted. `downgrade`: some granted, some removed.
   * `deny`: nothing granted (a deny rule matched, no allow rule matched, a CEL error, or
   * every scope was removed).
   */
  effect: PolicyEffect;
  /** Granted scopes, in request order (empty on deny). */
  scopes: string[];
  /** Requested scopes that were not granted (a substituted scope counts as removed). */
  removed: string[];
  /**
   * Why a deny happened (absent unless `effect` is deny): `rule` a deny rule matched;
   * `no-allow` no allow or downgrade rule matched; `no-scope-left` rules matched but every
   * scope was removed (or none was requested); `error` a CEL expression failed.
   */
  denial?: 'rule' | 'no-allow' | 'no-scope-left' | 'error';
  /**
   * The rule that decided: the deny rule, the downgrade rule that removed scopes, the first
   * allow rule that granted, or `default-deny` when no allow rule matched.
   */
  ruleId: string;
  /** One sentence for `error_description` and audit: what decided and why. */
  reason: string;
  /** Token lifetime the policy allows (seconds, already clamped to 15 min … 24 h). */
  ttlSeconds: number;
  /** Revision hash of the policy that decided. */
  revision: string;
  /** Ids of every rule that matched (in document order). */
  matched: string[];
}

/** Per-rule trace for `alter policy explain`. */
export interface RuleTrace {
  id: string;
  effect: PolicyEffect;
  matched: boolean;
  /** Why it matched or not ("agent class data-reader not in [admin]", "outside 09:00-18:00 Europe/Paris", "CEL error: …"). */
  reason: string;
}

export interface PolicyExplanation {
  decision: PolicyDecision;
  /** The class the agent counts as under this policy (undefined: unclassified). */
  agentClass?: string;
  rules: RuleTrace[];
}

/** Delegation limits for a parent agent class (DESIGN.md, Token exchange). */
export interface DelegationLimits {
  /** Classes a child agent may have to receive this class's tokens (empty: none). */
  allowedChildClasses: readonly string[];
  /** Largest act-chain depth a delegated token may reach. */
  maxDepth: number;
  /** Largest number of delegated tokens one parent token may spawn. */
  maxChildren: number;
}

/** A policy version compiled once into a frozen structure. */
export interface CompiledPolicy {
  /** SHA-256 (hex) of the YAML text: the revision hash every node converges on. */
  readonly revision: string;
  /** Where the text came from (file path or git URL#branch:path), for messages. */
  readonly origin: string;
  /** Provider names declared by the policy. */
  readonly providers: readonly string[];
  /**
   * Maps a `resource` (RFC 8707, an API base URL) or `audience` (RFC 8693, a provider name)
   * to a declared provider name; undefined when the policy does not know it.
   */
  resolveProvider(resourceOrAudience: string): string | undefined;
  /** Broker mode: whether the policy lets agents receive this provider's own access tokens. */
  upstreamTokensAllowed(provider: string): boolean;
  /** The class an agent counts as (registered class, subject to the class's name globs). */
  classOf(agent: { name: string; class: string }): string | undefined;
  /** Limits that apply when an agent of `parentClass` delegates (undefined class: global defaults, no children). */
  delegation(parentClass: string | undefined): DelegationLimits;
  /** Never throws: any error inside evaluation (CEL included) yields a deny decision. */
  evaluate(request: PolicyRequest): PolicyDecision;
  explain(request: PolicyRequest): PolicyExplanation;
}

/** One problem found in a policy text: where, and what is wrong. */
export interface PolicyIssue {
  file: string;
  /** 1-based; absent when the problem has no single location (e.g. a failing embedded test). */
  line?: number;
  column?: number;
  /** YAML path (`rules[2].effect`). */
  path?: string;
  message: string;
}
