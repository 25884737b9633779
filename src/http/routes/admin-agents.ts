import Router from '@koa/router';
import type { AgentService } from '../../agents/agent-service.ts';
import type { Agent, Tenant } from '../../ports/store.ts';
import { InvalidRequest } from '../../shared/errors.ts';
import { readJsonBody } from '../json-body.ts';

/** An agent as the admin API shows it (snake_case, RFC 7591 names where they exist). */
export function agentView(agent: Agent): Record<string, unknown> {
  return {
    client_id: agent.id,
    name: agent.name,
    class: agent.agentClass,
    status: agent.status,
    scopes: agent.scopes,
    token_endpoint_auth_method: 'private_key_jwt',
    ...(agent.jwks ? { jwks: agent.jwks } : { jwks_uri: agent.jwksUri }),
    org_id: agent.orgId,
    app_id: agent.appId,
    created_at: agent.createdAt.toISOString(),
    updated_at: agent.updatedAt.toISOString(),
  };
}

function parseLimit(raw: unknown): number {
  if (raw === undefined) return 50;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 500) throw new InvalidRequest('limit: must be an integer from 1 to 500');
  return n;
}

/** `/v1/admin/agents`: register, list, show, disable, enable, delete. */
export function adminAgentRoutes(deps: { agents: AgentService; bodyLimitBytes: number }): Router {
  const { agents } = deps;
  const router = new Router({ prefix: '/v1/admin/agents' });
  const tenantOf = (state: Record<string, unknown>) => state.tenant as Tenant;

  router.post('/', async (ctx) => {
    const agent = await agents.create(tenantOf(ctx.state), await readJsonBody(ctx, deps.bodyLimitBytes));
    ctx.status = 201;
    ctx.set('Location', `/v1/admin/agents/${agent.id}`);
    ctx.body = agentView(agent);
  });

  router.get('/', async (ctx) => {
    const cursor = typeof ctx.query.cursor === 'string' ? ctx.query.cursor : undefined;
    const page = await agents.list(tenantOf(ctx.state), { limit: parseLimit(ctx.query.limit), ...(cursor ? { cursor } : {}) });
    ctx.body = { agents: page.items.map(agentView), ...(page.nextCursor ? { next_cursor: page.nextCursor } : {}) };
  });

  router.get('/:id', async (ctx) => {
    ctx.body = agentView(await agents.get(tenantOf(ctx.state), ctx.params.id!));
  });

  router.post('/:id/disable', async (ctx) => {
    ctx.body = agentView(await agents.disable(tenantOf(ctx.state), ctx.params.id!));
  });

  router.post('/:id/enable', async (ctx) => {
    ctx.body = agentView(await agents.enable(tenantOf(ctx.state), ctx.params.id!));
  });

  router.delete('/:id', async (ctx) => {
    await agents.delete(tenantOf(ctx.state), ctx.params.id!);
    ctx.status = 204;
  });

  return router;
}
