import Koa, { type Context, type Next } from 'koa';
import type { AgentService } from '../agents/agent-service.ts';
import type { SigningKeyService } from '../keys/signing-key-service.ts';
import type { PolicyService } from '../policy/policy-service.ts';
import type { AuditService } from '../audit/audit-service.ts';
import type { ExportCursorStore } from '../ports/audit.ts';
import type { AdminKeyStore, Tenant } from '../ports/store.ts';
import type { ProviderHolder } from '../provider/provider-holder.ts';
import type { Logger } from '../shared/logger.ts';
import { adminAuth } from './admin-auth.ts';
import { bodyLimit } from './body-limit.ts';
import { errorHandler } from './error-handler.ts';
import { requestLog } from './request-log.ts';
import { adminAgentRoutes } from './routes/admin-agents.ts';
import { adminKeyRoutes } from './routes/admin-keys.ts';
import { adminPolicyRoutes } from './routes/admin-policy.ts';
import { adminAuditRoutes, auditKeyRoutes } from './routes/admin-audit.ts';
import { adminSecretRoutes } from './routes/admin-secrets.ts';
import type { ManagedSecretService } from '../vault/managed-secrets.ts';
import type { KekRotation } from '../vault/kek-rotation.ts';
import { healthRoutes } from './routes/health.ts';
import { adminConnectionRoutes } from './routes/admin-connections.ts';
import { connectApiRoutes } from './routes/connect-api.ts';
import { connectPageRoutes } from './routes/connect-pages.ts';
import type { AppKeyService } from '../connections/app-keys.ts';
import type { AppWebhooks } from '../connections/app-webhooks.ts';
import type { ConnectService } from '../connections/connect-service.ts';
import type { ConnectionService } from '../connections/connection-service.ts';
import type { ProviderConfigService } from '../connections/provider-configs.ts';
import type { AppStore } from '../ports/connections.ts';
import { delegateToProvider, oauthRoutes } from './routes/oauth.ts';
import { proxyRoute } from './routes/proxy.ts';
import type { ProxyService } from '../proxy/proxy-service.ts';

type Middleware = (ctx: Context, next: Next) => Promise<unknown>;

export interface HttpDeps {
  log: Logger;
  trustProxy: boolean;
  bodyLimitBytes: number;
  tenant: Tenant;
  adminKeys: AdminKeyStore;
  agents: AgentService;
  keys: SigningKeyService;
  kekRotation: KekRotation;
  policy: PolicyService;
  audit: AuditService;
  exportCursors: ExportCursorStore;
  secrets: ManagedSecretService;
  holder: ProviderHolder;
  readiness: Record<string, () => Promise<void>>;
  apps: AppStore;
  appKeys: AppKeyService;
  providers: ProviderConfigService;
  connect: ConnectService;
  connections: ConnectionService;
  webhooks: AppWebhooks;
  proxy: ProxyService;
}

/**
 * The HTTP surface, read top to bottom: request id and log → error serialisation → proxy → body limit →
 * health → admin API (admin key) → OAuth routes → oidc-provider. Routes stay thin: they parse,
 * call a service, and shape the answer.
 */
export function createHttpApp(deps: HttpDeps): Koa {
  const app = new Koa({ proxy: deps.trustProxy });
  app.silent = true;

  const health = healthRoutes({ checks: deps.readiness });
  const agents = adminAgentRoutes({ agents: deps.agents, bodyLimitBytes: deps.bodyLimitBytes });
  const keys = adminKeyRoutes({ keys: deps.keys, kekRotation: deps.kekRotation });
  const policy = adminPolicyRoutes({ policy: deps.policy, bodyLimitBytes: deps.bodyLimitBytes });
  const secrets = adminSecretRoutes({ secrets: deps.secrets, bodyLimitBytes: deps.bodyLimitBytes });
  const audit = adminAuditRoutes({ audit: deps.audit, cursors: deps.exportCursors, bodyLimitBytes: deps.bodyLimitBytes });
  const connectionsAdmin = adminConnectionRoutes({
    apps: deps.apps, appKeys: deps.appKeys, providers: deps.providers, connections: deps.connections, webhooks: deps.webhooks, bodyLimitBytes: deps.bodyLimitBytes,
  });
  const connectApi = connectApiRoutes({ appKeys: deps.appKeys, connect: deps.connect, connections: deps.connections, bodyLimitBytes: deps.bodyLimitBytes });
  const connectPages = connectPageRoutes({ connect: deps.connect, log: deps.log });
  const requireAdmin = adminAuth({ adminKeys: deps.adminKeys, tenant: deps.tenant });
  const oauth = oauthRoutes({ holder: deps.holder });

  app.use(requestLog(deps.log));
  app.use(errorHandler(deps.log));
  // before the body limit: proxied bodies stream through with their own limits
  app.use(proxyRoute({ proxy: deps.proxy }));
  app.use(bodyLimit(deps.bodyLimitBytes));
  app.use(health.routes());
  app.use(auditKeyRoutes({ audit: deps.audit }).routes());
  // The admin routers in turn, built once; the first that matches answers, else 404.
  const adminRouters = [agents, keys, policy, audit, secrets, connectionsAdmin].map((router) => router.routes() as unknown as Middleware);
  const adminNotFound: Middleware = async (ctx) => {
    ctx.status = 404;
    ctx.body = { error: 'not_found', error_description: `no admin endpoint ${ctx.method} ${ctx.path}` };
  };
  const admin = adminRouters.reduceRight<Middleware>((rest, router) => (ctx) => router(ctx, () => rest(ctx, async () => {})), adminNotFound);
  app.use(async (ctx, next) => {
    if (ctx.path === '/v1/admin' || ctx.path.startsWith('/v1/admin/')) {
      await requireAdmin(ctx, () => admin(ctx, async () => {}));
      return;
    }
    await next();
  });
  app.use(connectApi.routes());
  app.use(connectPages.routes());
  app.use(oauth.routes());
  app.use(delegateToProvider(deps.holder));
  return app;
}
