import { ADMIN_OPTIONS, COMMON_OPTIONS, flagOption, parseCommandArgs, SERVER_OPTIONS, takeCommandWords, wantsHelp, type OptionSpecs } from './args.ts';
import type { CommandSpec } from './command.ts';
import { COMMANDS, GROUPS } from './commands/index.ts';
import { CliError, UsageError } from './errors.ts';
import { commandHelp, groupHelp, mainHelp } from './help.ts';
import type { CliIo } from './io.ts';
import { Output } from './output.ts';
import { cliVersion } from './version.ts';

export type { CliIo } from './io.ts';

const TOP_LEVEL_OPTIONS: OptionSpecs = {
  ...COMMON_OPTIONS,
  version: { type: 'boolean', help: 'print the version' },
  ...SERVER_OPTIONS,
  ...ADMIN_OPTIONS,
};

/** Long options that take a value, in any command: needed to find the command words. */
const VALUE_OPTIONS: ReadonlySet<string> = new Set(
  [TOP_LEVEL_OPTIONS, ...COMMANDS.map((c) => c.options)].flatMap((options) =>
    Object.entries(options).filter(([, spec]) => spec.type === 'string').map(([name]) => name),
  ),
);

function findCommand(words: readonly string[]): CommandSpec | undefined {
  return COMMANDS.find((c) => c.path.length === words.length && c.path.every((w, i) => w === words[i]));
}

/** Wants the command words: one word, a second after a group name, all of them after `help`. */
function wantsMoreWords(words: readonly string[]): boolean {
  if (words.length === 0) return true;
  if (words[0] === 'help') return words.length < 3;
  return words.length === 1 && words[0]! in GROUPS;
}

/** `alter help [TOPIC...]` */
function helpFor(topic: readonly string[]): string {
  if (topic.length === 0) return mainHelp();
  if (topic.length === 1 && topic[0]! in GROUPS) return groupHelp(topic[0]!);
  const command = findCommand(topic);
  if (!command) throw new UsageError(`no command "${topic.join(' ')}"`, { hint: "run 'alter help' for the list of commands" });
  return commandHelp(command);
}

async function dispatch(argv: readonly string[], io: CliIo, onCommand: (path: string) => void): Promise<number> {
  const { words, rest } = takeCommandWords(argv, VALUE_OPTIONS, wantsMoreWords);

  if (words.length === 0) {
    if (wantsHelp(rest)) {
      io.stdout.write(mainHelp());
      return 0;
    }
    const { values, positionals } = parseCommandArgs(rest, TOP_LEVEL_OPTIONS);
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (flagOption(values, 'version')) {
      const version = cliVersion();
      if (flagOption(values, 'json')) io.stdout.write(`${JSON.stringify({ version })}\n`);
      else io.stdout.write(`alter ${version}\n`);
      return 0;
    }
    io.stderr.write(mainHelp());
    return 2;
  }

  if (words[0] === 'help') {
    io.stdout.write(helpFor(words.slice(1)));
    return 0;
  }

  const [first, second] = words as [string, string | undefined];
  if (first in GROUPS) {
    onCommand(first);
    if (second === undefined) {
      if (wantsHelp(rest)) {
        io.stdout.write(groupHelp(first));
        return 0;
      }
      io.stderr.write(`error: "alter ${first}" needs a command\n\n${groupHelp(first)}`);
      return 2;
    }
  }
  const command = findCommand(words);
  if (!command) {
    const known = first in GROUPS ? `run 'alter ${first} --help' for its commands` : "run 'alter help' for the list of commands";
    throw new UsageError(`unknown command "${words.join(' ')}"`, { hint: known });
  }
  onCommand(command.path.join(' '));
  if (wantsHelp(rest)) {
    io.stdout.write(commandHelp(command));
    return 0;
  }

  const { values, positionals } = parseCommandArgs(rest, { ...command.options, ...COMMON_OPTIONS });
  const expected = command.positionals ?? [];
  if (positionals.length > expected.length) throw new UsageError(`unexpected argument "${positionals[expected.length]}"`);
  if (positionals.length < expected.length) throw new UsageError(`missing argument ${expected[positionals.length]}`);
  const out = new Output(io, flagOption(values, 'json'));
  return (await command.run({ io, values, positionals, out })) ?? 0;
}

/**
 * Runs the `alter` command line: `argv` without the node and script paths. Output goes to
 * `io.stdout`, errors to `io.stderr` as `error: …`. Resolves to the exit code: 0 on success, 1
 * when something failed, 2 for a usage error. Never throws.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let commandPath = '';
  try {
    return await dispatch(argv, io, (path) => {
      commandPath = path;
    });
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr.write(`error: ${err.message}\n`);
      if (err.hint) io.stderr.write(`hint: ${err.hint}\n`);
      else if (err instanceof UsageError) io.stderr.write(`Run 'alter ${commandPath ? `${commandPath} ` : ''}--help' for usage.\n`);
      return err.exitCode;
    }
    const error = err as Error;
    io.stderr.write(`error: unexpected failure: ${error.message}\n`);
    if (io.env.ALTER_DEBUG) io.stderr.write(`${error.stack ?? ''}\n`);
    return 1;
  }
}
