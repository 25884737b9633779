import type { Context, Next } from 'koa';
import { AlterError, ServiceUnavailable } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';

/**
 * The one place Alter's own routes turn errors into responses (STYLE.md §5): an
 * {@link AlterError} becomes its RFC-style JSON body; anything else is logged and becomes a
 * bare `server_error` (no message, no stack).
 */
export function errorHandler(log: Logger) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      if (err instanceof AlterError) {
        ctx.status = err.status;
        ctx.body = err.toJSON();
        if (err.status === 401) ctx.set('WWW-Authenticate', `Bearer error="${err.error}"`);
        if (err instanceof ServiceUnavailable) {
          ctx.set('Retry-After', '5');
          log.error({ code: err.code, err: { message: (err.cause as Error | undefined)?.message } }, err.message);
        } else if (err.detail) {
          log.info({ error: err.error, detail: err.detail }, 'request refused');
        }
        return;
      }
      log.error({ path: ctx.path, err: { message: (err as Error).message, stack: (err as Error).stack } }, 'unhandled error');
      ctx.status = 500;
      ctx.body = { error: 'server_error', error_description: 'an unexpected error occurred; it has been logged' };
    }
  };
}
