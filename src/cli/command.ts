import type { OptionSpecs, OptionValues } from './args.ts';
import type { CliIo } from './io.ts';
import type { Output } from './output.ts';

/** What a command's `run` gets: the parsed command line, the I/O, and an {@link Output}. */
export interface CommandContext {
  io: CliIo;
  values: OptionValues;
  positionals: string[];
  out: Output;
}

/** One leaf command (`agent create`, `token`, ...): its help and its implementation. */
export interface CommandSpec {
  /** Command words, e.g. `['agent', 'create']`. */
  path: readonly string[];
  /** One line for the command list. */
  summary: string;
  /** Arguments after the command words, e.g. `ID` or `--key FILE [options]`. */
  usage: string;
  /** Paragraphs shown by `--help` after the usage line. */
  description?: string;
  /** Positional arguments: their names, in order (all required). */
  positionals?: readonly string[];
  /** The command's options (the common `--json` and `-h` are added for every command). */
  options: OptionSpecs;
  examples?: readonly string[];
  /** Runs the command; resolves to the exit code (0 when nothing is returned). */
  run(ctx: CommandContext): Promise<number | void>;
}
