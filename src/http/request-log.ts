import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from '../shared/logger.ts';

/** Assigns a request id (echoed as `X-Request-Id`) and logs one line per request, no bodies. */
export function requestLog(log: Logger) {
  return async function logRequest(ctx: Context, next: Next): Promise<void> {
    const started = process.hrtime.bigint();
    const incoming = ctx.get('X-Request-Id');
    const id = /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const status = ctx.res.headersSent || !ctx.respond ? ctx.res.statusCode : ctx.status;
      if (ctx.path !== '/healthz' && ctx.path !== '/readyz') {
        log.info({ reqId: id, method: ctx.method, path: ctx.path, status, ms: Math.round(ms * 10) / 10 }, 'request');
      }
    }
  };
}
