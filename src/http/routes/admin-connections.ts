import Router from '@koa/router';
import { z } from 'zod';
import { appKeyView, type AppKeyService } from '../../connections/app-keys.ts';
import type { AppWebhooks } from '../../connections/app-webhooks.ts';
import { connectionView, type ConnectionService } from '../../connections/connection-service.ts';
import { providerConfigView, type ProviderConfigService } from '../../connections/provider-configs.ts';
import type { AppStore, TenantRef } from '../../ports/connections.ts';
import type { CatalogProvider } from '../../providers/catalog.ts';
import { NotFound } from '../../shared/errors.ts';
import { invalidInput } from '../../shared/invalid-input.ts';
import { readJsonBody } from '../json-body.ts';

const tenantOf = (state: unknown): TenantRef => (state as { tenant: TenantRef }).tenant;

const httpsOrLoopback = z.string().url().refine((u) => {
  const url = new URL(u);
  return url.protocol === 'https:' || (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname));
}, 'must be an https URL (http only for localhost)');
const origin = httpsOrLoopback.refine((u) => new URL(u).origin === u.replace(/\/$/, ''), 'must be an origin (scheme://host[:port], no path)');
const AppInput = z.strictObject({
  redirect_urls: z.array(httpsOrLoopback.refine((u) => !new URL(u).hash, 'must not have a #fragment')).max(50).optional(),
  allowed_origins: z.array(origin).max(50).optional(),
  webhook_url: httpsOrLoopback.nullable().optional(),
});

/** A catalog entry as the admin API lists it. */
function catalogView(entry: CatalogProvider, configured: boolean): Record<string, unknown> {
  return {
    name: entry.name, display_name: entry.display_name, categories: entry.categories, verified: entry.verified, source: entry.source,
    configured, pkce: entry.oauth.pkce, refresh: entry.refresh.supported, templates: Object.keys(entry.templates),
    permissions: Object.keys(entry.permissions), api_base_urls: entry.api.base_urls,
  };
}

/**
 * `/v1/admin/app` (Connect allowlists, webhook), `/v1/admin/app-keys`, `/v1/admin/providers`
 * (catalog and per-app configuration), `/v1/admin/connections` (every connection of the app).
 */
export function adminConnectionRoutes(deps: {
  apps: AppStore; appKeys: AppKeyService; providers: ProviderConfigService; connections: ConnectionService; webhooks: AppWebhooks; bodyLimitBytes: number;
}): Router {
  const router = new Router({ prefix: '/v1/admin' });
  const appView = async (tenant: TenantRef) => {
    const app = await deps.apps.settings(tenant);
    if (!app) throw new NotFound('no such app');
    return {
      id: app.appId, redirect_urls: app.redirectUrls, allowed_origins: app.allowedOrigins, webhook_url: app.webhookUrl ?? null,
      ...(app.webhookUrl ? { webhook_secret: await deps.webhooks.secret(tenant) } : {}),
    };
  };

  router.get('/app', async (ctx) => {
    ctx.body = await appView(tenantOf(ctx.state));
  });
  router.put('/app', async (ctx) => {
    const parsed = AppInput.safeParse(await readJsonBody(ctx, deps.bodyLimitBytes));
    if (!parsed.success) throw invalidInput(parsed.error);
    const b = parsed.data;
    await deps.apps.updateSettings(tenantOf(ctx.state), {
      ...(b.redirect_urls ? { redirectUrls: b.redirect_urls } : {}),
      ...(b.allowed_origins ? { allowedOrigins: b.allowed_origins.map((o) => o.replace(/\/$/, '')) } : {}),
      ...(b.webhook_url !== undefined ? { webhookUrl: b.webhook_url } : {}),
    });
    ctx.body = await appView(tenantOf(ctx.state));
  });

  router.post('/app-keys', async (ctx) => {
    const { key, record } = await deps.appKeys.create(tenantOf(ctx.state), await readJsonBody(ctx, deps.bodyLimitBytes));
    ctx.status = 201;
    ctx.body = { ...appKeyView(record), key };
  });
  router.get('/app-keys', async (ctx) => {
    ctx.body = { keys: (await deps.appKeys.list(tenantOf(ctx.state))).map(appKeyView) };
  });
  router.delete('/app-keys/:id', async (ctx) => {
    await deps.appKeys.revoke(tenantOf(ctx.state), ctx.params.id!);
    ctx.status = 204;
  });

  router.get('/providers', async (ctx) => {
    const configured = new Set((await deps.providers.list(tenantOf(ctx.state))).map((c) => c.provider));
    const onlyConfigured = ctx.query.configured === 'true';
    ctx.body = {
      providers: deps.providers.catalog.list().filter((e) => !onlyConfigured || configured.has(e.name)).map((e) => catalogView(e, configured.has(e.name))),
    };
  });
  router.get('/providers/:name', async (ctx) => {
    const entry = deps.providers.entry(ctx.params.name!);
    const found = await deps.providers.find(tenantOf(ctx.state), entry.name);
    ctx.body = { ...catalogView(entry, Boolean(found)), ...(found ? { configuration: providerConfigView(found.config) } : {}), redirect_uri: deps.providers.redirectUri };
  });
  router.put('/providers/:name', async (ctx) => {
    const config = await deps.providers.configure(tenantOf(ctx.state), ctx.params.name!, await readJsonBody(ctx, deps.bodyLimitBytes));
    ctx.body = { ...providerConfigView(config), redirect_uri: deps.providers.redirectUri };
  });
  router.delete('/providers/:name', async (ctx) => {
    await deps.providers.remove(tenantOf(ctx.state), ctx.params.name!);
    ctx.status = 204;
  });

  router.get('/connections', async (ctx) => {
    const endUserId = typeof ctx.query.end_user_id === 'string' ? ctx.query.end_user_id : undefined;
    const provider = typeof ctx.query.provider === 'string' ? ctx.query.provider : undefined;
    ctx.body = { connections: (await deps.connections.list(tenantOf(ctx.state), { ...(endUserId ? { endUserId } : {}), ...(provider ? { provider } : {}) })).map(connectionView) };
  });
  router.delete('/connections/:id', async (ctx) => {
    const { upstream } = await deps.connections.revoke(tenantOf(ctx.state), ctx.params.id!, { actor: 'admin' });
    ctx.body = { id: ctx.params.id, status: 'revoked', upstream_revocation: upstream };
  });
  return router;
}
