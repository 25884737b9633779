import Router from '@koa/router';
import { ExplainInput, explainRequest } from '../../policy/explain-input.ts';
import type { PolicyService } from '../../policy/policy-service.ts';
import { invalidInput } from '../../shared/invalid-input.ts';
import { readJsonBody } from '../json-body.ts';

/** `/v1/admin/policy`: the policy in force on this node, and why it decides what it decides. */
export function adminPolicyRoutes(deps: { policy: PolicyService; bodyLimitBytes: number }): Router {
  const router = new Router({ prefix: '/v1/admin/policy' });

  router.get('/', (ctx) => {
    const policy = deps.policy.current();
    ctx.body = { revision: policy.revision, origin: policy.origin, providers: policy.providers };
  });

  router.post('/explain', async (ctx) => {
    const parsed = ExplainInput.safeParse(await readJsonBody(ctx, deps.bodyLimitBytes));
    if (!parsed.success) throw invalidInput(parsed.error);
    const policy = deps.policy.current();
    ctx.body = policy.explain(explainRequest(policy, parsed.data));
  });

  return router;
}
