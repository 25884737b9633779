import type { CelCondition } from './cel-condition.ts';
import type { GlobList } from './glob.ts';
import type { TimeWindow } from './time-window.ts';
import type { DelegationLimits, PolicyEffect } from './types.ts';

/*
 * The compiled, frozen form of a policy that evaluation walks. Built once per revision by
 * `build-model.ts`; nothing here changes afterwards.
 */

/** A rule with its globs, window and CEL compiled. */
export interface CompiledRule {
  readonly id: string;
  /** Position in the document (rules are always considered in document order). */
  readonly index: number;
  readonly effect: PolicyEffect;
  /** Agent classes the rule is about; undefined for `*` (any class, unclassified agents too). */
  readonly classes: ReadonlySet<string> | undefined;
  /** Providers the rule is about; undefined for `*`. */
  readonly providers: ReadonlySet<string> | undefined;
  /** As written, for traces. */
  readonly classPatterns: readonly string[];
  readonly providerPatterns: readonly string[];
  readonly scopes: GlobList;
  /** Downgrade rules only: what the agent may keep. */
  readonly maxScope: GlobList | undefined;
  readonly time: TimeWindow | undefined;
  readonly cel: CelCondition | undefined;
  readonly ttlSeconds: number | undefined;
}

/** A declared agent class. */
export interface CompiledClass {
  readonly name: string;
  /** Agent name globs; undefined: every agent registered with the class. */
  readonly agents: GlobList | undefined;
  readonly ttlSeconds: number | undefined;
  readonly delegation: DelegationLimits;
}

/** Everything evaluation needs, compiled from one policy text. */
export interface PolicyModel {
  readonly revision: string;
  readonly origin: string;
  readonly rules: readonly CompiledRule[];
  readonly classes: ReadonlyMap<string, CompiledClass>;
  /** Declared providers and their TTL (undefined when the provider sets none). */
  readonly providerTtl: ReadonlyMap<string, number | undefined>;
  /** `defaults.ttl` (4 h when absent). */
  readonly defaultTtlSeconds: number;
  /** Limits for unknown or absent parent classes. */
  readonly defaultDelegation: DelegationLimits;
  /** Resource URL (no trailing slash) → provider name. */
  readonly resources: ReadonlyMap<string, string>;
  /** Providers whose own access tokens may be handed out (broker mode). */
  readonly upstreamTokenProviders: ReadonlySet<string>;
  /**
   * The rules that can match a provider and an effective class, in document order: rules for
   * `*` or that provider, and for `*` or that class. Evaluation only walks these.
   */
  candidates(provider: string, agentClass: string | undefined): readonly CompiledRule[];
  classOf(agent: { name: string; class: string }): string | undefined;
}
