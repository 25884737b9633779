import { z } from 'zod';
import { TOKEN_EXCHANGE_GRANT } from '../exchange/token-types.ts';
import {
  celExpression, clock, count, duration, instant, nameGlob, reference, resourceUrl, ruleId, scopeGlob, timezone,
} from './schema-fields.ts';
import { WEEKDAYS } from './time-window.ts';

/**
 * The policy YAML schema, version 1 (docs/policy.md). Every object is strict: an unknown key is
 * an error, so a typo (`efect:`) cannot silently drop a condition. References (rule → class,
 * rule → provider, delegation → class, test → rule) are checked against the names the text
 * declares, which is why the schema is built per text.
 */
export interface DeclaredNames {
  classes: ReadonlySet<string>;
  providers: ReadonlySet<string>;
  ruleIds: ReadonlySet<string>;
}

/** The default test request time: a Monday, 10:00 UTC. */
export const DEFAULT_TEST_TIME = '2026-01-05T10:00:00Z';
/** Rule effects, as written in the YAML. */
export const EFFECTS = ['allow', 'deny', 'downgrade'] as const;

/**
 * A strict object whose unknown-key issue carries the keys it accepts (`zod-issues.ts` reads
 * them back to say what was expected).
 */
function strict<S extends z.core.$ZodLooseShape>(shape: S) {
  const expected = Object.keys(shape).join(', ');
  return z.strictObject(shape, { error: (iss) => (iss.code === 'unrecognized_keys' ? `expected: ${expected}` : undefined) });
}

/** A list of at least one item. */
function nonEmpty<T extends z.ZodType>(item: T) {
  return z.array(item).min(1);
}

/** Builds the schema for one text, given the names it declares. */
export function policySchema(names: DeclaredNames) {
  const classRef = reference('agent class', names.classes, false);
  const classOrAny = reference('agent class', names.classes, true);
  const providerOrAny = reference('provider', names.providers, true);
  const ruleRef = reference('rule', new Set([...names.ruleIds, 'default-deny']), false);

  const delegationLimits = { max_depth: count.optional(), max_children: count.optional() };

  const agentClass = strict({
    description: z.string().optional(),
    agents: nonEmpty(nameGlob).optional(),
    ttl: duration(true).optional(),
    delegation: strict({ children: z.array(classRef).optional(), ...delegationLimits }).optional(),
  });

  const provider = strict({
    description: z.string().optional(),
    resources: z.array(resourceUrl).optional(),
    ttl: duration(true).optional(),
    /** Broker mode: agents may receive this provider's own access tokens (default false). */
    upstream_tokens: z.boolean().optional(),
  });

  const timeWindow = strict({
    days: nonEmpty(z.enum(WEEKDAYS)).optional(),
    start: clock(false).optional(),
    end: clock(true).optional(),
    timezone,
  }).superRefine((window, ctx) => {
    if ((window.start === undefined) !== (window.end === undefined)) {
      const missing = window.start === undefined ? 'start' : 'end';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'start and end go together (leave both out for whole days)' });
    } else if (window.start !== undefined && window.start === window.end) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: 'end must differ from start (leave both out for whole days)' });
    }
  });

  const rule = strict({
    id: ruleId,
    description: z.string().optional(),
    effect: z.enum(EFFECTS),
    agent_classes: nonEmpty(classOrAny).default(['*']),
    providers: nonEmpty(providerOrAny).default(['*']),
    scopes: nonEmpty(scopeGlob).default(['*']),
    max_scope: nonEmpty(scopeGlob).optional(),
    when: strict({ time: timeWindow.optional(), cel: celExpression.optional() }).optional(),
    ttl: duration(true).optional(),
  });

  const testCase = strict({
    name: z.string().min(1),
    request: strict({
      agent: strict({ id: z.string().min(1).default('agt_test'), name: z.string().min(1), class: z.string().default('') }),
      provider: z.string().min(1),
      scopes: z.array(z.string()),
      ceiling: z.array(z.string()).optional(),
      time: instant.default(() => new Date(DEFAULT_TEST_TIME)),
      run: strict({
        run_id: z.string().optional(),
        thread_id: z.string().optional(),
        tool_call_id: z.string().optional(),
        task: z.string().optional(),
      }).default({}),
      grant_type: z.string().min(1).default(TOKEN_EXCHANGE_GRANT),
      delegation: strict({
        depth: count.default(1),
        parent_class: z.string().default(''),
        chain: z.array(z.string()).default([]),
      }).optional(),
    }),
    expect: strict({
      effect: z.enum(EFFECTS),
      scopes: z.array(z.string()).optional(),
      rule: ruleRef.optional(),
      ttl: duration(false).optional(),
    }),
  });

  return strict({
    version: z.literal(1),
    defaults: strict({ ttl: duration(true).optional(), delegation: strict(delegationLimits).optional() }).optional(),
    // `summarizer:` with nothing after it declares a class with no settings, like `{}`.
    agent_classes: z.record(z.string(), z.preprocess((v) => v ?? {}, agentClass)).optional(),
    providers: z.record(z.string(), z.preprocess((v) => v ?? {}, provider)).optional(),
    rules: z.array(rule),
    tests: z.array(testCase).optional(),
  });
}

/** A policy text that passed the schema (durations in seconds, CEL compiled, defaults filled). */
export type PolicyDocument = z.output<ReturnType<typeof policySchema>>;
/** One validated rule. */
export type RuleDocument = PolicyDocument['rules'][number];
/** One validated embedded test. */
export type TestDocument = NonNullable<PolicyDocument['tests']>[number];
