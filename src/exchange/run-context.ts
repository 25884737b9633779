import type { RunContext } from '../policy/types.ts';
import { InvalidRequest } from '../shared/errors.ts';

/** Longest value of each run context member. */
export const RUN_LIMITS: Record<keyof RunContext, number> = { run_id: 200, thread_id: 200, tool_call_id: 200, task: 1000 };

// eslint-disable-next-line no-control-regex -- refusing control characters is the point
export const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The run context (DESIGN.md, Identities) as a request carries it: token exchange in form
 * parameters, the proxy in `Alter-Run-Id`-style headers. `read` returns a member's raw value
 * (undefined when absent); `label` names it in error messages. Too long or control characters:
 * `invalid_request`.
 */
export function runContextOf(read: (member: keyof RunContext) => string | undefined, label: (member: keyof RunContext) => string): RunContext {
  const run: RunContext = {};
  for (const member of Object.keys(RUN_LIMITS) as Array<keyof RunContext>) {
    const value = read(member);
    if (value === undefined) continue;
    if (value.length > RUN_LIMITS[member]) throw new InvalidRequest(`${label(member)} is longer than ${RUN_LIMITS[member]} characters`);
    if (CONTROL.test(value)) throw new InvalidRequest(`${label(member)} must not contain control characters`);
    run[member] = value;
  }
  return run;
}

/** A claim's value when it is a non-empty string. */
export function stringClaim(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
