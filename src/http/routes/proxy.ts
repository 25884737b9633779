import type { Context, Next } from 'koa';
import type { ProxyService } from '../../proxy/proxy-service.ts';
import { InsufficientScope } from '../../proxy/proxy-errors.ts';
import { returnedResponseHeaders } from '../../proxy/proxy-headers.ts';
import { AlterError, InvalidRequest } from '../../shared/errors.ts';
import { bearerOf } from '../bearer-credential.ts';

const PREFIX = '/v1/proxy/';

/**
 * `{METHOD} /v1/proxy/{grant_id}/{host}{path}?{query}` (docs/proxy.md). Thin: splits the raw URL
 * (percent-encoding untouched), hands the body stream over, streams the answer back. Alter's own
 * errors carry `Alter-Error`; an upstream answer never does.
 */
export function proxyRoute(deps: { proxy: ProxyService }) {
  return async function proxy(ctx: Context, next: Next): Promise<void> {
    const raw = ctx.req.url ?? '';
    if (!raw.startsWith(PREFIX)) {
      await next();
      return;
    }
    ctx.set('Alter-Request-Id', String(ctx.state.requestId ?? ''));
    const abort = new AbortController();
    ctx.res.once('close', () => {
      if (!ctx.res.writableFinished) abort.abort();
    });
    try {
      const query = raw.indexOf('?');
      const rest = (query === -1 ? raw : raw.slice(0, query)).slice(PREFIX.length);
      const slash = rest.indexOf('/');
      if (slash <= 0) throw new InvalidRequest('the proxy path is /v1/proxy/{grant_id}/{host}/{path}, e.g. /v1/proxy/con_…/api.github.com/user');
      const bearer = bearerOf(ctx, 'Alter access token or app API key');
      const length = ctx.get('Content-Length');
      const contentLength = length === '' ? undefined : Number(length);
      if (contentLength !== undefined && !(Number.isSafeInteger(contentLength) && contentLength >= 0)) throw new InvalidRequest('Content-Length is not a number');
      const hasBody = ctx.get('Transfer-Encoding') !== '' || (contentLength ?? 0) > 0;
      const result = await deps.proxy.forward({
        grantId: rest.slice(0, slash),
        method: ctx.method,
        target: rest.slice(slash + 1),
        search: query === -1 ? '' : raw.slice(query),
        headers: ctx.req.headers,
        bearer,
        ...(hasBody ? { body: ctx.req } : {}),
        ...(contentLength !== undefined ? { contentLength } : {}),
        signal: abort.signal,
        ...(ctx.state.requestId ? { requestId: String(ctx.state.requestId) } : {}),
        startedAt: performance.now(),
      });
      // koa destroys the stream when the response ends (and never reads it for HEAD): undici then
      // reports an abort, which must not go unhandled; an upstream failing mid-body just ends the response
      if (!Buffer.isBuffer(result.body)) result.body.on('error', () => {});
      ctx.status = result.status;
      ctx.body = result.body; // before the headers: koa drops Content-Length when a stream is assigned
      const headers = returnedResponseHeaders(result.headers);
      if (headers['content-type'] === undefined) ctx.remove('Content-Type');
      for (const [name, value] of Object.entries(headers)) ctx.set(name, value);
    } catch (err) {
      if (abort.signal.aborted) {
        // the caller hung up: nobody to answer, nothing to log as an error
        ctx.respond = false;
        return;
      }
      if (err instanceof AlterError) ctx.set('Alter-Error', err.error);
      if (err instanceof InsufficientScope) {
        ctx.set('WWW-Authenticate', `Bearer error="insufficient_scope"${err.required.length > 0 ? `, scope="${err.required.join(' ')}"` : ''}`);
      }
      throw err;
    }
  };
}
