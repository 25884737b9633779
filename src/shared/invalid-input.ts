import type { z } from 'zod';
import { InvalidRequest } from './errors.ts';

/**
 * The `invalid_request` for input that failed its schema, naming the first problem and where:
 * `redirect_urls.0: must be an https URL` (`subject` when the problem is the whole input).
 */
export function invalidInput(error: z.ZodError, subject = 'body'): InvalidRequest {
  const issue = error.issues[0]!;
  return new InvalidRequest(`${issue.path.join('.') || subject}: ${issue.message}`);
}
