import { Environment, type ParseResult } from '@marcbachmann/cel-js';
import type { PolicyRequest, RunContext } from './types.ts';

/*
 * `when.cel` conditions (Common Expression Language). Every expression is parsed and
 * type-checked once, when the policy is compiled, against declared variable types: a typo
 * (`run.taks`) or a type error (`agent.name + 1`) rejects the policy instead of denying at
 * run time. The variables are instances of the classes below, which the library reads without
 * converting them on every evaluation.
 */

class CelAgent {
  readonly id: string;
  readonly name: string;
  readonly class: string;
  constructor(id: string, name: string, agentClass: string) {
    this.id = id;
    this.name = name;
    this.class = agentClass;
  }
}

class CelRequest {
  readonly provider: string;
  readonly scopes: readonly string[];
  readonly grant_type: string;
  constructor(provider: string, scopes: readonly string[], grantType: string) {
    this.provider = provider;
    this.scopes = scopes;
    this.grant_type = grantType;
  }
}

class CelRun {
  readonly run_id: string;
  readonly thread_id: string;
  readonly tool_call_id: string;
  readonly task: string;
  constructor(run: RunContext) {
    this.run_id = run.run_id ?? '';
    this.thread_id = run.thread_id ?? '';
    this.tool_call_id = run.tool_call_id ?? '';
    this.task = run.task ?? '';
  }
}

class CelDelegation {
  /** CEL ints are BigInt. */
  readonly depth: bigint;
  readonly parent_class: string;
  readonly chain: readonly string[];
  constructor(depth: bigint, parentClass: string, chain: readonly string[]) {
    this.depth = depth;
    this.parent_class = parentClass;
    this.chain = chain;
  }
}

/** Built once: creating an Environment is expensive, parsing against it is not. */
const environment = new Environment()
  .registerType('Agent', { ctor: CelAgent, fields: { id: 'string', name: 'string', class: 'string' } })
  .registerType('Request', { ctor: CelRequest, fields: { provider: 'string', scopes: 'list<string>', grant_type: 'string' } })
  .registerType('Run', {
    ctor: CelRun,
    fields: { run_id: 'string', thread_id: 'string', tool_call_id: 'string', task: 'string' },
  })
  .registerType('Delegation', { ctor: CelDelegation, fields: { depth: 'int', parent_class: 'string', chain: 'list<string>' } })
  .registerVariable('agent', 'Agent')
  .registerVariable('request', 'Request')
  .registerVariable('run', 'Run')
  .registerVariable('delegation', 'Delegation')
  .registerVariable('now', 'google.protobuf.Timestamp');

/** The variables one decision exposes to CEL (built at most once per decision). */
export type CelContext = Readonly<{
  agent: CelAgent;
  request: CelRequest;
  run: CelRun;
  delegation: CelDelegation;
  now: Date;
}>;

/** Builds the CEL variables of a request; `agentClass` is the effective class ('' if none). */
export function celContext(request: PolicyRequest, agentClass: string | undefined): CelContext {
  const delegation = request.delegation;
  return {
    agent: new CelAgent(request.agent.id, request.agent.name, agentClass ?? ''),
    request: new CelRequest(request.provider, request.scopes, request.grantType),
    run: new CelRun(request.run ?? {}),
    delegation: delegation
      ? new CelDelegation(BigInt(Math.trunc(delegation.depth)), delegation.parentClass, delegation.chain)
      : new CelDelegation(0n, '', []),
    now: request.time,
  };
}

/** A compiled `when.cel`. */
export interface CelCondition {
  readonly source: string;
  /** True or false; throws when the expression fails or does not yield a bool. */
  test(context: CelContext): boolean;
}

/** Why an expression was refused at compile time, and where in the expression (0-based). */
export interface CelCompileError {
  message: string;
  offset?: number;
}

/** Parses and type-checks an expression; the result must be a bool. */
export function compileCel(source: string): CelCondition | CelCompileError {
  let parsed: ParseResult;
  try {
    parsed = environment.parse(source);
  } catch (err) {
    return compileError(err);
  }
  const checked = parsed.check();
  if (!checked.valid) return compileError(checked.error);
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    return { message: `expression must yield a bool, it yields ${checked.type ?? 'an unknown type'}` };
  }
  return Object.freeze({
    source,
    test(context: CelContext): boolean {
      const value: unknown = parsed(context);
      if (typeof value !== 'boolean') throw new TypeError(`expression yielded ${describeValue(value)}, expected a bool`);
      return value;
    },
  });
}

/** Whether `compileCel` succeeded. */
export function isCelCondition(value: CelCondition | CelCompileError): value is CelCondition {
  return 'test' in value;
}

/** The library's one-line summary (its `message` adds a source excerpt over several lines). */
export function celErrorMessage(err: unknown): string {
  if (err && typeof err === 'object') {
    const summary = (err as { summary?: unknown }).summary;
    if (typeof summary === 'string' && summary) return summary;
    const message = (err as { message?: unknown }).message;
    if (typeof message === 'string') return message.split('\n')[0] ?? message;
  }
  return String(err);
}

function compileError(err: unknown): CelCompileError {
  const range = (err as { range?: { start?: unknown } } | undefined)?.range;
  const offset = typeof range?.start === 'number' ? range.start : undefined;
  return offset === undefined ? { message: celErrorMessage(err) } : { message: celErrorMessage(err), offset };
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return `an int (${value})`;
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}
