import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { ConnectOutcome, ConnectService } from '../../connections/connect-service.ts';
import { AlterError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { donePage, errorPage, pickerPage, popupResultPage } from '../connect-html.ts';
import { POPUP_SCRIPT } from '../connect-popup-script.ts';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function html(ctx: Context, status: number, body: string, nonce?: string): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Cache-Control', 'no-store');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'no-referrer');
  // no form-action: the picker's form redirects on to the provider, and form-action applies to redirects too
  ctx.set('Content-Security-Policy', `default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'${nonce ? `; script-src 'nonce-${nonce}'` : ''}`);
  ctx.body = body;
}

/** A failure page; anything not an Alter error is logged and shown as a generic one. */
function failure(ctx: Context, log: Logger, err: unknown): void {
  if (err instanceof AlterError) {
    html(ctx, err.status >= 500 ? 502 : err.status, errorPage(err.error, err.message));
    return;
  }
  log.error({ path: ctx.path, err: { message: (err as Error).message, stack: (err as Error).stack } }, 'Connect page error');
  html(ctx, 500, errorPage('server_error', 'Something went wrong on our side; it has been logged. Try again from the app.'));
}

/** How a finished flow reports back: redirect to the app, message to the opener, or a page. */
function report(ctx: Context, outcome: ConnectOutcome): void {
  const { session, result } = outcome;
  const ok = 'connectionId' in result;
  const fields: Record<string, string> = ok
    ? { status: 'completed', connection_id: result.connectionId, provider: result.provider, session_id: session.id }
    : { status: 'failed', error: result.error, error_description: result.errorDescription, session_id: session.id };
  if (outcome.mode === 'popup' && outcome.origin) {
    const nonce = randomBytes(16).toString('base64');
    html(ctx, ok ? 200 : 400, popupResultPage(nonce, outcome.origin, { type: 'alter:connect', ...fields }), nonce);
    return;
  }
  if (outcome.mode === 'redirect' && session.redirectUrl) {
    const target = new URL(session.redirectUrl);
    for (const [k, v] of Object.entries(fields)) if (k !== 'status') target.searchParams.set(k, v);
    ctx.redirect(target.toString());
    return;
  }
  if (ok) html(ctx, 200, donePage(outcome.mode === 'headless' ? 'Connected. You can close this window and go back to your terminal.' : 'Connected. You can close this window.'));
  else html(ctx, 400, errorPage(result.error, result.errorDescription));
}

/**
 * The hosted Connect pages (end users' browsers): `GET /connect` (pick a provider),
 * `GET /connect/authorize` (to the provider), `GET /connect/callback` (back from it; the
 * redirect URI every provider configuration registers), `GET /connect/popup.js`.
 */
export function connectPageRoutes(deps: { connect: ConnectService; log: Logger }): Router {
  const router = new Router();

  router.get('/connect', async (ctx) => {
    try {
      const token = str(ctx.query.token);
      const session = await deps.connect.sessionByToken(token);
      const mode = str(ctx.query.mode) ?? 'redirect';
      const origin = str(ctx.query.origin);
      html(ctx, 200, pickerPage({ token: token!, mode, ...(origin ? { origin } : {}), choices: await deps.connect.choices(session), endUser: session.endUserId }));
    } catch (err) {
      failure(ctx, deps.log, err);
    }
  });

  router.get('/connect/authorize', async (ctx) => {
    try {
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(ctx.query)) if (k.startsWith('param_') && typeof v === 'string') params[k.slice(6)] = v;
      const url = await deps.connect.start({
        token: str(ctx.query.token), provider: str(ctx.query.provider), mode: str(ctx.query.mode), origin: str(ctx.query.origin), params,
      } as Parameters<ConnectService['start']>[0]);
      ctx.set('Cache-Control', 'no-store');
      ctx.redirect(url.toString());
    } catch (err) {
      failure(ctx, deps.log, err);
    }
  });

  router.get('/connect/callback', async (ctx) => {
    try {
      report(ctx, await deps.connect.complete(new URL(ctx.href)));
    } catch (err) {
      failure(ctx, deps.log, err);
    }
  });

  router.get('/connect/popup.js', (ctx) => {
    ctx.type = 'application/javascript; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.body = POPUP_SCRIPT;
  });
  return router;
}
