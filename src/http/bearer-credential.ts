import type { Context } from 'koa';
import { InvalidToken } from '../shared/errors.ts';

/**
 * The Bearer credential of a request (RFC 6750 §2.1), or a 401 `invalid_token` saying what to
 * send: `what` names the credential ("admin key", "app API key", "Connect session token").
 */
export function bearerOf(ctx: Context, what: string): string {
  const header = ctx.get('Authorization');
  if (!header) throw new InvalidToken(`this endpoint needs the ${what}: send "Authorization: Bearer <${what}>"`);
  const match = /^Bearer ([\x21-\x7E]+)$/i.exec(header);
  if (!match) throw new InvalidToken(`malformed Authorization header: expected "Bearer <${what}>"`);
  return match[1]!;
}
