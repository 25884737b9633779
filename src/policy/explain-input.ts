import { z } from 'zod';
import { TOKEN_EXCHANGE_GRANT } from '../exchange/token-types.ts';
import { InvalidRequest } from '../shared/errors.ts';
import type { CompiledPolicy, PolicyRequest } from './types.ts';

/** The body of `POST /v1/admin/policy/explain` and what `alter policy explain` sends. */
export const ExplainInput = z.strictObject({
  agent: z.strictObject({ name: z.string().min(1), class: z.string().min(1), id: z.string().min(1).optional() }),
  /** A provider name or one of its resource URLs. */
  provider: z.string().min(1),
  scopes: z.array(z.string().min(1)).min(1),
  /** ISO 8601 instant; default now. */
  time: z.iso.datetime({ offset: true }).optional(),
  run: z.strictObject({ run_id: z.string(), thread_id: z.string(), tool_call_id: z.string(), task: z.string() }).partial().optional(),
  grant_type: z.string().optional(),
});
export type ExplainInput = z.infer<typeof ExplainInput>;

/** Turns explain input into a policy request for `policy` (the provider resolved through it). */
export function explainRequest(policy: CompiledPolicy, input: ExplainInput): PolicyRequest {
  const provider = policy.resolveProvider(input.provider);
  if (!provider) throw new InvalidRequest(`provider "${input.provider}" is not declared by the policy (known: ${policy.providers.join(', ') || 'none'})`);
  return {
    agent: { id: input.agent.id ?? 'agt_explain', name: input.agent.name, class: input.agent.class },
    provider,
    scopes: input.scopes,
    grantType: input.grant_type ?? TOKEN_EXCHANGE_GRANT,
    run: input.run ?? {},
    time: input.time ? new Date(input.time) : new Date(),
  };
}
