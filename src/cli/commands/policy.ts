import { compilePolicy } from '../../policy/compile-policy.ts';
import { ExplainInput, explainRequest } from '../../policy/explain-input.ts';
import { PolicyInvalid } from '../../policy/policy-error.ts';
import type { CompiledPolicy, PolicyExplanation } from '../../policy/types.ts';
import { ADMIN_OPTIONS, listOption, requireOption, SERVER_OPTIONS, stringOption } from '../args.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { CliError, UsageError } from '../errors.ts';
import { readFileArg } from '../read-file-arg.ts';
import { adminClient } from './agent.ts';

/** Reads and compiles a policy file; problems become a CLI error listing them (exit 1). */
function compileFile(ctx: CommandContext, file: string): CompiledPolicy {
  return compilePolicy(readFileArg(ctx.io, file), { origin: file });
}

const check: CommandSpec = {
  path: ['policy', 'check'],
  summary: 'validate a policy file and run its embedded tests',
  usage: 'FILE',
  positionals: ['FILE'],
  description: [
    'Checks a YAML policy exactly as the server does before accepting a new version: schema,',
    'references, time zones, CEL expressions, and every test under `tests:`. Prints each problem',
    'as FILE:LINE:COLUMN and exits 1 when there is one. Needs no server.',
  ].join('\n'),
  options: {},
  examples: ['alter policy check ./data/policy.yaml'],
  async run(ctx) {
    const file = ctx.positionals[0]!;
    let policy: CompiledPolicy;
    try {
      policy = compileFile(ctx, file);
    } catch (err) {
      if (!(err instanceof PolicyInvalid)) throw err;
      if (ctx.out.json) ctx.out.data({ valid: false, issues: err.issues });
      else ctx.out.line(err.message);
      return 1;
    }
    if (ctx.out.json) ctx.out.data({ valid: true, revision: policy.revision, providers: policy.providers });
    else ctx.out.line(`${file}: valid (revision ${policy.revision.slice(0, 12)}, providers: ${policy.providers.join(', ') || 'none'}); embedded tests pass`);
  },
};

function printExplanation(ctx: CommandContext, result: PolicyExplanation): void {
  const d = result.decision;
  ctx.out.fields([
    ['decision', d.effect],
    ['scopes', d.scopes.length > 0 ? d.scopes.join(' ') : '(none)'],
    ['removed', d.removed.length > 0 ? d.removed.join(' ') : undefined],
    ['rule', d.ruleId],
    ['reason', d.reason],
    ['ttl', `${d.ttlSeconds}s`],
    ['class', result.agentClass ?? '(unclassified)'],
    ['revision', d.revision.slice(0, 12)],
  ]);
  ctx.out.line();
  ctx.out.table(['RULE', 'EFFECT', 'MATCHED', 'WHY'], result.rules.map((r) => [r.id, r.effect, r.matched ? 'yes' : 'no', r.reason]));
}

const explain: CommandSpec = {
  path: ['policy', 'explain'],
  summary: 'show which rules match a request and what the policy decides',
  usage: '--agent NAME --class CLASS --provider PROVIDER --scope SCOPE... [--at TIME] [--file FILE]',
  description: [
    'Evaluates one request against the policy and lists every rule with whether it matched and',
    'why. With --file the policy file is evaluated locally; otherwise the running server\'s',
    'policy is asked (admin key required).',
  ].join('\n'),
  options: {
    agent: { type: 'string', value: 'NAME', help: 'agent name (class name globs match it)' },
    class: { type: 'string', value: 'CLASS', help: 'the agent\'s registered class' },
    provider: { type: 'string', value: 'PROVIDER', help: 'provider name or resource URL' },
    scope: { type: 'string', multiple: true, value: 'SCOPE', help: 'requested scope (repeat, or space-separated)' },
    at: { type: 'string', value: 'TIME', help: 'ISO 8601 instant to decide for (default now), e.g. 2026-11-24T09:30:00+01:00' },
    task: { type: 'string', value: 'TEXT', help: 'run context: task' },
    'run-id': { type: 'string', value: 'ID', help: 'run context: run_id' },
    file: { type: 'string', value: 'FILE', help: 'evaluate this policy file locally instead of the server\'s policy' },
    ...SERVER_OPTIONS,
    ...ADMIN_OPTIONS,
  },
  examples: [
    'alter policy explain --agent scheduling-bot --class data-reader --provider github --scope repo:write',
    'alter policy explain --file policy.yaml --agent bot --class intern --provider calendar --scope calendar:read --at 2026-11-28T22:00:00Z',
  ],
  async run(ctx) {
    const raw = {
      agent: { name: requireOption(ctx.values, 'agent'), class: requireOption(ctx.values, 'class') },
      provider: requireOption(ctx.values, 'provider'),
      scopes: listOption(ctx.values, 'scope'),
      ...(stringOption(ctx.values, 'at') ? { time: stringOption(ctx.values, 'at') } : {}),
      run: {
        ...(stringOption(ctx.values, 'task') ? { task: stringOption(ctx.values, 'task') } : {}),
        ...(stringOption(ctx.values, 'run-id') ? { run_id: stringOption(ctx.values, 'run-id') } : {}),
      },
    };
    const parsed = ExplainInput.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const name = issue.path[0] === 'time' ? '--at' : issue.path[0] === 'scopes' ? '--scope' : `--${String(issue.path.at(-1))}`;
      throw new UsageError(`${name}: ${issue.path[0] === 'scopes' ? 'at least one scope is required' : issue.message}`);
    }
    const file = stringOption(ctx.values, 'file');
    let result: PolicyExplanation;
    if (file) {
      const policy = compileFile(ctx, file);
      try {
        result = policy.explain(explainRequest(policy, parsed.data));
      } catch (err) {
        throw new CliError((err as Error).message);
      }
    } else {
      result = await adminClient(ctx).explainPolicy(parsed.data);
    }
    if (ctx.out.json) ctx.out.data(result);
    else printExplanation(ctx, result);
  },
};

/** `alter policy …`: check and explain YAML policies. */
export const policyCommands: readonly CommandSpec[] = [check, explain];
