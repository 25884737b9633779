import { COMMON_OPTIONS, type OptionSpecs } from './args.ts';
import type { CommandSpec } from './command.ts';
import { COMMANDS, GROUPS } from './commands/index.ts';

function optionLines(options: OptionSpecs): string[] {
  const rows = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.value ? ` ${spec.value}` : ''}`;
    return [flag, spec.help] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return rows.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`);
}

function commandRows(commands: readonly CommandSpec[]): string[] {
  const rows = commands.map((c) => [c.path.join(' '), c.summary] as const);
  const width = Math.max(...rows.map(([name]) => name.length), 'help [COMMAND]'.length);
  return rows.map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`);
}

/** `alter help`: every command, the global options and a first example. */
export function mainHelp(): string {
  const agent = COMMANDS.filter((c) => c.path[0] === 'agent');
  const keys = COMMANDS.filter((c) => c.path[0] === 'keys');
  const tokens = COMMANDS.filter((c) => c.path.length === 1);
  const width = Math.max(...COMMANDS.map((c) => c.path.join(' ').length), 'help [COMMAND]'.length);
  return [
    'alter: command-line client for the Alter authorization server',
    '',
    'Usage: alter COMMAND [options]',
    '',
    'Agents (admin API):',
    ...commandRows(agent),
    'Signing keys (admin API):',
    ...commandRows(keys),
    'Acting as an agent:',
    ...commandRows(tokens),
    'Other:',
    `  ${'help [COMMAND]'.padEnd(width)}  show help for a command`,
    `  ${'--version'.padEnd(width)}  print the version`,
    '',
    'Common options:',
    '  --url URL         Alter server URL (env ALTER_URL, default http://localhost:8080)',
    '  --admin-key KEY   admin API key for agent and keys commands (env ALTER_ADMIN_KEY,',
    '                    else the admin.key file in the data directory)',
    '  --data-dir DIR    server data directory holding admin.key (env ALTER_DATA_DIR, default ./data)',
    '  --json            machine-readable JSON on stdout',
    '  -h, --help        help',
    '',
    'Get started:',
    '  alter agent create --name my-bot --class data-reader',
    '  alter token --key ./my-bot.jwk.json',
    '',
    "Run 'alter help COMMAND' (e.g. 'alter help agent create') for a command's options.",
  ].join('\n') + '\n';
}

/** `alter agent --help`: the group's commands. */
export function groupHelp(group: string): string {
  const commands = COMMANDS.filter((c) => c.path[0] === group);
  return [
    `alter ${group}: ${GROUPS[group] ?? ''}`,
    '',
    `Usage: alter ${group} COMMAND [options]`,
    '',
    'Commands:',
    ...commandRows(commands),
    '',
    `Run 'alter ${group} COMMAND --help' for a command's options.`,
  ].join('\n') + '\n';
}

/** `alter agent create --help`: usage, description, options, examples. */
export function commandHelp(command: CommandSpec): string {
  const name = `alter ${command.path.join(' ')}`;
  return [
    `Usage: ${name}${command.usage ? ` ${command.usage}` : ''}`,
    '',
    `${command.summary.charAt(0).toUpperCase()}${command.summary.slice(1)}.`,
    ...(command.description ? ['', command.description] : []),
    '',
    'Options:',
    ...optionLines({ ...command.options, ...COMMON_OPTIONS }),
    ...(command.examples?.length ? ['', 'Examples:', ...command.examples.map((e) => `  ${e}`)] : []),
  ].join('\n') + '\n';
}
