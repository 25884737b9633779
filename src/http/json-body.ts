import type { Context } from 'koa';
import { InvalidRequest, PayloadTooLarge } from '../shared/errors.ts';

/** Reads a JSON request body (at most `limitBytes`); an empty body is `{}`. */
export async function readJsonBody(ctx: Context, limitBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw new PayloadTooLarge(limitBytes);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  if (!ctx.is('application/json')) throw new InvalidRequest('the request body must be JSON (Content-Type: application/json)');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new InvalidRequest('the request body is not valid JSON');
  }
}
