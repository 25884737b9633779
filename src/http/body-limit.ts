import type { Context, Next } from 'koa';
import { PayloadTooLarge } from '../shared/errors.ts';

/** Refuses a declared body larger than the limit before anything reads it (413). */
export function bodyLimit(limitBytes: number) {
  return async function limitBody(ctx: Context, next: Next): Promise<void> {
    const length = Number(ctx.get('Content-Length') || 0);
    if (length > limitBytes) throw new PayloadTooLarge(limitBytes);
    await next();
  };
}
