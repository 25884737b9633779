import { normalizeResource } from './cross-checks.ts';
import { evaluate } from './evaluate.ts';
import { explain } from './explain.ts';
import type { PolicyModel } from './policy-model.ts';
import type { CompiledPolicy, DelegationLimits } from './types.ts';

/** Wraps a compiled model in the {@link CompiledPolicy} contract (a frozen object). */
export function createCompiledPolicy(model: PolicyModel): CompiledPolicy {
  const providers = Object.freeze([...model.providerTtl.keys()]);
  return Object.freeze({
    revision: model.revision,
    origin: model.origin,
    providers,
    /** @see RFC 8707 §2 (resource), RFC 8693 §2.1 (audience) */
    resolveProvider(resourceOrAudience: string): string | undefined {
      if (model.providerTtl.has(resourceOrAudience)) return resourceOrAudience;
      return model.resources.get(normalizeResource(resourceOrAudience));
    },
    upstreamTokensAllowed: (provider: string) => model.upstreamTokenProviders.has(provider),
    classOf: model.classOf,
    delegation(parentClass: string | undefined): DelegationLimits {
      const declared = parentClass === undefined ? undefined : model.classes.get(parentClass);
      return declared?.delegation ?? model.defaultDelegation;
    },
    evaluate: (request) => evaluate(model, request),
    explain: (request) => explain(model, request),
  } satisfies CompiledPolicy);
}
